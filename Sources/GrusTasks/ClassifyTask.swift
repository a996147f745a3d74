import Foundation
import GrusCore
import GrusData
import GrusNN

/// One label per sequence (speech commands, sentiment, intents): GRU encoder → pooling over the
/// valid steps → dropout → linear, softmax cross-entropy, accuracy / F1 / top-k / confusion.
public struct ClassifyTask: TrainableTask, AveragingTask {
    public typealias Target = Int
    /// Class probabilities.
    public typealias Output = [Float]
    public typealias Model = SequenceClassifier
    public typealias Report = Metrics

    public static let info = TaskInfo(name: "classify", summary: "one label per sequence",
                                      devMetrics: ["accuracy", "macro_f1", "loss"],
                                      logColumns: ["dev_loss", "dev_accuracy", "dev_macro_f1"], needsTags: false,
                                      reads: [.pooling, .poolWindow])

    public let labels: [String]
    package let index: [String: Int]
    package var lossFunction = CrossEntropy()

    public init(labels: [String]) {
        self.labels = labels
        index = labelIndex(labels)
    }

    /// Labels of the training split, numbers in numeric order, others in code-point order.
    public static func fromTraining(_ items: [Item], corpus: String) throws -> ClassifyTask {
        // An empty label (a blank cell, or an intent that is missing, null or "") is no class.
        let unlabelled = items.filter { $0.label.trimmingCharacters(in: .whitespaces).isEmpty }
        if let first = unlabelled.first {
            throw CorpusError("\(first.origin): no label (an empty, null or missing label or intent)"
                              + (unlabelled.count > 1 ? "; \(unlabelled.count) training examples have none" : "")
                              + "; give every training example its label, or leave the example out")
        }
        let labels = Array(Set(items.map(\.label))).sorted { a, b in
            if let x = Int(a), let y = Int(b) { return x < y }
            return a < b
        }
        guard labels.count >= 2 else { throw CorpusError("\(corpus): the training split has \(labels.count) label(s); need at least 2") }
        return ClassifyTask(labels: labels)
    }

    public func target(_ item: Item) -> Int? { index[item.label] }

    public func makeModel(_ spec: ModelSpec, rng: inout RNG) -> SequenceClassifier {
        var config = ClassifierConfig(vocabSize: spec.vocabularySize, encoder: spec.encoder, pooling: spec.head.pooling,
                                      dropout: Float(spec.head.dropout), numClasses: labels.count)
        if spec.head.poolWindow > 0 { config.poolWindow = spec.head.poolWindow }
        return SequenceClassifier(config, rng: &rng)
    }


    public mutating func configureLoss(_ training: LossOptions, targets: [Int]) {
        var weights: [Float]? = nil
        if training.classWeights == .balanced {
            var counts = [Int](repeating: 0, count: labels.count)
            for t in targets { counts[t] += 1 }
            weights = counts.map { Float(targets.count) / Float(labels.count * max($0, 1)) }
        }
        lossFunction = CrossEntropy(labelSmoothing: Float(training.labelSmoothing), classWeights: weights)
    }

    public func lossDenominators(_ model: SequenceClassifier, _ targets: [Int]) -> [Double] { [lossFunction.denominator(targets: targets)] }

    public func loss(_ model: SequenceClassifier, _ batch: SequenceBatch, _ targets: [Int], denominators: [Double]?, rng: inout RNG) -> (loss: Float, backward: () -> Void) {
        let logits = model.forward(batch, training: true, rng: &rng)
        let (l, grad, _) = lossFunction(logits, targets: targets, denominator: denominators?[0])
        return (l, { model.backward(grad) })
    }

    public func outputs(_ model: SequenceClassifier, _ batch: SequenceBatch) -> [[Float]] {
        let probs = model.predict(batch)
        let c = probs.shape[1]
        return (0..<batch.size).map { j in Array(probs.data[(j * c)..<((j + 1) * c)]) }
    }

    public func scores(_ model: SequenceClassifier, _ batch: SequenceBatch) -> [[Float]] { outputs(model, batch) }
    public func output(averaged p: [Float], model: SequenceClassifier) -> [Float] { p }

    public func report(_ targets: [Int], _ outputs: [[Float]], unknown: [String: Int], topK: Int) -> Metrics {
        var nll = 0.0
        for (t, p) in zip(targets, outputs) { nll -= Foundation.log(max(Double(p[t]), 1e-12)) }
        var m = Metrics.compute(labels: labels, truth: targets, scores: outputs, k: topK,
                                loss: targets.isEmpty || !nll.isFinite ? nil : nll / Double(targets.count))
        if !unknown.isEmpty { m.unknownLabels = unknown }
        return m
    }

    public func predictionRecord(_ p: [Float], topK: Int) -> [String: Any] {
        let top = ranked(p, topK)
        // A diverged model's NaN probabilities are written as null (JSON has no NaN).
        func prob(_ x: Float) -> Any { x.isFinite ? Double(x) : NSNull() }
        var record: [String: Any] = ["prediction": labels[top[0]], "probability": prob(p[top[0]])]
        if topK > 1 { record["top_k"] = top.map { ["label": labels[$0], "probability": prob(p[$0])] } }
        return record
    }

    public func predictionText(_ p: [Float], topK: Int) -> String {
        ranked(p, topK).map { String(format: "%@ %.4f", labels[$0] as NSString, p[$0]) }.joined(separator: "\t")
    }

    /// Class indices by falling probability (ties: lower index first), the first k.
    package func ranked(_ p: [Float], _ k: Int) -> [Int] {
        Array(p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }.prefix(max(1, k)))
    }
}

extension SequenceClassifier: TaskModel {}

extension Metrics: TaskReport {
    public func score(_ metric: String) -> Double? {
        switch metric {
        case "accuracy": return accuracy
        case "macro_f1": return macroF1
        case "loss": return loss.map { -$0 }
        default: return nil
        }
    }

    public var logValues: [Double?] { [loss, accuracy, macroF1] }

    public var summary: String {
        String(format: "loss %.4f, accuracy %.2f%%, macro-F1 %.2f%%", loss ?? .nan, 100 * accuracy, 100 * macroF1)
    }
}

extension ClassifierConfig: ModelConfig {
    public func problems(labels: [String]) -> [String] {
        problems(labels: labels.count)
    }
    public var inputSize: Int { encoder.inputSize }
    public var vocabularySize: Int? { vocabSize }
}
