import Foundation
import GrusAudio
import GrusCore
import GrusNN
import GrusTasks

/// Keyword spotting on a classification model (`grus stream` with a classify model): as audio
/// arrives, every `hop` frames the model classifies the last `window` frames (the length of its
/// training clips, so each decision sees what training saw), the posteriors are averaged over the
/// last `smooth` decisions, and a keyword (any label not starting with "_", so `_silence_` and
/// `_unknown_` are fillers) is detected when its smoothed posterior reaches the threshold, at
/// least `refractory` frames after the previous detection.
public final class KeywordStream {
    /// A keyword heard: the window it was decided on (seconds from the stream's start), its label
    /// and smoothed posterior.
    public struct Detection: Codable, Equatable {
        public var start: Double, end: Double, label: String, score: Double
    }

    /// How a decision is made: `window` classifies the last window afresh (what training saw);
    /// `state` runs a unidirectional encoder once per frame, carrying its state through the
    /// whole stream, and pools its outputs over the last window (one GRU step per frame).
    public enum Mode: String, CaseIterable, Sendable { case window, state }

    /// The rate `push` takes samples at (the model's).
    public let sampleRate: Int
    /// The model's labels; those starting with "_" are fillers, never detected.
    public let labels: [String]
    package let classify: ([Float], Int) -> [Float]
    package let features: StreamingFeatures
    package let frontEnd: AudioFrontEnd
    package let cmvn: CMVNStats?
    package let dimension: Int
    package let frameSeconds: Double
    /// Frames a decision sees, frames between decisions, decisions averaged, and the fewest
    /// frames between two detections.
    public let window: Int, hop: Int, smooth: Int, refractory: Int
    /// The smoothed posterior a keyword needs.
    public var threshold: Double
    /// Window or state decisions.
    public let mode: Mode
    /// Window mode: CMVN-applied frames, the last `window` of them. State mode: the encoder's
    /// outputs for the last `window` frames, and its state.
    package var recent: [Float] = []
    package var encoderState: Tensor?
    package var stateStep: (([Float], Int) -> [Float])?
    package var poolHead: (([Float], Int) -> [Float])?
    package var sinceDecision = 0
    /// Every decision so far: its time (seconds, at the window's end) and smoothed posteriors.
    public private(set) var decisions: [(time: Double, posteriors: [Float])] = []
    package var raw: [[Float]] = []
    package var lastDetection = -Int.max / 2
    /// Every detection so far.
    public private(set) var detections: [Detection] = []

    /// `windowMs`: the model's clip length (1000 for Speech Commands); `hopMs`: how often to decide.
    public init(model path: String, threshold: Double = 0.8, windowMs: Int = 1000, hopMs: Int = 100, smooth: Int = 3, refractoryMs: Int = 1000,
                mode: Mode = .window) throws {
        let opened = try StreamingModel<ClassifyTask>(path, needs: "keyword spotting needs a classification model")
        if mode == .state && opened.model.config.encoder.bidirectional {
            throw GrusError.format(path: opened.json, message: "--mode state carries a unidirectional encoder's state; this encoder is bidirectional (use --mode window)")
        }
        self.mode = mode
        let (m, options, bundle, stats) = (opened.model, opened.options, opened.bundle, opened.cmvn)
        frontEnd = opened.frontEnd
        features = opened.features
        labels = bundle.labels
        cmvn = stats
        sampleRate = options.frame.sampleRate
        dimension = options.dimension
        let shiftMs = options.frame.frameShiftMs
        frameSeconds = shiftMs / 1000
        // A window of w ms holds 1 + (w − frame length) / shift frames, as an offline clip of w ms.
        window = max(1, 1 + Int((Double(windowMs) - options.frame.frameLengthMs) / shiftMs))
        hop = max(1, Int((Double(hopMs) / shiftMs).rounded()))
        self.smooth = max(1, smooth)
        refractory = Int((Double(refractoryMs) / shiftMs).rounded())
        self.threshold = threshold
        classify = { frames, count in
            let batch = SequenceBatch(features: Tensor(shape: [count, 1, options.dimension], data: frames), lengths: [count])
            return m.predict(batch).data
        }
        if mode == .state {
            let width = m.config.encoder.outputSize
            outputWidth = width
            stateStep = { [unowned self] frames, count in
                var rng = RNG(seed: 0)
                let x = Tensor(shape: [count, 1, options.dimension], data: frames)
                let (out, hN) = m.encoder.forward(x, lengths: [count], h0: self.encoderState, training: false, keepForBackward: false, rng: &rng)
                self.encoderState = hN
                return out.data
            }
            poolHead = { outputs, count in
                // pooled [1, D·H] over the window's outputs, then the head and a softmax
                var pooled = [Float](repeating: m.config.pooling == .max ? -.infinity : 0, count: width)
                switch m.config.pooling {
                case .mean: for t in 0..<count { for j in 0..<width { pooled[j] += outputs[t * width + j] / Float(count) } }
                case .max: for t in 0..<count { for j in 0..<width { pooled[j] = max(pooled[j], outputs[t * width + j]) } }
                case .last: pooled = Array(outputs[((count - 1) * width)..<(count * width)])
                }
                return softmax(m.head.forwardRows(Tensor(shape: [1, width], data: pooled))).data
            }
        }
    }
    package var outputWidth = 0

