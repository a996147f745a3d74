import Foundation
import GrusCore
import GrusData
import GrusNN

/// One tag per step (part-of-speech tags, entity and slot spans): GRU encoder → dropout → linear
/// at every step, softmax cross-entropy over the valid steps, token accuracy and span
/// precision / recall / F1 counted as conlleval counts them.
public struct TagTask: TrainableTask {
    /// Tag indices, one per token.
    public typealias Target = [Int]
    /// Predicted tag indices, one per token.
    public typealias Output = [Int]
    public typealias Model = SequenceTagger
    public typealias Report = TagReport

    public static let info = TaskInfo(name: "tag", summary: "one label per step",
                                      devMetrics: ["span_f1", "token_accuracy", "loss"],
                                      logColumns: ["dev_loss", "dev_token_accuracy", "dev_span_f1"], needsTags: true,
                                      reads: [.crf, .transitionMask, .tagScheme, .characters])

    public let labels: [String]
    package let index: [String: Int]
    package var lossFunction = CrossEntropy()

    public init(labels: [String]) {
        self.labels = labels
        index = labelIndex(labels)
    }

    /// The tags of the training split: "O" first, then in code-point order.
    public static func fromTraining(_ items: [Item], corpus: String) throws -> TagTask {
        let tags = Set(items.flatMap { $0.tags ?? [] })
        guard tags.count >= 2 else { throw CorpusError("\(corpus): the training split has \(tags.count) tag(s); need at least 2") }
        return TagTask(labels: tags.sorted { a, b in a == "O" ? b != "O" : (b == "O" ? false : a < b) })
    }

    /// Span F1 for span tags (B-X, I-X, E-X, S-X); token accuracy for plain tags such as
    /// part-of-speech, where there are no spans to score.
    public var defaultDevMetric: String { hasSpans ? "span_f1" : "token_accuracy" }

    /// Whether the tags mark spans (B-X, I-X, E-X, S-X) rather than plain classes such as parts of speech.
    public var hasSpans: Bool { labels.contains { $0 != "O" && TagScheme.isSpanTag($0) } }

    /// nil when a tag is unknown to the model (the sentence is counted, not scored).
    public func target(_ item: Item) -> [Int]? {
        guard let tags = item.tags else { return nil }
        var out: [Int] = []
        out.reserveCapacity(tags.count)
        for t in tags { guard let i = index[t] else { return nil }; out.append(i) }
        return out
    }

    public func makeModel(_ spec: ModelSpec, rng: inout RNG) -> SequenceTagger {
        SequenceTagger(taggerConfig(spec), rng: &rng)
    }

    /// The tagger's configuration: per-step head, and the CRF with its scheme mask when asked for.
    package func taggerConfig(_ spec: ModelSpec) -> TaggerConfig {
        let head = spec.head
        var config = TaggerConfig(vocabSize: spec.vocabularySize, encoder: spec.encoder, dropout: Float(head.dropout),
                                  numTags: labels.count, crf: head.crf)
        if let alphabet = spec.alphabetSize, head.charDim > 0 {
            let chars = CharEncoderConfig(alphabet: alphabet, dim: head.charDim, hidden: head.charHidden)
            config.chars = chars
            config.encoder.inputSize += chars.outputSize
        }
        let scheme = head.transitionMask == .auto ? (head.tagScheme.scheme ?? TagScheme.detect(spec.trainingTags)) : head.transitionMask.scheme
        if head.crf, let scheme {
            // Transitions that occur in the training tags stay allowed even where the scheme
            // forbids them (ill-formed gold tags would otherwise have an infinite loss).
            var seen = Set<[String]>()
            for tags in spec.trainingTags where !tags.isEmpty {
                seen.insert(["", tags[0]]); seen.insert([tags[tags.count - 1], ""])
                for (a, b) in zip(tags, tags.dropFirst()) { seen.insert([a, b]) }
            }
            config.allowed = labels.flatMap { a in labels.map { b in scheme.allows(a, b) || seen.contains([a, b]) } }
            config.allowedStart = labels.map { scheme.allows(nil, $0) || seen.contains(["", $0]) }
            config.allowedEnd = labels.map { scheme.allows($0, nil) || seen.contains([$0, ""]) }
        }
        return config
    }


    public mutating func configureLoss(_ training: LossOptions, targets: [[Int]]) {
        var weights: [Float]? = nil
        if training.classWeights == .balanced {
            var counts = [Int](repeating: 0, count: labels.count)
            for t in targets { for y in t { counts[y] += 1 } }
            let n = counts.reduce(0, +)
            weights = counts.map { Float(n) / Float(labels.count * max($0, 1)) }
        }
        lossFunction = CrossEntropy(labelSmoothing: Float(training.labelSmoothing), classWeights: weights)
    }

