import Foundation
import GrusCore
import GrusInference
import GrusNN
import GrusTasks

/// Training progress saved with every checkpoint.
package struct TrainState: Codable {
    package var epoch = 0
    package var step = 0
    package var best: Double? = nil
    /// The lowest dev loss so far (nil before the first evaluation, or without a dev split).
    package var bestLoss: Double? = nil
    /// The dev loss of the best checkpoint, which breaks ties on the score.
    package var bestCheckpointLoss: Double? = nil
    package var badEpochs = 0
    package var rng = RNG(seed: 0)
    package var baseLR = 0.0

    /// Records an epoch's dev score (higher is better) and dev loss; returns whether this epoch
    /// makes the best checkpoint. It does when the score beats the best by more than `minDelta`,
    /// or when it ties the best (equal, or above it by no more than `minDelta`) with a lower dev
    /// loss: a small dev split's accuracy moves in coarse steps and often ties.
    ///
    /// Early stopping and the plateau schedule count the epochs in which neither the score nor
    /// the dev loss improved: the loss still shows the model learning when the score is flat. An
    /// epoch that ends inside the warm-up (`step` ≤ `warmupSteps`) is not counted: the learning
    /// rate was still rising.
    package mutating func judge(score: Double, loss: Double?, warmupSteps: Int, minDelta: Double = 0) -> Bool {
        let finiteLoss = loss.flatMap { $0.isFinite ? $0 : nil }
        var improved = true
        if let b = best {
            let tie = score >= b && score <= b + minDelta
            improved = score > b + minDelta || (tie && finiteLoss != nil && (bestCheckpointLoss.map { finiteLoss! < $0 } ?? true))
        }
        if improved {
            best = max(best ?? score, score)
            bestCheckpointLoss = finiteLoss
        }
        var lossImproved = false
        if let l = finiteLoss, bestLoss == nil || l < bestLoss! {
            bestLoss = l
            lossImproved = true
        }
        if improved || lossImproved {
            badEpochs = 0
        } else if step > warmupSteps {
            badEpochs += 1
        }
        return improved
    }
}

/// checkpoints/last.safetensors: weights, optimiser state (`optimizer.` prefix) and the
/// training state as metadata; checkpoints/best.safetensors: the best weights. Both atomic.
package enum Checkpoint {
    package static func saveLast(model: Module, optimizer: Optimizer, state: TrainState, to dir: URL) throws {
        var tensors = model.stateDict()
        for (k, v) in optimizer.state() { tensors["optimizer." + k] = v }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let meta = String(decoding: try enc.encode(state), as: UTF8.self)
        try Safetensors.save(tensors, metadata: ["grus_train_state": meta], to: dir.appendingPathComponent("last.safetensors"))
    }

    package static func saveBest(model: Module, to dir: URL) throws {
        try Safetensors.save(model.stateDict(), metadata: ["format": "pt"], to: dir.appendingPathComponent("best.safetensors"))
    }

    package static func loadBest(into model: Module, from dir: URL) throws {
        let url = dir.appendingPathComponent("best.safetensors")
        try model.loadStateDict(try Safetensors.load(url).tensors, source: url.path)
    }

    /// checkpoints/epoch-N.safetensors: the weights after epoch N, kept for training.average_last.
    package static func saveEpoch(_ epoch: Int, model: Module, to dir: URL) throws {
        try Safetensors.save(model.stateDict(), metadata: ["format": "pt"], to: dir.appendingPathComponent("epoch-\(epoch).safetensors"))
    }

    /// Loads the mean of the weights saved after `epochs` into the model (the epochs whose files
    /// exist; at least one must). Returns the epochs averaged.
    package static func loadAverage(of epochs: ClosedRange<Int>, into model: Module, from dir: URL) throws -> [Int] {
        var sum: [String: [Double]] = [:], used: [Int] = []
        var shapes: [String: [Int]] = [:]
        for e in epochs {
            let url = dir.appendingPathComponent("epoch-\(e).safetensors")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            for (k, t) in try Safetensors.load(url).tensors {
                shapes[k] = t.shape
                var acc = sum[k] ?? [Double](repeating: 0, count: t.count)
                for i in 0..<t.count { acc[i] += Double(t.data[i]) }
                sum[k] = acc
            }
            used.append(e)
        }
        guard !used.isEmpty else { throw GrusError.io(path: dir.path, message: "no epoch weights to average (epoch-N.safetensors)") }
        let n = Double(used.count)
        let mean = Dictionary(uniqueKeysWithValues: sum.map { k, v in (k, Tensor(shape: shapes[k]!, data: v.map { Float($0 / n) })) })
        try model.loadStateDict(mean, source: dir.path)
        return used
    }

    package static func loadLast(from dir: URL, model: Module, optimizer: Optimizer) throws -> TrainState? {
        let url = dir.appendingPathComponent("last.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let (tensors, meta) = try Safetensors.load(url)
        guard let s = meta["grus_train_state"], let state = try? JSONDecoder().decode(TrainState.self, from: Data(s.utf8)) else {
            throw GrusError.format(path: url.path, message: "checkpoint has no training state")
        }
        try model.loadStateDict(tensors.filter { !$0.key.hasPrefix("optimizer.") }, source: url.path)
        try optimizer.load(state: Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("optimizer.") }.map { (String($0.key.dropFirst(10)), $0.value) }))
        return state
    }
}
