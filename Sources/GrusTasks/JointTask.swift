import Foundation
import GrusCore
import GrusData
import GrusNN

/// Joint intent detection and slot filling (ATIS, SNIPS): one encoder, an intent per sentence
/// and a slot tag per token. The loss is `intent_weight` × intent cross-entropy +
/// (1 − `intent_weight`) × the slot loss (per-step cross-entropy, or the CRF's).
/// model.json's labels are the intents as "intent=X" followed by the tags as "tag=Y".
public struct JointTask: TrainableTask {
    public struct Target { public var intent: Int; public var tags: [Int] }
    public struct Output: Codable { public var intent: [Float]; public var tags: [Int] }
    public typealias Model = JointModel
    public typealias Report = JointReport

    public static let info = TaskInfo(name: "joint", summary: "an intent per sequence and a slot tag per step",
                                      devMetrics: ["sentence_accuracy", "span_f1", "intent_accuracy", "token_accuracy", "loss"],
                                      logColumns: ["dev_intent_accuracy", "dev_span_f1", "dev_sentence_accuracy"], needsTags: true,
                                      reads: [.pooling, .crf, .transitionMask, .tagScheme, .characters])

    public let labels: [String]
    /// The intent and slot halves; each keeps its own loss settings.
    package var intents: ClassifyTask
    package var slots: TagTask
    package var intentWeight: Float = 0.5

    public init(labels: [String]) {
        self.labels = labels
        intents = ClassifyTask(labels: labels.filter { $0.hasPrefix("intent=") }.map { String($0.dropFirst(7)) })
        slots = TagTask(labels: labels.filter { $0.hasPrefix("tag=") }.map { String($0.dropFirst(4)) })
    }

    public static func fromTraining(_ items: [Item], corpus: String) throws -> JointTask {
        let i = try ClassifyTask.fromTraining(items, corpus: corpus), t = try TagTask.fromTraining(items, corpus: corpus)
        return JointTask(labels: i.labels.map { "intent=" + $0 } + t.labels.map { "tag=" + $0 })
    }

    public func target(_ item: Item) -> Target? {
        guard let i = intents.target(item), let t = slots.target(item) else { return nil }
        return Target(intent: i, tags: t)
    }

    public func makeModel(_ spec: ModelSpec, rng: inout RNG) -> JointModel {
        JointModel(JointConfig(tagger: slots.taggerConfig(spec), pooling: spec.head.pooling, numIntents: intents.labels.count), rng: &rng)
    }


    public mutating func configureLoss(_ training: LossOptions, targets: [Target]) {
        intentWeight = Float(training.intentWeight)
        intents.configureLoss(training, targets: targets.map(\.intent))
        slots.configureLoss(training, targets: targets.map(\.tags))
    }

    public func lossDenominators(_ model: JointModel, _ targets: [Target]) -> [Double] {
        [intents.lossFunction.denominator(targets: targets.map(\.intent))] + slots.stepDenominators(model.slots, targets.map(\.tags))
    }

    /// w · intent loss + (1 − w) · slot loss; the slot weight reaches a CRF's transitions too.
    public func loss(_ model: JointModel, _ batch: SequenceBatch, _ targets: [Target], denominators: [Double]?, rng: inout RNG) -> (loss: Float, backward: () -> Void) {
        let (intentLogits, slotLogits) = model.forward(batch, training: true, rng: &rng)
        let w = intentWeight
        let (li, gi, _) = intents.lossFunction(intentLogits, targets: targets.map(\.intent), denominator: denominators?[0])
        let (ls, gs) = slots.stepLoss(model.slots, slotLogits, lengths: batch.lengths, targets: targets.map(\.tags),
                                      denominator: denominators?[1], weight: 1 - w)
        return (w * li + (1 - w) * ls, {
            model.backward(intent: Tensor(shape: gi.shape, data: gi.data.map { $0 * w }), slots: gs)
        })
    }

    public func outputs(_ model: JointModel, _ batch: SequenceBatch) -> [Output] {
        var rng = RNG(seed: 0)
        let (intentLogits, slotLogits) = model.forward(batch, training: false, keepForBackward: false, rng: &rng)
        let probs = softmax(intentLogits), k = probs.shape[1]
        let tags = slots.decode(model.slots, slotLogits, lengths: batch.lengths)
        return (0..<batch.size).map { j in Output(intent: Array(probs.data[(j * k)..<((j + 1) * k)]), tags: tags[j]) }
    }
    public func report(_ targets: [Target], _ outputs: [Output], unknown: [String: Int], topK: Int) -> JointReport {
        let i = intents.report(targets.map(\.intent), outputs.map(\.intent), unknown: [:], topK: topK)
        let s = slots.report(targets.map(\.tags), outputs.map(\.tags), unknown: [:], topK: topK)
        let whole = zip(targets, outputs).filter { t, o in
            t.tags == o.tags && t.intent == o.intent.indices.max { o.intent[$0] < o.intent[$1] }!
        }.count
        var joint = JointReport(intentAccuracy: i.accuracy, sentenceAccuracy: targets.isEmpty ? 0 : Double(whole) / Double(targets.count), slots: s)
        joint.unknownLabels = unknown.isEmpty ? nil : unknown
        return joint
    }

