import XCTest
import GrusCore
@testable import GrusNN

/// End to end: a small GRU classifier must learn a task that needs memory.
final class LearningTests: XCTestCase {
    /// Which of two markers came first in a long noisy sequence (lengths 20-40).
    func testLearnsMarkerOrder() {
        let result = MarkerOrderRun.train(seed: 1, epochs: 6)
        XCTAssertGreaterThanOrEqual(result.testAccuracy, 0.99, "accuracy \(result.testAccuracy) after \(result.steps) steps")
        XCTAssertLessThan(result.finalLoss, result.firstLoss / 10)
    }

    /// Same seed, same thread count: bit-identical weights.
    func testTrainingIsReproducible() {
        let a = MarkerOrderRun.train(seed: 3, epochs: 1, trainSize: 256)
        let b = MarkerOrderRun.train(seed: 3, epochs: 1, trainSize: 256)
        XCTAssertEqual(a.weights, b.weights)
        let c = MarkerOrderRun.train(seed: 4, epochs: 1, trainSize: 256)
        XCTAssertNotEqual(a.weights, c.weights)
    }
}
