import Foundation
import GrusTasks

/// Learning rate at a step: linear warm-up, then constant, step decay or cosine to `minLR`.
/// (Reduce-on-plateau is applied by the trainer after each evaluation, by lowering `base`.)
public struct LRSchedule {
    public var base: Double, kind: ScheduleKind, warmup: Int, stepEpochs: Int, gamma: Double, minLR: Double, totalSteps: Int, stepsPerEpoch: Int

    public init(base: Double, kind: ScheduleKind, warmup: Int, stepEpochs: Int, gamma: Double, minLR: Double, totalSteps: Int, stepsPerEpoch: Int) {
        self.base = base; self.kind = kind; self.warmup = warmup; self.stepEpochs = stepEpochs
        self.gamma = gamma; self.minLR = minLR; self.totalSteps = totalSteps; self.stepsPerEpoch = stepsPerEpoch
    }

    /// The schedule a recipe describes for a run of `epochs` × `stepsPerEpoch` steps. The warm-up
    /// is given in steps, epochs or as a share of the run, and capped at `max_warmup_fraction` of
    /// the run, so a warm-up written for a large corpus cannot outlast a run on a small one.
    public init(_ s: ScheduleOptions, lr: Double, epochs: Int, stepsPerEpoch: Int) {
        let total = epochs * stepsPerEpoch
        self.init(base: lr, kind: s.type, warmup: LRSchedule.warmupSteps(s, stepsPerEpoch: stepsPerEpoch, totalSteps: total).steps,
                  stepEpochs: s.stepEpochs, gamma: s.gamma, minLR: s.minLr, totalSteps: total, stepsPerEpoch: stepsPerEpoch)
    }

    /// Warm-up steps, and whether the cap shortened them.
    public static func warmupSteps(_ s: ScheduleOptions, stepsPerEpoch: Int, totalSteps: Int) -> (steps: Int, capped: Bool) {
        var w = s.warmupSteps
        if s.warmupEpochs > 0 { w = Int((s.warmupEpochs * Double(stepsPerEpoch)).rounded()) }
        if s.warmupFraction > 0 { w = Int((s.warmupFraction * Double(totalSteps)).rounded()) }
        if s.maxWarmupFraction > 0 {
            let cap = Int(s.maxWarmupFraction * Double(totalSteps))
            if w > cap { return (cap, true) }
        }
        return (w, false)
    }

    public func rate(step: Int) -> Double {
        if warmup > 0 && step < warmup { return base * Double(step + 1) / Double(warmup) }
        switch kind {
        case .step: return max(minLR, base * pow(gamma, Double(step / max(1, stepsPerEpoch * stepEpochs))))
        case .cosine:
            let t = Double(step - warmup) / Double(max(1, totalSteps - warmup))
            return minLR + (base - minLR) * 0.5 * (1 + cos(Double.pi * min(1, t)))
        case .constant, .plateau: return base
        }
    }
}
