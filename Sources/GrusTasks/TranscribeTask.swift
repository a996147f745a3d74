import Foundation
import GrusCore
import GrusData
import GrusNN

/// An unaligned label string per sequence (connected digits, phones, words): a GRU encoder, a
/// linear layer per step to the blank and the tokens, CTC loss, greedy or beam decoding. The
/// transcript is the item's label, tokens separated by spaces ("3 1 4"). model.json's labels are
/// "<blank>" followed by the tokens.
public struct TranscribeTask: TrainableTask, AveragingTask {
    /// Token indices (1 ...; 0 is the blank).
    public typealias Target = [Int]
    /// Decoded token indices.
    public typealias Output = [Int]
    public typealias Model = Transcriber
    public typealias Report = TranscribeReport

    public static let info = TaskInfo(name: "transcribe", summary: "a label string per sequence, unaligned (CTC)",
                                      devMetrics: ["token_error_rate", "sequence_accuracy", "loss"],
                                      logColumns: ["dev_loss", "dev_token_error_rate", "dev_sequence_accuracy"], needsTags: false,
                                      reads: [.stackFrames], stratifiedDev: false)
    public static let blank = "<blank>"
    /// CTC's +∞ is a transcript its (augmented) audio became too short for, not a divergence.
    public static let infiniteLossAdvice: String? = "a transcript in this batch needs more steps than its augmented audio has; set training.ctc_zero_infinity: true to count it as zero, or narrow frontend.audio.augment.speeds"

    public let labels: [String]
    package let index: [String: Int]
    package var ctc = CTCLoss(zeroInfinity: true)

    public init(labels: [String]) {
        self.labels = labels
        index = labelIndex(labels)
    }

    /// A transcript's tokens.
    public static func tokens(_ transcript: String) -> [String] { transcript.split(whereSeparator: \.isWhitespace).map(String.init) }

    /// The blank, then the training transcripts' tokens in code-point order.
    public static func fromTraining(_ items: [Item], corpus: String) throws -> TranscribeTask {
        let tokens = Set(items.flatMap { TranscribeTask.tokens($0.label) })
        guard !tokens.isEmpty else { throw CorpusError("\(corpus): the training split has no transcripts (the label column holds them, tokens separated by spaces)") }
        guard !tokens.contains(blank) else { throw CorpusError("\(corpus): '\(blank)' is the blank symbol; no transcript may use it") }
        return TranscribeTask(labels: [blank] + tokens.sorted())
    }

    public func target(_ item: Item) -> [Int]? {
        let ids = TranscribeTask.tokens(item.label).map { index[$0] }
        guard !ids.isEmpty, ids.allSatisfy({ $0 != nil && $0 != 0 }) else { return nil }
        return ids.map { $0! }
    }

    /// The transcript's tokens the model does not know (or "<empty>" for an empty transcript).
    public func unknownLabels(_ item: Item) -> [String] {
        let toks = TranscribeTask.tokens(item.label)
        if toks.isEmpty { return ["<empty>"] }
        return Array(Set(toks.filter { index[$0] == nil || $0 == TranscribeTask.blank })).sorted()
    }

    public func makeModel(_ spec: ModelSpec, rng: inout RNG) -> Transcriber {
        let stack = spec.vocabularySize == nil ? spec.head.stackFrames : 1
        var encoder = spec.encoder
        encoder.inputSize *= stack
        let tagger = TaggerConfig(vocabSize: spec.vocabularySize, encoder: encoder, dropout: Float(spec.head.dropout), numTags: labels.count)
        return Transcriber(TranscriberConfig(tagger: tagger, stackFrames: stack, beamWidth: spec.beamWidth), rng: &rng)
    }

    public mutating func configureLoss(_ training: LossOptions, targets: [[Int]]) {
        ctc = CTCLoss(zeroInfinity: training.ctcZeroInfinity)
    }

    public func lossDenominators(_ model: Transcriber, _ targets: [[Int]]) -> [Double] { [Double(targets.count)] }

    public func loss(_ model: Transcriber, _ batch: SequenceBatch, _ targets: [[Int]], denominators: [Double]?, rng: inout RNG) -> (loss: Float, backward: () -> Void) {
        let (logits, lengths) = model.forward(batch, training: true, rng: &rng)
        let (l, grad, _) = ctc(logits, lengths: lengths, targets: targets, denominator: denominators?[0])
        return (l, { model.backward(grad) })
    }

    public func outputs(_ model: Transcriber, _ batch: SequenceBatch) -> [[Int]] {
        var rng = RNG(seed: 0)
        let (logits, lengths) = model.forward(batch, training: false, keepForBackward: false, rng: &rng)
        return model.decode(logits, lengths: lengths)
    }

    /// Per-step posteriors [steps × C] of each sequence.
    public func scores(_ model: Transcriber, _ batch: SequenceBatch) -> [[Float]] {
        var rng = RNG(seed: 0)
        let (logits, lengths) = model.forward(batch, training: false, keepForBackward: false, rng: &rng)
        let probs = softmax(logits), c = probs.shape[1], b = lengths.count
        var out: [[Float]] = []
        for (j, n) in lengths.enumerated() {
            var rows: [Float] = []
            rows.reserveCapacity(n * c)
            for t in 0..<n { let r = (t * b + j) * c; rows += probs.data[r..<(r + c)] }
            out.append(rows)
        }
        return out
    }

