import GrusCore
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

final class TrainingPartsTests: XCTestCase {
    func testLearningRateSchedules() {
        var s = LRSchedule(base: 0.1, kind: .constant, warmup: 4, stepEpochs: 2, gamma: 0.5, minLR: 0.001, totalSteps: 100, stepsPerEpoch: 10)
        XCTAssertEqual(s.rate(step: 0), 0.025, accuracy: 1e-12, "linear warm-up")
        XCTAssertEqual(s.rate(step: 3), 0.1, accuracy: 1e-12)
        XCTAssertEqual(s.rate(step: 50), 0.1)
        s.kind = .step
        XCTAssertEqual(s.rate(step: 19), 0.1, accuracy: 1e-12)
        XCTAssertEqual(s.rate(step: 20), 0.05, accuracy: 1e-12, "halved every 2 epochs")
        XCTAssertEqual(s.rate(step: 99), 0.00625, accuracy: 1e-12)
        s.kind = .cosine
        XCTAssertEqual(s.rate(step: 4), 0.1, accuracy: 1e-12, "cosine starts at the base after warm-up")
        XCTAssertEqual(s.rate(step: 52), 0.001 + (0.1 - 0.001) / 2, accuracy: 1e-9, "half way")
        XCTAssertEqual(s.rate(step: 100), 0.001, accuracy: 1e-12, "ends at min_lr")
    }

    func testBatchesAreSeededCompleteAndBucketed() {
        let lengths = (0..<1000).map { ($0 * 7919) % 97 + 1 }
        var a = RNG(seed: 1), b = RNG(seed: 1), c = RNG(seed: 2)
        let x = makeBatches(lengths: lengths, indices: Array(0..<1000), batchSize: 32, bucket: true, rng: &a)
        XCTAssertEqual(x, makeBatches(lengths: lengths, indices: Array(0..<1000), batchSize: 32, bucket: true, rng: &b))
        XCTAssertNotEqual(x, makeBatches(lengths: lengths, indices: Array(0..<1000), batchSize: 32, bucket: true, rng: &c))
        XCTAssertEqual(x.flatMap { $0 }.sorted(), Array(0..<1000), "every example once")
        // Bucketing keeps lengths within a batch close: far less padding than random batches.
        func padding(_ bs: [[Int]]) -> Int {
            bs.reduce(0) { acc, batch in
                let longest = batch.map { lengths[$0] }.max()!
                return acc + batch.reduce(0) { $0 + longest - lengths[$1] }
            }
        }
        var r = RNG(seed: 1)
        let random = makeBatches(lengths: lengths, indices: Array(0..<1000), batchSize: 32, bucket: false, rng: &r)
        XCTAssertLessThan(padding(x) * 5, padding(random))
    }
}