    /// Sentences with a CRF (its loss is a mean per sentence), else weighted tokens.
    public func lossDenominators(_ model: SequenceTagger, _ targets: [[Int]]) -> [Double] { stepDenominators(model.output, targets) }

    /// The step loss's denominator: sentences with a CRF (its loss is a mean per sentence), else weighted tokens.
    package func stepDenominators(_ head: StepHead, _ targets: [[Int]]) -> [Double] {
        [head.crf != nil ? Double(targets.count) : lossFunction.denominator(targets: targets.flatMap { $0 })]
    }

    public func loss(_ model: SequenceTagger, _ batch: SequenceBatch, _ targets: [[Int]], denominators: [Double]?, rng: inout RNG) -> (loss: Float, backward: () -> Void) {
        let logits = model.forward(batch, training: true, rng: &rng)
        let (l, grad) = stepLoss(model.output, logits, lengths: batch.lengths, targets: targets, denominator: denominators?[0])
        return (l, { model.backward(grad) })
    }

    public func outputs(_ model: SequenceTagger, _ batch: SequenceBatch) -> [[Int]] {
        var rng = RNG(seed: 0)
        return decode(model.output, model.forward(batch, training: false, keepForBackward: false, rng: &rng), lengths: batch.lengths)
    }

    /// The per-step loss and dLoss/dLogits [T·B, tags]: the CRF's when the tagger has one,
    /// otherwise softmax cross-entropy over the valid steps. (The joint task's slots use it too.)
    /// `weight` scales the gradients (dLogits and a CRF's transitions) but not the loss.
    package func stepLoss(_ head: StepHead, _ logits: Tensor, lengths: [Int], targets: [[Int]], denominator: Double? = nil,
                          weight: Float = 1) -> (loss: Float, grad: Tensor) {
        if let crf = head.crf {
            let r = crf.loss(logits, lengths: lengths, targets: targets, denominator: denominator, weight: Double(weight))
            return (r.loss, r.dEmissions)
        }
        var (l, g) = stepCrossEntropy(logits, rows: SequenceTagger.validRows(lengths: lengths), targets: targets.flatMap { $0 }, loss: lossFunction,
                                      denominator: denominator)
        if weight != 1 { for i in g.data.indices { g.data[i] *= weight } }
        return (l, g)
    }

    /// Tags from per-step logits [T·B, tags]: Viterbi with a CRF, otherwise the best tag per step.
    package func decode(_ head: StepHead, _ logits: Tensor, lengths: [Int]) -> [[Int]] {
        if let crf = head.crf { return crf.decode(logits, lengths: lengths) }
        let c = labels.count, b = lengths.count
        return lengths.enumerated().map { j, n in
            (0..<n).map { t in
                let row = (t * b + j) * c
                var best = 0
                for k in 1..<c where logits.data[row + k] > logits.data[row + best] { best = k }
                return best
            }
        }
    }

    public func report(_ targets: [[Int]], _ outputs: [[Int]], unknown: [String: Int], topK: Int) -> TagReport {
        let gold = targets.map { $0.map { labels[$0] } }, pred = outputs.map { $0.map { labels[$0] } }
        let s = SpanMetrics.score(gold: gold, predicted: pred)
        let spans = hasSpans
        return TagReport(tokenAccuracy: s.tokenAccuracy, spanPrecision: spans ? s.micro.precision : nil,
                         spanRecall: spans ? s.micro.recall : nil, spanF1: spans ? s.micro.f1 : nil,
                         perType: spans ? s.perType : [:], n: targets.count, unknownLabels: unknown.isEmpty ? nil : unknown)
    }

    /// The tags the model does not know.
    public func unknownLabels(_ item: Item) -> [String] { Array(Set((item.tags ?? []).filter { index[$0] == nil })).sorted() }

    public func predictionRecord(_ output: [Int], topK: Int) -> [String: Any] { ["tags": output.map { labels[$0] }] }

    public func predictionText(_ output: [Int], topK: Int) -> String { output.map { labels[$0] }.joined(separator: " ") }
}

extension SequenceTagger: TaskModel {}

/// A tagging evaluation: `{"token_accuracy", "span_precision", "span_recall", "span_f1",
/// "per_type": {type: {"precision", "recall", "f1", "support"}}, "n"}` (n sentences). Plain tags
/// (parts of speech) have no spans: the span keys are null and per_type is empty.
public struct TagReport: TaskReport, Equatable {
    public var tokenAccuracy: Double
    public var spanPrecision: Double?, spanRecall: Double?, spanF1: Double?
    public var perType: [String: SpanMetrics.Scores]
    public var n: Int
    /// The per-step loss is not kept at evaluation (outputs are tags), so early stopping on loss
    /// uses the training loss for tagging.
    public var loss: Double? = nil
    public var unknownLabels: [String: Int]?
    public var split: String?

