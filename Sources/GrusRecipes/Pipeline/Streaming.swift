import Foundation
import GrusAudio
import GrusCore
import GrusNN

/// A transcription model run on audio as it arrives (`grus stream`): features frame by frame
/// (Kaldi framing, so the frames are the offline ones), the model's global CMVN, frames stacked
/// as in training, and a unidirectional GRU run over the new steps only, its state carried from
/// chunk to chunk. The running transcript is the greedy decoding of every step so far. Streaming
/// and offline scores are identical for the same audio (a test checks it bit for bit).
public final class TranscriptStream {
    public let sampleRate: Int
    let model: Transcriber
    let labels: [String]
    let features: StreamingFeatures
    let frontEnd: AudioFrontEnd
    let cmvn: CMVNStats?
    let dimension: Int
    /// The GRU's state after the last step; frames waiting for a full stack.
    var state: Tensor?
    var pending: [Float] = []
    /// Greedy decoding so far: the last step's best class, and the tokens.
    var previous = 0
    public private(set) var tokens: [Int] = []
    /// Encoder steps run, and (with `keepScores`) their scores [steps · classes].
    public private(set) var steps = 0
    public var keepScores = false
    public private(set) var scores: [Float] = []

    /// Opens a transcription model (an experiment folder or its model/).
    public init(model path: String) throws {
        let folder = try ModelFolder.locate(path)
        guard folder.task == TranscribeTask.self else {
            throw GrusError.format(path: folder.jsonURL.path, message: "a '\(folder.task.name)' model; grus stream runs transcription (task: transcribe) models")
        }
        let (bundle, m) = try ModelBundle<TranscribeTask>.load(folder)
        guard case let .audio(options, stats, _) = bundle.frontEnd else {
            throw GrusError.format(path: folder.jsonURL.path, message: "a text model; grus stream reads audio")
        }
        guard !m.config.tagger.encoder.bidirectional else {
            throw GrusError.format(path: folder.jsonURL.path, message: "the encoder is bidirectional: it reads each utterance backwards from its end, so it cannot stream; train with model.encoder.bidirectional: false")
        }
        do {
            frontEnd = try AudioFrontEnd(options)
            features = try StreamingFeatures(frontEnd.extractor)
        } catch let e as FeatureOptionsError {
            throw GrusError.format(path: folder.jsonURL.path, message: "these features cannot stream: " + e.problems.map(\.description).joined(separator: "; "))
        }
        model = m
        labels = bundle.labels
        cmvn = stats
        sampleRate = options.frame.sampleRate
        dimension = options.dimension
    }

    /// An audio file's samples at the model's rate (mixed down and resampled as in training).
    public func read(_ path: String) throws -> [Float] { try frontEnd.load(path).samples }

    /// The transcript so far.
    public var text: String { tokens.map { labels[$0] }.joined(separator: " ") }
    /// Seconds of audio turned into frames so far.
    public var seconds: Double { Double(features.frames * features.extractor.options.frame.hopLength) / Double(sampleRate) }

    /// Feeds samples (at `sampleRate`, in [-1, 1]); returns whether the transcript changed.
    @discardableResult
    public func push(_ samples: [Float]) -> Bool {
        var frames = features.push(samples)
        if let s = cmvn { frames = s.apply(frames) }
        pending += frames.data
        return run(final: false)
    }

    /// Ends the stream: a last partial stack of frames is padded with zeros, as offline.
    @discardableResult
    public func finish() -> Bool { run(final: true) }

    func run(final: Bool) -> Bool {
        let k = model.config.stackFrames
        let have = pending.count / dimension
        let stepsNow = final ? (have + k - 1) / k : have / k
        guard stepsNow > 0 else { return false }
        let used = min(have, stepsNow * k)
        // x [S, 1, k·F]: the frames stacked as Transcriber.forward stacks them
        let frames = Tensor(shape: [used, 1, dimension], data: Array(pending.prefix(used * dimension)))
        pending.removeFirst(used * dimension)
        let (logits, next) = model.step(Transcriber.stack(frames, k), state: state)
        state = next
        let c = labels.count, before = tokens.count
        for s in 0..<stepsNow {
            var best = 0
            for j in 1..<c where logits.data[s * c + j] > logits.data[s * c + best] { best = j }
            if best != previous && best != 0 { tokens.append(best) }
            previous = best
        }
        if keepScores { scores += logits.data }
        steps += stepsNow
        return tokens.count != before
    }
}