    /// The intent ("intent=X") and tags ("tag=Y") the model does not know.
    public func unknownLabels(_ item: Item) -> [String] {
        (intents.target(item) == nil ? ["intent=" + item.label] : []) + slots.unknownLabels(item).map { "tag=" + $0 }
    }

    public func predictionRecord(_ o: Output, topK: Int) -> [String: Any] {
        var r = intents.predictionRecord(o.intent, topK: topK)
        r["intent"] = r.removeValue(forKey: "prediction")
        r["tags"] = o.tags.map { slots.labels[$0] }
        return r
    }

    public func predictionText(_ o: Output, topK: Int) -> String {
        intents.predictionText(o.intent, topK: topK) + "\t" + slots.predictionText(o.tags, topK: topK)
    }
}

extension JointModel: TaskModel {}

/// A joint evaluation: the tagging keys of `TagReport` plus `intent_accuracy` and
/// `sentence_accuracy` (intent and every slot tag right), in one flat JSON object.
public struct JointReport: TaskReport, Equatable {
    public var intentAccuracy: Double, sentenceAccuracy: Double
    /// The slots' evaluation; its keys are written beside the intent's.
    public var slots: TagReport

    public var n: Int { slots.n }
    public var loss: Double? { slots.loss }
    public var unknownLabels: [String: Int]? { get { slots.unknownLabels } set { slots.unknownLabels = newValue } }
    public var split: String? { get { slots.split } set { slots.split = newValue } }

    package enum CodingKeys: String, CodingKey { case intentAccuracy = "intent_accuracy", sentenceAccuracy = "sentence_accuracy" }

    public init(intentAccuracy: Double, sentenceAccuracy: Double, slots: TagReport) {
        self.intentAccuracy = intentAccuracy
        self.sentenceAccuracy = sentenceAccuracy
        self.slots = slots
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        intentAccuracy = try c.decode(Double.self, forKey: .intentAccuracy)
        sentenceAccuracy = try c.decode(Double.self, forKey: .sentenceAccuracy)
        slots = try TagReport(from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try slots.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(intentAccuracy, forKey: .intentAccuracy)
        try c.encode(sentenceAccuracy, forKey: .sentenceAccuracy)
    }

    public func score(_ metric: String) -> Double? {
        switch metric {
        case "sentence_accuracy": return sentenceAccuracy
        case "intent_accuracy": return intentAccuracy
        default: return slots.score(metric)
        }
    }

    public var logValues: [Double?] { [intentAccuracy, slots.spanF1, sentenceAccuracy] }

    public var summary: String {
        String(format: "intent %.2f%%, ", 100 * intentAccuracy)
            + (slots.spanF1.map { String(format: "slot F1 %.2f%%, ", 100 * $0) } ?? String(format: "slot tokens %.2f%%, ", 100 * slots.tokenAccuracy))
            + String(format: "sentence %.2f%%", 100 * sentenceAccuracy)
    }

    public func table(title: String) -> String {
        var out = String(format: "%@: n=%d  intent accuracy %.2f%%", title, n, 100 * intentAccuracy)
        if let p = slots.spanPrecision, let r = slots.spanRecall, let f = slots.spanF1 {
            out += String(format: "  slot F1 %.2f%% (P %.2f%%, R %.2f%%)", 100 * f, 100 * p, 100 * r)
        }
        out += String(format: "  sentence accuracy %.2f%%  token accuracy %.2f%%\n", 100 * sentenceAccuracy, 100 * slots.tokenAccuracy)
        return out + slots.typeTable + unknownLine(unknownLabels)
    }
}

extension JointReport {
    public var figures: [Figure] { slots.figures }
}

extension JointConfig: ModelConfig {
    public func problems(labels: [String]) -> [String] {
        let task = JointTask(labels: labels)
        var out = tagger.problems(labels: task.slots.labels)
        if numIntents != task.intents.labels.count { out.append("architecture.numIntents: \(numIntents), but there are \(task.intents.labels.count) intents") }
        return out
    }
    public var inputSize: Int { tagger.encoder.inputSize }
    public var vocabularySize: Int? { tagger.vocabSize }
    public var alphabetSize: Int? { tagger.chars?.alphabet }
}
