import Foundation
import GrusAudio
import GrusCore
import GrusNN
import GrusTasks

/// A transcription model run on audio as it arrives (`grus stream`): features frame by frame
/// (Kaldi framing, so the frames are the offline ones), the model's global CMVN, frames stacked
/// as in training, and a unidirectional GRU run over the new steps only, its state carried from
/// chunk to chunk. The running transcript is the greedy decoding of every step so far. Streaming
/// and offline scores are identical for the same audio (a test checks it bit for bit).
public final class TranscriptStream {
    /// The rate `push` takes samples at (the model's).
    public let sampleRate: Int
    package let model: Transcriber
    package let labels: [String]
    package let features: StreamingFeatures
    package let frontEnd: AudioFrontEnd
    package let cmvn: CMVNStats?
    package let dimension: Int
    /// The GRU's state after the last step; frames waiting for a full stack.
    package var state: Tensor?
    package var pending: [Float] = []
    /// Greedy decoding so far: the last step's best class, and the tokens.
    package var previous = 0
    /// The transcript so far, as label indices (`text` spells it).
    public private(set) var tokens: [Int] = []
    /// Encoder steps run, and (with `keepScores`) their scores [steps · classes].
    public private(set) var steps = 0
    /// Whether to keep every step's scores in `scores` (for comparing with offline decoding).
    public var keepScores = false
    /// The scores of every step so far, [steps · classes], when `keepScores`.
    public private(set) var scores: [Float] = []

    /// Opens a transcription model (an experiment folder or its model/).
    public init(model path: String) throws {
        let opened = try StreamingModel<TranscribeTask>(path, needs: "grus stream runs transcription (task: transcribe) models")
        guard !opened.model.config.tagger.encoder.bidirectional else {
            throw GrusError.format(path: opened.json, message: "the encoder is bidirectional: it reads each utterance backwards from its end, so it cannot stream; train with model.encoder.bidirectional: false")
        }
        model = opened.model
        labels = opened.bundle.labels
        frontEnd = opened.frontEnd
        features = opened.features
        cmvn = opened.cmvn
        sampleRate = opened.options.frame.sampleRate
        dimension = opened.options.dimension
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
        take(features.push(samples))
        return run(final: false)
    }

    /// Frames from the front end, normalised, wait for the next steps.
    package func take(_ computed: Tensor) {
        var frames = computed
        if let s = cmvn { frames = s.apply(frames) }
        pending += frames.data
    }

    /// Ends the stream: the frames still waiting for their deltas' look-ahead, then a last
    /// partial stack of frames padded with zeros, as offline.
    @discardableResult
    public func finish() -> Bool {
        take(features.finish())
        return run(final: true)
    }

    package func run(final: Bool) -> Bool {
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

extension TranscribeTask: StreamingTask {
    /// Transcription models grow a transcript.
    public static let streamKind = StreamKind.transcript
}
