import Foundation

/// A task's evaluation result: printed as tables, written as JSON (metrics.json, `grus eval --report`).
public protocol TaskReport: Codable {
    var n: Int { get }
    /// Mean loss per example, when known.
    var loss: Double? { get }
    /// Labels the model does not know, counted and left out of the scores.
    var unknownLabels: [String: Int]? { get set }
    /// Which split was evaluated, when it was one of a corpus's splits.
    var split: String? { get set }
    /// A dev metric to maximise (a loss is returned negated); nil when the task does not report it.
    func score(_ metric: String) -> Double?
    /// Values of the task's `logColumns`.
    var logValues: [Double?] { get }
    /// One line for the epoch log: "dev loss 0.1, dev accuracy 98.00%, ...".
    var summary: String { get }
    func table(title: String) -> String
    /// What report.html draws for the task, beside the learning curves.
    var figures: [Figure] { get }
}

/// A task's figure in report.html, as data; GrusReports draws it.
public enum Figure {
    /// Rows are true labels, columns predicted; counts.
    case confusion(title: String, labels: [String], matrix: [[Int]])
    /// One group of bars per row (values in 0...1, one per series), with a note (the support).
    case bars(title: String, series: [String], rows: [BarRow])
    /// Named counts as bars.
    case counts(title: String, items: [(String, Int)])

    public struct BarRow { public var label: String; public var values: [Double]; public var note: String }
}

extension TaskReport {
    public var figures: [Figure] { [] }

    /// Pretty, sorted JSON.
    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}

/// The line naming labels the model does not know, with the number of examples each occurs in.
package func unknownLine(_ unknown: [String: Int]?) -> String {
    guard let u = unknown, !u.isEmpty else { return "" }
    let listed = u.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10)
        .map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
    return "labels unknown to the model, with the examples they occur in (those examples are not scored): \(listed)\(u.count > 10 ? ", ..." : "")\n"
}
