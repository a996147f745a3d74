import XCTest
import GrusCore
@testable import GrusNN

/// Embedding gradients are row-sparse: zeroGrad and clipping visit only the rows a batch used,
/// which must not change any result; lazy updates (opt-in) leave unused rows alone.
final class SparseEmbeddingTests: XCTestCase {
    let batches: [[Int]] = [[2, 3, 3, 0], [3, 4, 0, 0], [5, 2, 4, 1], [1, 1, 1, 1]]

    /// One step's output gradient, fixed by the step number.
    func dy(_ step: Int, _ n: Int, _ dim: Int) -> Tensor {
        var rng = RNG(seed: UInt64(100 + step))
        return Tensor(shape: [n, dim], data: (0..<(n * dim)).map { _ in 3 * rng.normal() })
    }

    func testSparseBookkeepingMatchesADenseParameterExactly() {
        for optimizerKind in ["adam", "sgd"] {
            var rng = RNG(seed: 1)
            let emb = Embedding(vocabSize: 7, dim: 5, paddingIndex: 0, rng: &rng)
            let dense = Parameter("w", emb.weight.value)   // an ordinary parameter given the same gradients
            XCTAssertTrue(emb.weight.rowSparse)
            XCTAssertFalse(dense.rowSparse)
            func make(_ p: Parameter) -> Optimizer {
                optimizerKind == "adam" ? Adam([p], learningRate: 0.05, weightDecay: 0.01) : SGD([p], learningRate: 0.05, momentum: 0.9)
            }
            let a = make(emb.weight), b = make(dense)
            var row5BeforeLastStep: [Float] = []
            for (step, ids) in batches.enumerated() {
                row5BeforeLastStep = Array(emb.weight.value.data[25..<30])
                emb.weight.zeroGrad(); dense.zeroGrad()
                _ = emb.forward(ids, shape: [ids.count])
                let g = dy(step, ids.count, 5)
                emb.backward(g)
                // The dense gradient, written out independently.
                for (i, id) in ids.enumerated() where id != 0 { for j in 0..<5 { dense.grad[id, j] += g[i, j] } }
                XCTAssertEqual(emb.weight.grad.data, dense.grad.data, "step \(step): gradient after a row-sparse zeroGrad")
                XCTAssertEqual(clipGradNorm([emb.weight], maxNorm: 2), clipGradNorm([dense], maxNorm: 2), accuracy: 1e-5)
                for (x, y) in zip(emb.weight.grad.data, dense.grad.data) { XCTAssertEqual(x, y, accuracy: 1e-6) }
                a.step(); b.step()
                for (x, y) in zip(emb.weight.value.data, dense.value.data) { XCTAssertEqual(x, y, accuracy: 1e-6, optimizerKind) }
            }
            // Dense updates move rows the last batch did not use (their moments are not zero).
            XCTAssertNotEqual(Array(emb.weight.value.data[25..<30]), row5BeforeLastStep)
        }
    }

    func testLazyAdamUpdatesOnlyTheRowsABatchUsed() {
        var rng = RNG(seed: 2)
        let emb = Embedding(vocabSize: 7, dim: 5, paddingIndex: 0, rng: &rng)
        let adam = Adam([emb.weight], learningRate: 0.05)
        adam.lazyRowSparse = true
        // Reference: Adam's formula applied by hand to the rows each batch used.
        var w = emb.weight.value.data, m = [Float](repeating: 0, count: 35), v = m
        for (step, ids) in batches.enumerated() {
            emb.zeroGrad()
            _ = emb.forward(ids, shape: [ids.count])
            let g = dy(step, ids.count, 5)
            emb.backward(g)
            var grad = [Float](repeating: 0, count: 35)
            for (i, id) in ids.enumerated() where id != 0 { for j in 0..<5 { grad[id * 5 + j] += g[i, j] } }
            let before = emb.weight.value
            adam.step()
            let t = Float(step + 1), c1 = 1 - pow(Float(0.9), t), c2 = 1 - pow(Float(0.999), t)
            for row in Set(ids).subtracting([0]) {
                for k in (row * 5)..<(row * 5 + 5) {
                    m[k] = 0.9 * m[k] + 0.1 * grad[k]
                    v[k] = 0.999 * v[k] + 0.001 * grad[k] * grad[k]
                    w[k] -= 0.05 / c1 * m[k] / (v[k].squareRoot() / c2.squareRoot() + 1e-8)
                }
            }
            for (x, y) in zip(emb.weight.value.data, w) { XCTAssertEqual(x, y, accuracy: 1e-5, "step \(step)") }
            for row in Set(0..<7).subtracting(ids) {
                XCTAssertEqual(Array(emb.weight.value.data[(row * 5)..<(row * 5 + 5)]), Array(before.data[(row * 5)..<(row * 5 + 5)]),
                               "step \(step): row \(row) was not used and must not move")
            }
        }
    }
}
