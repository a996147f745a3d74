import Foundation
import GrusCore
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// Every parallel part (features, the GRU's directions and batch rows, optimiser updates,
/// evaluation, prediction) runs on at most `training.threads` threads, and uses them.
final class ThreadAuditTests: FolderTestCase {
    func testNothingRunsWiderThanTrainingThreads() throws {
        let tones = try toneCorpus()
        let recipe = dir.appendingPathComponent("r.yaml")
        try """
        corpus: {format: fsdd, path: \(tones.path), dev_fraction: 0.25}
        frontend: {type: audio, audio: {bins: 20, cmvn: global}}
        model: {encoder: {hidden: 6, layers: 2, bidirectional: true}}
        training: {epochs: 1, batch_size: 4}
        evaluation: {splits: [dev, test]}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        defer { Threads.set(0) }
        for n in [1, 2] {
            _ = ParallelWidth.take()
            let out = dir.appendingPathComponent("t\(n)").path
            try Experiment(try RecipeLoader.load(recipe.path, overrides: ["training.threads=\(n)"]), out: out).run()
            XCTAssertEqual(Threads.count, n)
            let model = try Models.load(out)
            let items = try toneItems(tones)
            _ = try model.evaluate(items, topK: 1, predictions: nil) { _ in }
            model.predict(AnySequence(items.map { ($0.input, $0.origin) }), topK: 1) { _, _ in }
            let widest = ParallelWidth.take()
            XCTAssertLessThanOrEqual(widest, n, "training.threads \(n)")
            XCTAssertEqual(widest, n, "training.threads \(n): the work should use every thread it may")
        }
    }
}
