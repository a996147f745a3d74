import Foundation
import GrusCore
import GrusNN

/// One training step of an MPI job. Every rank builds the same global batch (the same seeded
/// shuffle), takes its contiguous share, runs forward and backward with the whole batch's loss
/// denominators, and the gradients (and the loss) are summed with MPI_Allreduce, so every rank
/// holds the gradient one process would compute for the whole batch and takes the same
/// optimiser step. Dropout and augmentation draw from an RNG seeded by (seed, step, rank):
/// each rank draws its own masks, as with PyTorch's DistributedDataParallel, and a resumed run
/// draws the same ones again.
final class DataParallel {
    let parameters: [Parameter]
    private var buffer: [Float] = []

    init(_ parameters: [Parameter]) { self.parameters = parameters }

    /// Runs `body` on this rank's share of `batch` (it accumulates gradients and returns the
    /// share's loss), then sums gradients and losses over the ranks. Returns the batch's loss.
    func step(share batch: [Int], of examples: [Example], rngSeed: UInt64, step: Int,
              _ body: ([Int], inout RNG) throws -> Float) throws -> Float {
        let mine = Array(batch[Distributed.share(of: batch.count)])
        var rng = RNG(seed: rngSeed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &* 0xBF58_476D_1CE4_E5B9 &+ UInt64(Distributed.rank) &+ 1)
        let loss = mine.isEmpty ? 0 : try body(mine, &rng)
        return allreduce(loss: loss)
    }

    /// Sums every trainable parameter's gradient and `loss` over the ranks, in place. A
    /// row-sparse parameter (an embedding) also sends which rows it touched, so that every rank
    /// updates the rows any rank touched.
    func allreduce(loss: Float) -> Float {
        let trained = parameters.filter(\.trainable)
        buffer.removeAll(keepingCapacity: true)
        for p in trained {
            buffer.append(contentsOf: p.grad.data)
            if p.rowSparse {
                var rows = [Float](repeating: 0, count: p.value.shape[0])
                for r in p.touchedRows { rows[r] = 1 }
                buffer.append(contentsOf: rows)
            }
        }
        buffer.append(loss)
        Distributed.allreduceSum(&buffer)
        var at = 0
        for p in trained {
            let n = p.grad.count
            p.grad.data.withUnsafeMutableBufferPointer { g in
                buffer.withUnsafeBufferPointer { b in g.baseAddress!.update(from: b.baseAddress! + at, count: n) }
            }
            at += n
            if p.rowSparse {
                for r in 0..<p.value.shape[0] where buffer[at + r] > 0 { p.markRow(r) }
                at += p.value.shape[0]
            }
        }
        return buffer[at]
    }
}