    package enum CodingKeys: String, CodingKey {
        case tokenAccuracy = "token_accuracy", spanPrecision = "span_precision", spanRecall = "span_recall", spanF1 = "span_f1"
        case perType = "per_type", n, loss, unknownLabels = "unknown_labels", split
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokenAccuracy, forKey: .tokenAccuracy)
        // null, not absent, for plain tags: scripts read the keys
        try c.encode(spanPrecision, forKey: .spanPrecision)
        try c.encode(spanRecall, forKey: .spanRecall)
        try c.encode(spanF1, forKey: .spanF1)
        try c.encode(perType, forKey: .perType)
        try c.encode(n, forKey: .n)
        try c.encodeIfPresent(loss, forKey: .loss)
        try c.encodeIfPresent(unknownLabels, forKey: .unknownLabels)
        try c.encodeIfPresent(split, forKey: .split)
    }

    public func score(_ metric: String) -> Double? {
        switch metric {
        case "span_f1": return spanF1
        case "token_accuracy": return tokenAccuracy
        case "loss": return loss.map { -$0 }
        default: return nil
        }
    }

    public var logValues: [Double?] { [loss, tokenAccuracy, spanF1] }

    public var summary: String {
        String(format: "token accuracy %.2f%%", 100 * tokenAccuracy) + (spanF1.map { String(format: ", span F1 %.2f%%", 100 * $0) } ?? "")
    }

    public func table(title: String) -> String {
        var out = String(format: "%@: n=%d  token accuracy %.2f%%", title, n, 100 * tokenAccuracy)
        if let p = spanPrecision, let r = spanRecall, let f = spanF1 {
            out += String(format: "  span P %.2f%%  R %.2f%%  F1 %.2f%%", 100 * p, 100 * r, 100 * f)
        }
        return out + "\n" + typeTable + unknownLine(unknownLabels)
    }

    /// Per-type precision, recall, F1 and support, one type a line.
    package var typeTable: String {
        guard !perType.isEmpty else { return "" }
        let w = max(4, perType.keys.map(\.count).max() ?? 4)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var out = pad("type") + "  precision  recall      f1  support\n"
        for (t, s) in perType.sorted(by: { $0.key < $1.key }) {
            out += pad(t) + String(format: "  %9.4f  %6.4f  %6.4f  %7d\n", s.precision, s.recall, s.f1, s.support)
        }
        return out
    }
}

extension TagReport {
    public var figures: [Figure] {
        guard !perType.isEmpty else { return [] }
        let rows = perType.keys.sorted().map { t in
            Figure.BarRow(label: t, values: [perType[t]!.precision, perType[t]!.recall, perType[t]!.f1], note: "\(perType[t]!.support) spans")
        }
        return [.bars(title: "Per span type (conlleval)", series: ["precision", "recall", "F1"], rows: rows)]
    }
}

extension TaggerConfig: ModelConfig {
    public func problems(labels: [String]) -> [String] {
        var out = encoder.problems("architecture.encoder")
        if numTags != labels.count { out.append("architecture.numTags: \(numTags), but there are \(labels.count) labels") }
        let c = numTags
        if let m = allowed, m.count != c * c { out.append("architecture.allowed: \(m.count) entries for \(c) tags (needs \(c * c))") }
        if let m = allowedStart, m.count != c { out.append("architecture.allowedStart: \(m.count) entries for \(c) tags") }
        if let m = allowedEnd, m.count != c { out.append("architecture.allowedEnd: \(m.count) entries for \(c) tags") }
        if let v = vocabSize, !(2...10_000_000).contains(v) { out.append("architecture.vocabSize: must be 2 to 10000000, got \(v)") }
        if let c = chars {
            if vocabSize == nil { out.append("architecture.chars: a character encoder needs a text model") }
            if !(2...10_000_000).contains(c.alphabet) { out.append("architecture.chars.alphabet: must be 2 to 10000000, got \(c.alphabet)") }
            if !(1...1024).contains(c.dim) || !(1...1024).contains(c.hidden) { out.append("architecture.chars: dim and hidden must be 1 to 1024") }
            if !(2...10_000).contains(c.maxLength) { out.append("architecture.chars.maxLength: must be 2 to 10000, got \(c.maxLength)") }
            if embeddingDim < 1 { out.append("architecture.encoder.inputSize: \(encoder.inputSize) leaves no room for the word embedding beside the characters") }
        }
        if !(dropout >= 0 && dropout < 1) { out.append("architecture.dropout: must be in [0, 1), got \(dropout)") }
        return out
    }
    public var inputSize: Int { encoder.inputSize }
    public var vocabularySize: Int? { vocabSize }
    public var alphabetSize: Int? { chars?.alphabet }
}
