import Foundation
import GrusRecipes
import GrusTasks
import GrusTrain

/// `grus compare EXP...`: one row per run with the recipe keys that differ between the runs, the
/// final metrics (mean ± standard deviation for a `--seeds` folder), the parameter count, the
/// training time and the training throughput.
public struct RunComparison {
    public var runs: [RunSummary]

    public init(_ runs: [RunSummary]) { self.runs = runs }

    /// Keys whose values differ between the runs. A folder's own name and place are left out, and
    /// so are keys some runs' recipes lack (options added by a later Grus).
    public var differingKeys: [String] {
        let ignored: Set<String> = ["experiment.name", "experiment.out", "training.log_every", "training.threads"]
        let keys = runs.dropFirst().reduce(Set(runs.first?.recipe.keys.map { $0 } ?? [])) { $0.intersection($1.recipe.keys) }.subtracting(ignored)
        return keys.filter { k in Set(runs.map { $0.recipe[k]! }).count > 1 }.sorted()
    }

    /// Metrics at least one run reports, main ones first.
    public var metricKeys: [String] {
        Set(runs.flatMap { $0.metrics.keys }).sorted(by: RunComparison.metricOrder)
    }

    /// Accuracy-like metrics first, losses last, the rest alphabetically between.
    package static func metricOrder(_ a: String, _ b: String) -> Bool {
        let first = ["accuracy", "intent_accuracy", "slot_f1", "f1", "sentence_accuracy", "token_error_rate", "sequence_accuracy", "macro_f1", "micro_f1"]
        func rank(_ k: String) -> Int { first.firstIndex(of: k) ?? (k.contains("loss") ? 1000 : 500) }
        return (rank(a), a) < (rank(b), b)
    }

    public var header: [String] {
        ["run"] + differingKeys + metricKeys + ["parameters", "train s", "seq/s"]
    }

    public var rows: [[String]] {
        runs.map { r in
            let metrics = metricKeys.map { k -> String in
                guard let v = r.metrics[k] else { return "—" }
                let scale = k.contains("loss") ? 1.0 : 100.0, digits = k.contains("loss") ? 4 : 2
                let spread = r.spread[k].map { String(format: " ± %.\(digits)f", $0 * scale) } ?? ""
                return String(format: "%.\(digits)f", v * scale) + spread
            }
            let t = r.training
            return [r.folder + (r.seeds > 1 ? " (\(r.seeds) seeds)" : "")] + differingKeys.map { r.recipe[$0] ?? "—" } + metrics
                + [t.map { String($0.parameters) } ?? "—", t.map { String(format: "%.1f", $0.trainSeconds) } ?? "—",
                   t.map { String(format: "%.0f", $0.sequencesPerSecond) } ?? "—"]
        }
    }

    /// Aligned columns for a terminal. Metrics other than losses are percentages.
    public var text: String {
        let table = [header] + rows
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        return table.map { row in
            row.enumerated().map { c, cell in c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                                                     : String(repeating: " ", count: widths[c] - cell.count) + cell }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }

    public var markdown: String {
        let esc: (String) -> String = { $0.replacingOccurrences(of: "|", with: "\\|") }
        return (["| " + header.map(esc).joined(separator: " | ") + " |",
                 "|" + header.indices.map { $0 == 0 ? "---" : "---:" }.joined(separator: "|") + "|"]
                + rows.map { "| " + $0.map(esc).joined(separator: " | ") + " |" }).joined(separator: "\n")
    }

    /// Per run: folder, seeds, the differing keys' values, metrics (fractions, as metrics.json
    /// has them), their spreads, and the training figures.
    public func json() throws -> Data {
        let list: [[String: Any]] = runs.map { r in
            var d: [String: Any] = ["folder": r.folder, "seeds": r.seeds, "metrics": r.metrics,
                                    "recipe": Dictionary(uniqueKeysWithValues: differingKeys.map { ($0, (r.recipe[$0] as Any?) ?? NSNull()) })]
            if !r.spread.isEmpty { d["std"] = r.spread }
            if let t = r.training {
                d["parameters"] = t.parameters
                d["train_seconds"] = t.trainSeconds
                d["sequences_per_second"] = t.sequencesPerSecond
            }
            return d
        }
        return try JSONSerialization.data(withJSONObject: ["differing_keys": differingKeys, "runs": list], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
