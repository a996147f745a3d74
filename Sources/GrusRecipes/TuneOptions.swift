import Foundation
import GrusCore
import GrusTasks

/// A recipe's `tune` section: what `grus tune` searches, and how much it may spend. Only
/// `grus tune` reads it; `grus run` trains the recipe as written.
public struct TuneOptions: Codable, Equatable {
    public var space: [String], trials: Int, eta: Int, rungs: Int, budget: String, metric: String

    public static let recipeKeys: [String: Field] = [
        "space": Field(.list(.string), default: [] as [String], "the keys searched, each 'KEY=RANGE': 'training.lr=log:0.0003..0.01' (log-uniform), 'model.head.dropout=0..0.5' (uniform), 'model.encoder.layers=int:1..3' (whole numbers), 'model.encoder.hidden=64,128,256' (choices)"),
        "trials": Field.int(9, min: 1, max: 10_000, "settings drawn for the first rung; each rung keeps the best 1/eta of them"),
        "eta": Field.int(3, min: 2, max: 10, "successive halving: each rung keeps 1/eta of the trials and trains them eta times longer"),
        "rungs": Field.int(3, min: 1, max: 10, "successive halving: rungs; the last trains for the recipe's full length, rung k for 1/eta^(rungs-k) of it"),
        "budget": Field(.string, default: "", "wall-clock budget, e.g. '20m', '1h30m', '90s': no trial run starts after it is spent ('' = none)"),
        "metric": Field(.choice([""] + Tasks.devMetrics), default: "", "dev metric that ranks the trials ('' = training.early_stopping.metric, else the task's own)"),
    ]

    /// Seconds in a budget such as "20m", "1h30m", "90s" or "45" (seconds); nil when it is none of these.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !t.isEmpty else { return nil }
        if let s = Double(t), s.isFinite, s > 0 { return s }
        var total = 0.0, number = ""
        for c in t {
            if c.isNumber || c == "." { number.append(c); continue }
            guard let v = Double(number), let unit = ["h": 3600.0, "m": 60, "s": 1][String(c)] else { return nil }
            total += v * unit
            number = ""
        }
        guard number.isEmpty, total > 0, total.isFinite else { return nil }
        return total
    }
}
