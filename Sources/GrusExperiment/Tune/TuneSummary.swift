import Foundation

/// The table of a search: every finished run, the last rung first, best first within a rung.
public struct TuneSummary {
    public var setup: TuneSetup
    public var results: [RungResult]
    public var folder: URL
    /// Runs were left unstarted because the budget was spent.
    public var stoppedByBudget: Bool

    /// The best trial of the furthest rung any trial finished.
    public var best: RungResult? {
        guard let top = results.filter({ $0.score != nil }).map(\.rung).max() else { return nil }
        return results.filter { $0.rung == top && $0.score != nil }.sorted(by: RungResult.better).first
    }

    /// Runs the whole plan holds, and how many finished.
    public var planned: Int { (0..<setup.plan.rungs).reduce(0) { $0 + setup.plan.size($1) } }

    var keys: [String] { setup.space.compactMap { try? SearchedKey.parse($0).key } }
    var isLoss: Bool { setup.metric.contains("loss") }

    public var header: [String] { ["trial", "length"] + keys + ["dev " + setup.metric, "dev loss", "s"] }

    /// Rows without their last column (seconds) are the same for the same seed and plan.
    public var rows: [[String]] {
        results.sorted { a, b in a.rung != b.rung ? a.rung > b.rung : RungResult.better(a, b) }.map { r in
            let t = setup.trials[r.trial]
            let score = r.score.map { isLoss ? String(format: "%.4f", -$0) : String(format: "%.2f", $0 * 100) } ?? "failed"
            return [String(r.trial + 1) + (r.trial == best?.trial && r.rung == best?.rung ? " *" : ""), Tuner.fractionText(setup.plan.fraction(r.rung))]
                + keys.map { t[$0] ?? "—" } + [score, r.loss.map { String(format: "%.4f", $0) } ?? "—", String(format: "%.0f", r.seconds)]
        }
    }

    /// Aligned columns, as `grus compare` prints them.
    public var text: String {
        let table = [header] + rows
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        return table.map { row in
            row.enumerated().map { c, cell in c < 2 || (c < 2 + keys.count)
                ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - cell.count) + cell }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    public var markdown: String {
        let right = Set((2 + keys.count)..<header.count)
        return (["| " + header.joined(separator: " | ") + " |", "|" + header.indices.map { right.contains($0) ? "---:|" : "---|" }.joined()]
            + rows.map { "| " + $0.joined(separator: " | ") + " |" }).joined(separator: "\n") + "\n"
    }
}