    /// An audio file's samples at the model's rate.
    public func read(_ path: String) throws -> [Float] { try frontEnd.load(path).samples }
    /// Seconds of audio turned into frames so far.
    public var seconds: Double { Double(features.frames) * frameSeconds }

    /// Feeds samples; returns the detections they completed.
    public func push(_ samples: [Float]) -> [Detection] { consume(features.push(samples)) }

    /// Ends the stream: the frames still waiting for their deltas' look-ahead.
    public func finish() -> [Detection] { consume(features.finish()) }

    package func consume(_ computed: Tensor) -> [Detection] {
        var frames = computed
        if let s = cmvn { frames = s.apply(frames) }
        var found: [Detection] = []
        // State mode: one encoder step per new frame, state carried; the window holds outputs.
        let rows = mode == .state && frames.shape[0] > 0 ? stateStep!(frames.data, frames.shape[0]) : frames.data
        let width = mode == .state ? outputWidth : dimension
        for f in 0..<frames.shape[0] {
            recent += rows[(f * width)..<((f + 1) * width)]
            if recent.count > window * width { recent.removeFirst(width) }
            sinceDecision += 1
            guard recent.count == window * width, sinceDecision >= hop else { continue }
            sinceDecision = 0
            raw.append(mode == .state ? poolHead!(recent, window) : classify(recent, window))
            if raw.count > smooth { raw.removeFirst() }
            var avg = [Float](repeating: 0, count: labels.count)
            for p in raw { for j in avg.indices { avg[j] += p[j] / Float(raw.count) } }
            let frame = features.frames - (frames.shape[0] - 1 - f)
            let time = Double(frame) * frameSeconds
            decisions.append((time, avg))
            if let d = detect(avg, frame: frame, time: time) { found.append(d) }
        }
        detections += found
        return found
    }

    package func detect(_ p: [Float], frame: Int, time: Double) -> Detection? {
        guard frame - lastDetection >= refractory, let d = keyword(p, time: time, threshold: threshold) else { return nil }
        lastDetection = frame
        return d
    }

    /// The best keyword (not a "_" filler) of smoothed posteriors, if it reaches the threshold.
    package func keyword(_ p: [Float], time: Double, threshold t: Double) -> Detection? {
        var best = -1
        for j in labels.indices where !labels[j].hasPrefix("_") && (best < 0 || p[j] > p[best]) { best = j }
        guard best >= 0, Double(p[best]) >= t else { return nil }
        return Detection(start: max(0, time - Double(window) * frameSeconds), end: time, label: labels[best], score: Double(p[best]))
    }

    /// The detections the recorded decisions give at another threshold (same smoothing and
    /// refractory period), for a curve over thresholds.
    public func detections(threshold t: Double) -> [Detection] {
        var out: [Detection] = [], last = -Double.infinity
        for (time, p) in decisions where time - last >= Double(refractory) * frameSeconds - 1e-9 {
            guard let d = keyword(p, time: time, threshold: t) else { continue }
            last = time
            out.append(d)
        }
        return out
    }

    /// Scores detections against keywords at known times: a keyword is found when a detection of
    /// its label ends within `tolerance` seconds after the keyword ends (and not before it
    /// starts); every other detection is a false alarm.
    public static func score(_ found: [Detection], truth: [(start: Double, end: Double, label: String)], tolerance: Double = 1.0,
                             seconds: Double) -> (recall: Double, falseAlarmsPerHour: Double, hits: Int, falseAlarms: Int) {
        var used = [Bool](repeating: false, count: found.count), hits = 0
        for k in truth {
            if let i = found.indices.first(where: { !used[$0] && found[$0].label == k.label && found[$0].end >= k.start && found[$0].end <= k.end + tolerance }) {
                used[i] = true
                hits += 1
            }
        }
        let fa = used.filter { !$0 }.count
        return (truth.isEmpty ? 0 : Double(hits) / Double(truth.count), seconds > 0 ? Double(fa) / (seconds / 3600) : 0, hits, fa)
    }
}

extension ClassifyTask: StreamingTask {
    /// Classification models spot keywords.
    public static let streamKind = StreamKind.keywords
}
