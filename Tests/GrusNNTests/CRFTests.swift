import XCTest
import GrusCore
@testable import GrusNN

/// The CRF against brute-force enumeration of every tag path, and finite differences.
final class CRFTests: XCTestCase {
    /// Score of one path of sequence s, as the CRF defines it (with its mask).
    func pathScore(_ crf: CRF, _ e: Tensor, b: Int, s: Int, _ path: [Int]) -> Double {
        let c = crf.tags
        var total = crf.first(path[0]) + crf.last(path[path.count - 1])
        for (t, j) in path.enumerated() { total += Double(e.data[(t * b + s) * c + j]) }
        for t in 1..<max(path.count, 1) where t < path.count { total += crf.trans(path[t - 1], path[t]) }
        return total
    }

    func allPaths(_ n: Int, _ c: Int) -> [[Int]] {
        n == 0 ? [[]] : allPaths(n - 1, c).flatMap { p in (0..<c).map { p + [$0] } }
    }

    func setup(masked: Bool) -> (CRF, Tensor, [Int], [[Int]]) {
        var rng = RNG(seed: masked ? 5 : 3)
        let crf = CRF(tags: 3, rng: &rng)
        for p in crf.parameters { p.value.data = p.value.data.map { _ in rng.normal() } }
        if masked {
            // Tag 2 may not follow tag 0, nor start a sentence.
            crf.allowed = (0..<9).map { $0 != 0 * 3 + 2 }
            crf.allowedStart = [true, true, false]
        }
        let lengths = [4, 1, 3], b = 3
        let e = Tensor(shape: [4 * b, 3], data: (0..<(4 * b * 3)).map { _ in rng.normal() })
        let targets: [[Int]] = masked ? [[0, 1, 2, 2], [1], [1, 0, 0]] : [[2, 0, 1, 1], [0], [1, 2, 0]]
        return (crf, e, lengths, targets)
    }

    func testLossAndViterbiMatchEnumeration() {
        for masked in [false, true] {
            let (crf, e, lengths, targets) = setup(masked: masked)
            var expected = 0.0
            for (s, n) in lengths.enumerated() {
                let scores = allPaths(n, 3).map { pathScore(crf, e, b: 3, s: s, $0) }
                expected += CRF.logSumExp(scores) - pathScore(crf, e, b: 3, s: s, targets[s])
                let best = allPaths(n, 3).max { pathScore(crf, e, b: 3, s: s, $0) < pathScore(crf, e, b: 3, s: s, $1) }!
                XCTAssertEqual(crf.decode(e, lengths: lengths)[s], best, "masked \(masked), sequence \(s)")
            }
            XCTAssertEqual(Double(crf.loss(e, lengths: lengths, targets: targets).loss), expected / 3, accuracy: 1e-5, "masked \(masked)")
            if masked {
                for path in crf.decode(e, lengths: lengths) where path.count > 1 {
                    XCTAssertFalse(zip(path, path.dropFirst()).contains { $0 == 0 && $1 == 2 }, "a forbidden transition was decoded")
                    XCTAssertNotEqual(path[0], 2)
                }
            }
        }
    }

    func testGradientsMatchFiniteDifferences() {
        for masked in [false, true] {
            let (crf, e, lengths, targets) = setup(masked: masked)
            crf.zeroGrad()
            let (_, dE) = crf.loss(e, lengths: lengths, targets: targets)
            let eps: Float = 1e-2
            func value(_ x: Tensor) -> Double {
                let keep = crf.parameters.map(\.grad)
                defer { for (p, g) in zip(crf.parameters, keep) { p.grad = g } }
                return Double(crf.loss(x, lengths: lengths, targets: targets).loss)
            }
            var x = e
            for i in x.data.indices {
                let v = x.data[i]
                x.data[i] = v + eps; let up = value(x)
                x.data[i] = v - eps; let down = value(x)
                x.data[i] = v
                XCTAssertEqual(Double(dE.data[i]), (up - down) / Double(2 * eps), accuracy: 2e-4, "masked \(masked): emission \(i)")
            }
            for p in crf.parameters {
                let analytic = p.grad
                for i in p.value.data.indices {
                    let v = p.value.data[i]
                    p.value.data[i] = v + eps; let up = value(e)
                    p.value.data[i] = v - eps; let down = value(e)
                    p.value.data[i] = v
                    let numeric = (up - down) / Double(2 * eps)
                    XCTAssertEqual(Double(analytic.data[i]), numeric.isFinite ? numeric : 0, accuracy: 2e-4, "masked \(masked): \(p.name)[\(i)]")
                }
            }
        }
    }
}