    /// Decodes averaged posteriors (their logarithms are scores whose softmax they are).
    public func output(averaged p: [Float], model: Transcriber) -> [Int] {
        let c = labels.count
        let logits = Tensor(shape: [p.count / c, c], data: p.map { Foundation.log(max($0, 1e-30)) })
        return model.decode(logits, lengths: [p.count / c])[0]
    }

    /// Too short an input for its transcript: the fewest steps the transcript needs, against the
    /// steps the model gets from `frames` frames.
    public func inputProblem(_ item: Item, frames: Int, stack: Int) -> String? {
        if TranscribeTask.tokens(item.label).isEmpty { return "an empty transcript" }
        guard let t = target(item) else { return nil }
        let need = CTCLoss.minimumSteps(t), have = (frames + stack - 1) / stack
        guard have < need else { return nil }
        return "a transcript of \(t.count) tokens needs at least \(need) steps; the input gives \(have)" + (stack > 1 ? " (\(frames) frames stacked by \(stack))" : "")
    }

    public func report(_ targets: [[Int]], _ outputs: [[Int]], unknown: [String: Int], topK: Int) -> TranscribeReport {
        var edits = EditCounts(), reference = 0, right = 0
        for (t, o) in zip(targets, outputs) {
            let e = EditCounts.align(reference: t, hypothesis: o)
            edits.substitutions += e.substitutions; edits.deletions += e.deletions; edits.insertions += e.insertions
            reference += t.count
            if t == o { right += 1 }
        }
        return TranscribeReport(tokenErrorRate: reference > 0 ? Double(edits.total) / Double(reference) : 0,
                                sequenceAccuracy: targets.isEmpty ? 0 : Double(right) / Double(targets.count),
                                substitutions: edits.substitutions, deletions: edits.deletions, insertions: edits.insertions,
                                referenceTokens: reference, n: targets.count, unknownLabels: unknown.isEmpty ? nil : unknown)
    }

    public func predictionRecord(_ output: [Int], topK: Int) -> [String: Any] { ["text": predictionText(output, topK: topK)] }

    public func predictionText(_ output: [Int], topK: Int) -> String { output.map { labels[$0] }.joined(separator: " ") }
}

extension Transcriber: TaskModel {}

/// A transcription evaluation: `{"token_error_rate", "sequence_accuracy", "substitutions",
/// "deletions", "insertions", "reference_tokens", "n"}` (n sequences; the error rate is the edits
/// over the reference tokens).
public struct TranscribeReport: TaskReport, Equatable {
    public var tokenErrorRate: Double, sequenceAccuracy: Double
    public var substitutions: Int, deletions: Int, insertions: Int, referenceTokens: Int
    public var n: Int
    public var loss: Double? = nil
    public var unknownLabels: [String: Int]?
    public var split: String?

    package enum CodingKeys: String, CodingKey {
        case tokenErrorRate = "token_error_rate", sequenceAccuracy = "sequence_accuracy", substitutions, deletions, insertions
        case referenceTokens = "reference_tokens", n, loss, unknownLabels = "unknown_labels", split
    }

    public func score(_ metric: String) -> Double? {
        switch metric {
        case "token_error_rate": return -tokenErrorRate
        case "sequence_accuracy": return sequenceAccuracy
        case "loss": return loss.map { -$0 }
        default: return nil
        }
    }

    public var logValues: [Double?] { [loss, tokenErrorRate, sequenceAccuracy] }

    public var summary: String {
        String(format: "token error rate %.2f%%, sequence accuracy %.2f%%", 100 * tokenErrorRate, 100 * sequenceAccuracy)
    }

    public func table(title: String) -> String {
        String(format: "%@: n=%d  token error rate %.2f%% (%d substitutions, %d deletions, %d insertions in %d tokens)  sequence accuracy %.2f%%\n",
               title, n, 100 * tokenErrorRate, substitutions, deletions, insertions, referenceTokens, 100 * sequenceAccuracy)
            + unknownLine(unknownLabels)
    }
}

extension TranscribeReport {
    public var figures: [Figure] {
        [.counts(title: "Errors against \(referenceTokens) reference tokens", items: [("substitutions", substitutions), ("deletions", deletions), ("insertions", insertions)])]
    }
}

extension TranscriberConfig: ModelConfig {
    public func problems(labels: [String]) -> [String] {
        var out = tagger.problems(labels: labels)
        if !(1...16).contains(stackFrames) { out.append("architecture.stackFrames: must be 1 to 16, got \(stackFrames)") }
        if !(0...256).contains(beamWidth) { out.append("architecture.beamWidth: must be 0 to 256, got \(beamWidth)") }
        if labels.first != TranscribeTask.blank { out.append("labels: the first must be \(TranscribeTask.blank)") }
        if tagger.crf == true { out.append("architecture.tagger.crf: a transcriber has no CRF") }
        return out
    }
    /// Features per frame (before stacking), or the embedding size for text.
    public var inputSize: Int { tagger.encoder.inputSize / (tagger.vocabSize == nil ? stackFrames : 1) }
    public var vocabularySize: Int? { tagger.vocabSize }
    public var alphabetSize: Int? { tagger.chars?.alphabet }
}
