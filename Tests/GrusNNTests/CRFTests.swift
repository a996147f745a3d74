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

    /// The batched, scaled forward-backward against the per-sequence log-space one, on a size
    /// where enumeration is out of reach (20 tags, ragged lengths up to 15, a mask).
    func testBatchedLossMatchesLogSpaceReference() {
        var rng = RNG(seed: 11)
        let c = 20, lengths = [15, 3, 9, 1, 12, 15], b = lengths.count, steps = 15
        let crf = CRF(tags: c, rng: &rng)
        for p in crf.parameters { p.value.data = p.value.data.map { _ in 2 * rng.normal() } }
        crf.allowed = (0..<(c * c)).map { ($0 * 7) % 5 != 0 || $0 % (c + 1) == 0 }
        let e = Tensor(shape: [steps * b, c], data: (0..<(steps * b * c)).map { _ in 3 * rng.normal() })
        // Gold paths that use allowed transitions only (so the loss is finite).
        let targets: [[Int]] = lengths.map { n in
            var path = [Int](), prev = -1
            for _ in 0..<n {
                let options = (0..<c).filter { prev < 0 || crf.allowed![prev * c + $0] }
                prev = options[Int(rng.uniform() * Float(options.count)) % options.count]
                path.append(prev)
            }
            return path
        }
        crf.zeroGrad()
        let (loss, dE) = crf.loss(e, lengths: lengths, targets: targets)
        let batched = crf.parameters.map(\.grad)
        var refE = Tensor(zeros: e.shape), total = 0.0
        var dT = [Double](repeating: 0, count: c * c), dS = [Double](repeating: 0, count: c), dN = [Double](repeating: 0, count: c)
        for s in 0..<b {
            total += crf.exactLoss(e, sequence: s, lengths: lengths, targets: targets[s], scale: 1 / Double(b),
                                   dE: &refE, dTrans: &dT, dStart: &dS, dEnd: &dN)
        }
        XCTAssertEqual(Double(loss), total / Double(b), accuracy: 1e-4 * max(1, abs(total / Double(b))))
        for i in dE.data.indices { XCTAssertEqual(dE.data[i], refE.data[i], accuracy: 1e-6, "emission \(i)") }
        for (got, want) in zip([batched[0].data, batched[1].data, batched[2].data], [dT, dS, dN]) {
            for i in got.indices { XCTAssertEqual(Double(got[i]), want[i] / Double(b), accuracy: 1e-5) }
        }
    }

    /// Scores hundreds of nats apart underflow the scaled recursion; that sequence is redone in
    /// log space, and the loss stays finite and exact.
    func testExtremeScoresFallBackToLogSpace() {
        var rng = RNG(seed: 4)
        let crf = CRF(tags: 3, rng: &rng)
        crf.transitions.value.data = [0, -900, 0, 0, 0, -900, -900, 0, 0]
        let lengths = [4, 2], b = 2
        var e = Tensor(shape: [4 * b, 3], data: (0..<24).map { _ in rng.normal() })
        // Sequence 0: step 0 all but forces tag 0, step 1 tag 1, and 0 → 1 scores −900: every
        // scaled alpha of step 1 underflows to zero.
        e.data[0] = 1200
        e.data[(1 * b + 0) * 3 + 0] = -1500
        e.data[(1 * b + 0) * 3 + 2] = -1500
        let targets = [[0, 1, 1, 2], [2, 2]]
        let (loss, dE) = crf.loss(e, lengths: lengths, targets: targets)
        var expected = 0.0
        for (s, n) in lengths.enumerated() {
            let scores = allPaths(n, 3).map { pathScore(crf, e, b: b, s: s, $0) }
            expected += CRF.logSumExp(scores) - pathScore(crf, e, b: b, s: s, targets[s])
        }
        XCTAssertTrue(loss.isFinite && dE.data.allSatisfy(\.isFinite))
        XCTAssertEqual(Double(loss), expected / 2, accuracy: 1e-3 * abs(expected / 2))
    }

    /// Loss, gradients and Viterbi paths against pytorch-crf (Fixtures/make_crf_fixtures.py):
    /// unmasked, with the BIO mask (forbidden scores −1e4 there, −∞ here), and 30 tags × 20 steps.
    func testMatchesPytorchCRF() throws {
        for name in ["crf_small", "crf_bio_masked", "crf_large"] {
            let f = try Fixture.load(name)
            let c = (f["tags"] as! NSNumber).intValue
            var rng = RNG(seed: 0)
            let crf = CRF(tags: c, rng: &rng)
            crf.transitions.value = Fixture.tensor(f["transitions"])
            crf.start.value = Fixture.tensor(f["start_transitions"])
            crf.end.value = Fixture.tensor(f["end_transitions"])
            if let allowed = f["allowed"] as? [Bool] {
                crf.allowed = allowed
                crf.allowedStart = f["allowed_start"] as? [Bool]
            }
            let lengths = (f["lengths"] as! [NSNumber]).map(\.intValue)
            let targets = (f["targets"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let e3 = Fixture.tensor(f["emissions"])   // [T, B, C]
            let e = e3.reshaped([e3.shape[0] * e3.shape[1], c])
            crf.zeroGrad()
            let (loss, dE) = crf.loss(e, lengths: lengths, targets: targets)
            let want = (f["loss"] as! NSNumber).floatValue
            XCTAssertEqual(loss, want, accuracy: 1e-5 * max(1, abs(want)), name)
            assertClose(dE, Fixture.tensor(f["d_emissions"]).reshaped(e.shape), rtol: 1e-4, atol: 1e-6, name + " dEmissions")
            assertClose(crf.transitions.grad, Fixture.tensor(f["d_transitions"]), rtol: 1e-4, atol: 1e-6, name + " dTransitions")
            assertClose(crf.start.grad, Fixture.tensor(f["d_start_transitions"]), rtol: 1e-4, atol: 1e-6, name + " dStart")
            assertClose(crf.end.grad, Fixture.tensor(f["d_end_transitions"]), rtol: 1e-4, atol: 1e-6, name + " dEnd")
            let decoded = (f["decoded"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            XCTAssertEqual(crf.decode(e, lengths: lengths), decoded, name + " Viterbi")
        }
    }
}
