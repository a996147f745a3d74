import XCTest
import GrusCore
@testable import GrusNN

/// CTC loss against torch.nn.functional.ctc_loss, brute-force enumeration of alignments and
/// finite differences; the decoders and the edit counts.
final class CTCTests: XCTestCase {
    func testMatchesTorchCTCLoss() throws {
        for name in ["ctc_small", "ctc_digits", "ctc_infeasible"] {
            let f = try Fixture.load(name)
            let logits3 = Fixture.tensor(f["logits"]), c = (f["classes"] as! NSNumber).intValue
            let logits = logits3.reshaped([logits3.shape[0] * logits3.shape[1], c])
            let lengths = (f["lengths"] as! [NSNumber]).map(\.intValue)
            let targets = (f["targets"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let ctc = CTCLoss(zeroInfinity: f["zero_infinity"] as! Bool)
            let (loss, grad, infeasible) = ctc(logits, lengths: lengths, targets: targets)
            let want = (f["loss"] as! NSNumber).floatValue
            XCTAssertEqual(loss, want, accuracy: 1e-5 * max(1, abs(want)), name)
            assertClose(grad, Fixture.tensor(f["grad"]).reshaped(logits.shape), rtol: 1e-4, atol: 1e-6, name + " gradient")
            XCTAssertEqual(infeasible, name == "ctc_infeasible" ? [1] : [], name)
        }
    }

    /// p(y|x) as the sum over every path of T steps that collapses to y.
    func bruteForce(_ logits: Tensor, b: Int, s: Int, steps n: Int, target: [Int]) -> Double {
        let c = logits.shape[1]
        func collapse(_ p: [Int]) -> [Int] {
            var out: [Int] = [], prev = -1
            for k in p { if k != prev && k != 0 { out.append(k) }; prev = k }
            return out
        }
        var total = 0.0
        var path = [Int](repeating: 0, count: n)
        func visit(_ t: Int, _ logp: Double) {
            if t == n { if collapse(path) == target { total += exp(logp) }; return }
            let row = (t * b + s) * c
            let m = (0..<c).map { Double(logits.data[row + $0]) }
            let lz = log(m.reduce(0) { $0 + exp($1) })
            for k in 0..<c { path[t] = k; visit(t + 1, logp + m[k] - lz) }
        }
        visit(0, 0)
        return -log(total)
    }

    func testLossMatchesEnumerationAndFiniteDifferences() {
        var rng = RNG(seed: 9)
        let c = 3, lengths = [5, 4, 2], b = 3
        let targets = [[1, 1, 2], [2, 1], [1]]
        var logits = Tensor(shape: [5 * b, c], data: (0..<(5 * b * c)).map { _ in 1.5 * rng.normal() })
        let (loss, grad, _) = CTCLoss()(logits, lengths: lengths, targets: targets)
        var expected = 0.0
        for s in 0..<b { expected += bruteForce(logits, b: b, s: s, steps: lengths[s], target: targets[s]) / Double(targets[s].count) }
        XCTAssertEqual(Double(loss), expected / Double(b), accuracy: 1e-5)
        let eps: Float = 1e-2
        for i in logits.data.indices {
            let v = logits.data[i]
            logits.data[i] = v + eps; let up = Double(CTCLoss()(logits, lengths: lengths, targets: targets).loss)
            logits.data[i] = v - eps; let down = Double(CTCLoss()(logits, lengths: lengths, targets: targets).loss)
            logits.data[i] = v
            XCTAssertEqual(Double(grad.data[i]), (up - down) / Double(2 * eps), accuracy: 2e-4, "logit \(i)")
        }
        // rows past a sequence's length get no gradient
        for row in [4 * b + 1, 2 * b + 2, 3 * b + 2, 4 * b + 2] { for k in 0..<c { XCTAssertEqual(grad.data[row * c + k], 0) } }
    }

    /// Logits hundreds of nats apart underflow the scaled recursion; the log-space one takes over.
    func testExtremeLogitsStayFinite() {
        var logits = Tensor(zeros: [4, 3])
        for t in 0..<4 { logits.data[t * 3 + (t % 2 == 0 ? 1 : 0)] = 900 }   // confident: 1, blank, 1, blank
        let (easy, _, _) = CTCLoss()(logits, lengths: [4], targets: [[1]])
        XCTAssertTrue(easy.isFinite)
        let (hard, grad, _) = CTCLoss()(logits, lengths: [4], targets: [[2]])   // label 2 is ~900 nats away everywhere
        XCTAssertTrue(hard.isFinite && hard > 800, "\(hard)")
        XCTAssertTrue(grad.data.allSatisfy(\.isFinite))
    }

    func testInfeasibleTargets() {
        let logits = Tensor(zeros: [3, 4])
        XCTAssertEqual(CTCLoss.minimumSteps([1, 1, 2]), 4)
        let (loss, grad, infeasible) = CTCLoss()(logits, lengths: [3], targets: [[1, 1, 2]])
        XCTAssertEqual(loss, .infinity)
        XCTAssertEqual(infeasible, [0])
        XCTAssertTrue(grad.data.allSatisfy { $0 == 0 })
        XCTAssertEqual(CTCLoss(zeroInfinity: true)(logits, lengths: [3], targets: [[1, 1, 2]]).loss, 0)
    }

    func testDecoders() {
        // steps: 1 1 blank 1 2 2 blank → greedy "1 1 2"
        let path = [1, 1, 0, 1, 2, 2, 0], c = 3
        var logits = Tensor(zeros: [path.count, c])
        for (t, k) in path.enumerated() { logits.data[t * c + k] = 5 }
        XCTAssertEqual(CTCDecoder.greedy(logits, lengths: [7]), [[1, 1, 2]])
        XCTAssertEqual(CTCDecoder.beam(logits, lengths: [7], width: 4), [[1, 1, 2]])
        // Where the best path and the best string differ: two steps, P(blank) = 0.4 and
        // P(1) = 0.3 ... the string "1" (0.3·0.3 + 0.3·0.4 + 0.4·0.3 = 0.33) beats "" (0.16),
        // though the single best path is blank blank.
        let p: [Float] = [0.4, 0.3, 0.3]
        let two = Tensor(shape: [2, 3], data: (p + p).map { log($0) })
        XCTAssertEqual(CTCDecoder.greedy(two, lengths: [2]), [[]])
        let best = CTCDecoder.beam(two, lengths: [2], width: 8)[0]
        XCTAssertEqual(best.count, 1, "\(best)")
    }

    func testEditCounts() {
        XCTAssertEqual(EditCounts.align(reference: [1, 2, 3], hypothesis: [1, 2, 3]).total, 0)
        let e = EditCounts.align(reference: [1, 2, 3, 4], hypothesis: [1, 5, 3])
        XCTAssertEqual([e.substitutions, e.deletions, e.insertions], [1, 1, 0])
        let i = EditCounts.align(reference: [1], hypothesis: [2, 1, 3])
        XCTAssertEqual([i.substitutions, i.deletions, i.insertions], [0, 0, 2])
        let d = EditCounts.align(reference: [1, 2], hypothesis: [])
        XCTAssertEqual([d.substitutions, d.deletions, d.insertions], [0, 2, 0])
        XCTAssertEqual(EditCounts.align(reference: [], hypothesis: [4]).insertions, 1)
    }
}
