import Foundation
import GrusCore
import GrusInference
import GrusNN
import GrusTasks

/// One training step of an MPI job. Every rank builds the same global batch (the same seeded
/// shuffle), takes its contiguous share, runs forward and backward with the whole batch's loss
/// denominators, and the gradients (and the loss) are summed with MPI_Allreduce, so every rank
/// holds the gradient one process would compute for the whole batch and takes the same
/// optimiser step. Dropout and augmentation draw from an RNG seeded by (seed, step, rank):
/// each rank draws its own masks, as with PyTorch's DistributedDataParallel, and a resumed run
/// draws the same ones again.
package final class DataParallel {
    package let parameters: [Parameter]
    private var buffer: [Float] = []

    package init(_ parameters: [Parameter]) { self.parameters = parameters }

    /// Runs `body` on this rank's share of `batch` (it accumulates gradients and returns the
    /// share's loss), then sums gradients and losses over the ranks. Returns the batch's loss.
    package func step(share batch: [Int], rngSeed: UInt64, step: Int,
                      _ body: ([Int], inout RNG) throws -> Float) throws -> Float {
        let mine = Array(batch[Distributed.share(of: batch.count)])
        var rng = RNG(seed: rngSeed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &* 0xBF58_476D_1CE4_E5B9 &+ UInt64(Distributed.rank) &+ 1)
        let loss = mine.isEmpty ? 0 : try body(mine, &rng)
        return allreduce(loss: loss)
    }

    /// Sums every trainable parameter's gradient and `loss` over the ranks, in place.
    /// A row-sparse parameter (an embedding: most of a text model's weights, few rows used per
    /// batch) goes in two rounds: first which rows each rank touched (with the dense gradients),
    /// then only the rows any rank touched, so every rank updates the same rows and the bytes
    /// sent follow the batch, not the vocabulary.
    package func allreduce(loss: Float) -> Float {
        let trained = parameters.filter(\.trainable)
        let sparse = trained.filter(\.rowSparse)
        buffer.removeAll(keepingCapacity: true)
        for p in trained where !p.rowSparse { buffer.append(contentsOf: p.grad.data) }
        for p in sparse {
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: p.value.shape[0]))
            for r in p.touchedRows { buffer[start + r] = 1 }
        }
        buffer.append(loss)
        Distributed.allreduceSum(&buffer)
        var at = 0
        for p in trained where !p.rowSparse {
            copy(from: at, count: p.grad.count, into: p, at: 0)
            at += p.grad.count
        }
        var union: [[Int]] = []
        for p in sparse {
            union.append((0..<p.value.shape[0]).filter { buffer[at + $0] > 0 })
            at += p.value.shape[0]
        }
        let total = buffer[at]
        guard !sparse.isEmpty else { return total }
        // Round two: the union of the touched rows, in row order.
        buffer.removeAll(keepingCapacity: true)
        for (p, rows) in zip(sparse, union) {
            let w = p.rowWidth
            for r in rows { buffer.append(contentsOf: p.grad.data[(r * w)..<((r + 1) * w)]) }
        }
        Distributed.allreduceSum(&buffer)
        at = 0
        for (p, rows) in zip(sparse, union) {
            let w = p.rowWidth
            for r in rows {
                copy(from: at, count: w, into: p, at: r * w)
                p.markRow(r)
                at += w
            }
        }
        return total
    }

    private func copy(from at: Int, count n: Int, into p: Parameter, at offset: Int) {
        p.grad.data.withUnsafeMutableBufferPointer { g in
            buffer.withUnsafeBufferPointer { b in (g.baseAddress! + offset).update(from: b.baseAddress! + at, count: n) }
        }
    }
}
