import Foundation
import GrusAudio
import GrusData
import GrusTasks

/// What a model says of one input, for any task: the fields `grus predict --json` writes, and
/// the same as typed values.
public struct Prediction {
    /// `grus predict --json`'s record (without the input's name).
    public let record: [String: Any]
    /// `grus predict`'s plain line.
    public let text: String

    /// A prediction from a task's record and plain line.
    public init(record: [String: Any], text: String) {
        self.record = record
        self.text = text
    }

    /// The best label (classify), or nil.
    public var label: String? { record["prediction"] as? String }
    /// The intent (joint), or nil.
    public var intent: String? { record["intent"] as? String }
    /// The probability of `label` or `intent`.
    public var probability: Double? { record["probability"] as? Double }
    /// The best labels with their probabilities, best first (classify and joint with top-k > 1).
    public var alternatives: [(label: String, probability: Double)] {
        (record["top_k"] as? [[String: Any]] ?? []).compactMap { e in
            guard let l = e["label"] as? String, let p = e["probability"] as? Double else { return nil }
            return (l, p)
        }
    }
    /// A tag per token (tag and joint), or nil.
    public var tags: [String]? { record["tags"] as? [String] }
    /// The transcript, tokens separated by spaces (transcribe), or nil.
    public var transcript: String? { record["text"] as? String }
}

extension LoadedModel {
    /// The rate audio models read (nil for text models); other rates are resampled to it.
    public var sampleRate: Int? {
        if case let .audio(options, _, _) = frontEnd { return options.frame.sampleRate }
        return nil
    }

    /// Labels one input: an audio file's path (audio models) or a text (text models).
    public func label(_ input: String, topK: Int = 1) throws -> Prediction {
        var result: Result<(text: String, record: [String: Any]), Error>?
        predict(AnySequence([(input: input, origin: input)]), topK: topK) { _, r in result = r }
        let r = try result!.get()
        return Prediction(record: r.record, text: r.text)
    }
}

extension Predictor {
    package func label(samples: [Float], sampleRate rate: Int, topK: Int) throws -> Prediction {
        guard case let .audio(options, _, maxSeconds) = bundle.frontEnd else {
            throw CorpusError("a \(T.name) model of text: give it text (label(_:)), not samples")
        }
        let own = options.frame.sampleRate
        guard rate > 0 else { throw AudioError.invalidSamples(path: "<samples>", reason: "sample rate \(rate) Hz") }
        var x = rate == own ? samples : ResamplerCache.shared.resampler(from: rate, to: own).process(samples)
        if maxSeconds > 0 { x = Array(x.prefix(Int(maxSeconds * Double(own)))) }
        guard x.count >= options.frame.windowLength else {
            throw AudioError.invalidSamples(path: "<samples>", reason: "too short: \(x.count) samples at \(own) Hz, one frame needs \(options.frame.windowLength)")
        }
        let example = audioExample(Item(input: "<samples>", label: "", split: .test, origin: "<samples>"), samples: x)
        let o = try outputs([example])[0]
        return Prediction(record: task.predictionRecord(o, topK: topK), text: task.predictionText(o, topK: topK))
    }
}
