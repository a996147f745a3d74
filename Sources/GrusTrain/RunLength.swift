import Foundation

/// How long a run trains, resolved from the recipe and the size of the training split.
///
/// A recipe written for 85,000 clips says 20 epochs: 26,000 optimiser steps. On 376 clips the
/// same 20 epochs are 120 steps, and the model has barely started. So a recipe may also give a
/// floor and a ceiling in optimiser steps (`training.min_steps`, `training.max_steps`), which
/// raise or lower the epochs, and a patience in steps (`early_stopping.patience_steps`), which
/// raises the patience in epochs. Schedules (warm-up, cosine) run over the resolved length.
public struct RunLength: Equatable, Sendable {
    public var examples: Int, batchSize: Int, stepsPerEpoch: Int
    /// Epochs to run, and epochs without a dev improvement before stopping (0 = never).
    public var epochs: Int, patience: Int
    /// Why: the log's line, e.g. "376 examples, 6 steps an epoch: …".
    public var reason: String

    public var steps: Int { epochs * stepsPerEpoch }

    public static func resolve(_ o: TrainingOptions, examples: Int) -> RunLength {
        let spe = max(1, (examples + o.batchSize - 1) / o.batchSize)
        var epochs = o.epochs
        var why: [String] = []
        if o.minSteps > 0 && epochs * spe < o.minSteps {
            epochs = (o.minSteps + spe - 1) / spe
            why.append("training.min_steps \(grouped(o.minSteps)) = \(grouped(epochs)) epochs (\(grouped(epochs * spe)) steps), not training.epochs \(o.epochs)")
        }
        if o.maxSteps > 0 && epochs * spe > o.maxSteps {
            epochs = max(1, o.maxSteps / spe)
            why.append("training.max_steps \(grouped(o.maxSteps)) = \(grouped(epochs)) epochs (\(grouped(epochs * spe)) steps)")
        }
        if why.isEmpty { why.append("\(grouped(epochs)) epochs = \(grouped(epochs * spe)) steps") }
        let es = o.earlyStopping
        var patience = es.patience
        if es.patienceSteps > 0 {
            patience = max(patience, (es.patienceSteps + spe - 1) / spe)
        }
        if patience > 0 {
            let byStep = es.patienceSteps > 0 && patience > es.patience
            why.append("stop when dev stalls for \(grouped(patience)) epochs"
                       + (byStep ? " (early_stopping.patience_steps \(grouped(es.patienceSteps)))" : ""))
        }
        let head = "\(grouped(examples)) examples, \(grouped(spe)) step\(spe == 1 ? "" : "s") an epoch of \(o.batchSize): "
        return RunLength(examples: examples, batchSize: o.batchSize, stepsPerEpoch: spe, epochs: epochs, patience: patience,
                         reason: head + why.joined(separator: "; "))
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
