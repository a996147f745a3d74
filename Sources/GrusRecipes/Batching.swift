import GrusCore

/// Batches of example indices. With bucketing, a seeded shuffle is followed by sorting within
/// windows of 50 batches by length, so each batch holds similar lengths (little padding), and the
/// batch order is shuffled again. The same seed gives the same batches.
public func makeBatches(lengths: [Int], indices: [Int], batchSize: Int, bucket: Bool, rng: inout RNG) -> [[Int]] {
    var order = indices
    rng.shuffle(&order)
    if bucket {
        let window = batchSize * 50
        var sorted: [Int] = []
        for start in stride(from: 0, to: order.count, by: window) {
            let chunk = order[start..<min(start + window, order.count)]
            sorted += chunk.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        }
        order = sorted
    }
    var batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
    if bucket { rng.shuffle(&batches) }
    return batches
}

/// Learning rate at a step: linear warm-up, then constant, step decay or cosine to `minLR`.
/// (Reduce-on-plateau is applied by the trainer after each evaluation.)
public struct LRSchedule {
    public var base: Double, kind: String, warmup: Int, stepEpochs: Int, gamma: Double, minLR: Double, totalSteps: Int, stepsPerEpoch: Int

    public func rate(step: Int) -> Double {
        if warmup > 0 && step < warmup { return base * Double(step + 1) / Double(warmup) }
        switch kind {
        case "step": return max(minLR, base * pow(gamma, Double(step / max(1, stepsPerEpoch * stepEpochs))))
        case "cosine":
            let t = Double(step - warmup) / Double(max(1, totalSteps - warmup))
            return minLR + (base - minLR) * 0.5 * (1 + cos(Double.pi * min(1, t)))
        default: return base
        }
    }
}

import Foundation
