import Foundation

/// Classification metrics, as printed tables and as JSON:
/// `{"accuracy", "macro_f1", "micro_f1", "top_k": {"k", "accuracy"}, "per_class": {label: {"precision", "recall", "f1", "support"}},
///  "confusion": {"labels", "matrix"}, "n"}`. Rows of the confusion matrix are true labels.
public struct Metrics: Codable, Equatable {
    public struct ClassScores: Codable, Equatable {
        public var precision: Double, recall: Double, f1: Double, support: Int
    }
    public struct TopK: Codable, Equatable { public var k: Int; public var accuracy: Double }
    public struct Confusion: Codable, Equatable { public var labels: [String]; public var matrix: [[Int]] }

    public var accuracy: Double
    public var macroF1: Double
    public var microF1: Double
    public var topK: TopK
    public var perClass: [String: ClassScores]
    public var confusion: Confusion
    public var n: Int
    /// Mean cross-entropy, when known.
    public var loss: Double?
    /// Examples whose label the model does not know (counted, left out of the scores).
    public var unknownLabels: [String: Int]?
    /// The split evaluated (metrics.json says which).
    public var split: String?

    package enum CodingKeys: String, CodingKey {
        case accuracy, macroF1 = "macro_f1", microF1 = "micro_f1", topK = "top_k", perClass = "per_class", confusion, n, loss
        case unknownLabels = "unknown_labels", split
    }

    /// `scores[i]` are class probabilities for example i, `truth[i]` its class index.
    public static func compute(labels: [String], truth: [Int], scores: [[Float]], k: Int, loss: Double? = nil) -> Metrics {
        let c = labels.count, n = truth.count
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: c), count: c)
        var topHits = 0
        let kk = min(max(1, k), max(1, c))
        for (i, t) in truth.enumerated() {
            let s = scores[i]
            var best = 0
            for j in 1..<c where s[j] > s[best] { best = j }
            confusion[t][best] += 1
            // Rank of the true class: how many classes score strictly higher.
            let higher = s.filter { $0 > s[t] }.count
            if higher < kk { topHits += 1 }
        }
        var per: [String: ClassScores] = [:]
        var f1Sum = 0.0
        var correct = 0
        for j in 0..<c {
            let tp = confusion[j][j]
            correct += tp
            let predicted = (0..<c).reduce(0) { $0 + confusion[$1][j] }
            let support = confusion[j].reduce(0, +)
            let p = predicted > 0 ? Double(tp) / Double(predicted) : 0
            let r = support > 0 ? Double(tp) / Double(support) : 0
            let f = p + r > 0 ? 2 * p * r / (p + r) : 0
            per[labels[j]] = ClassScores(precision: p, recall: r, f1: f, support: support)
            f1Sum += f
        }
        let acc = n > 0 ? Double(correct) / Double(n) : 0
        return Metrics(accuracy: acc, macroF1: c > 0 ? f1Sum / Double(c) : 0, microF1: acc,
                       topK: TopK(k: kk, accuracy: n > 0 ? Double(topHits) / Double(n) : 0),
                       perClass: per, confusion: Confusion(labels: labels, matrix: confusion), n: n, loss: loss)
    }

    /// Aligned text tables: the summary, per-class scores and the confusion matrix.
    public func table(title: String) -> String {
        var out = "\(title): n=\(n)  accuracy \(pct(accuracy))  macro-F1 \(pct(macroF1))  micro-F1 \(pct(microF1))  top-\(topK.k) \(pct(topK.accuracy))"
        if let loss { out += String(format: "  loss %.4f", loss) }
        out += "\n"
        let labels = confusion.labels
        let w = max(5, labels.map(\.count).max() ?? 5)
        func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        out += pad("label", w) + "  precision  recall      f1  support\n"
        for l in labels {
            let s = perClass[l]!
            out += pad(l, w) + String(format: "  %9.4f  %6.4f  %6.4f  %7d\n", s.precision, s.recall, s.f1, s.support)
        }
        let cw = max(4, labels.map(\.count).max() ?? 4, confusion.matrix.flatMap { $0 }.map { String($0).count }.max() ?? 1)
        out += "confusion (rows: true, columns: predicted)\n" + pad("", w) + labels.map { " " + pad($0, cw) }.joined() + "\n"
        for (i, row) in confusion.matrix.enumerated() {
            out += pad(labels[i], w) + row.map { " " + pad(String($0), cw) }.joined() + "\n"
        }
        if let u = unknownLabels, !u.isEmpty {
            out += "labels unknown to the model (not scored): " + u.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + "\n"
        }
        return out
    }

    package func pct(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
}

extension Metrics {
    public var figures: [Figure] {
        let rows = confusion.labels.compactMap { l in
            perClass[l].map { Figure.BarRow(label: l, values: [$0.precision, $0.recall, $0.f1], note: "support \($0.support)") }
        }
        return [.confusion(title: "Confusion matrix (rows: true label, columns: predicted)", labels: confusion.labels, matrix: confusion.matrix),
                .bars(title: "Per class", series: ["precision", "recall", "F1"], rows: rows)]
    }
}
