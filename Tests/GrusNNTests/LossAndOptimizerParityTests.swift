import XCTest
import GrusCore
@testable import GrusNN

final class LossAndOptimizerParityTests: XCTestCase {
    func testCrossEntropyMatchesPyTorch() throws {
        let f = try Fixture.load("cross_entropy")
        let logits = Fixture.tensor(f["logits"])
        let targets = (f["targets"] as! [NSNumber]).map { $0.intValue }
        for case let c as [String: Any] in f["cases"] as! [Any] {
            let ls = (c["label_smoothing"] as! NSNumber).floatValue
            let w = (c["weights"] as? [NSNumber])?.map { $0.floatValue }
            let (loss, grad, _) = CrossEntropy(labelSmoothing: ls, classWeights: w)(logits, targets: targets)
            XCTAssertEqual(loss, (c["loss"] as! NSNumber).floatValue, accuracy: 1e-5, "ls \(ls) weighted \(w != nil)")
            assertClose(grad, Fixture.tensor(c["grad"]), "grad ls \(ls) weighted \(w != nil)")
        }
    }

    func testOptimizersMatchPyTorch() throws {
        let f = try Fixture.load("optimizers")
        let p0 = Fixture.tensor(f["p0"])
        let grads = (f["grads"] as! [Any]).map { Fixture.tensor($0) }
        for case let c as [String: Any] in f["cases"] as! [Any] {
            let name = c["name"] as! String
            let p = Parameter("p", p0)
            let opt: Optimizer
            switch name {
            case "sgd": opt = SGD([p], learningRate: 0.1)
            case "sgd_momentum": opt = SGD([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            case "sgd_nesterov": opt = SGD([p], learningRate: 0.1, momentum: 0.9, nesterov: true)
            case "adam": opt = Adam([p], learningRate: 0.01, weightDecay: 0.1)
            case "adamw": opt = Adam.adamW([p], learningRate: 0.01, weightDecay: 0.1)
            default: XCTFail("unknown case \(name)"); continue
            }
            for g in grads { p.grad = g; opt.step() }
            assertClose(p.value, Fixture.tensor(c["p"]), rtol: 1e-5, atol: 1e-6, name)
        }
    }

    func testOptimizerStateRoundTrip() throws {
        let p = Parameter("w", Tensor(shape: [3], data: [1, 2, 3]))
        let q = Parameter("w", Tensor(shape: [3], data: [1, 2, 3]))
        let a = Adam([p], learningRate: 0.1), b = Adam([q], learningRate: 0.1)
        p.grad = Tensor(shape: [3], data: [0.1, -0.2, 0.3]); a.step()
        try b.load(state: a.state()); q.value = p.value
        p.grad = Tensor(shape: [3], data: [0.5, 0.5, -0.5]); q.grad = p.grad
        a.step(); b.step()
        XCTAssertEqual(p.value, q.value)
    }

    func testGradientClippingByGlobalNorm() {
        let a = Parameter("a", Tensor(zeros: [2])), b = Parameter("b", Tensor(zeros: [1]))
        a.grad = Tensor(shape: [2], data: [3, 0]); b.grad = Tensor(shape: [1], data: [4])
        let norm = clipGradNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, 5, accuracy: 1e-6)
        XCTAssertEqual(a.grad.data[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad.data[0], 0.8, accuracy: 1e-5)
        // Below the limit: unchanged.
        XCTAssertEqual(clipGradNorm([a, b], maxNorm: 10), 1, accuracy: 1e-5)
        XCTAssertEqual(b.grad.data[0], 0.8, accuracy: 1e-5)
    }
}
