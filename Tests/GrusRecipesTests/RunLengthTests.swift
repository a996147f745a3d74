import Foundation
import GrusCore
@testable import GrusExperiment
@testable import GrusRecipes
@testable import GrusTrain
import XCTest

/// training.min_steps / max_steps and early_stopping.patience_steps / min_delta: a run length
/// that holds from a few hundred examples to a hundred thousand.
final class RunLengthTests: FolderTestCase {
    func recipe(_ training: String, epochs: Int = 20, batch: Int = 64) throws -> TrainingOptions {
        let corpus = dir.appendingPathComponent("c")
        try writeSentimentCorpus(corpus, train: 20, dev: 10)
        let p = dir.appendingPathComponent("r.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt, test: ""}
        frontend: {type: text}
        training: {epochs: \(epochs), batch_size: \(batch)\(training.isEmpty ? "" : ", " + training)}
        """.utf8))
        return try RecipeLoader.load(p).recipe.training
    }

    func testAStepFloorBecomesManyEpochsOnASmallCorpusOnly() throws {
        let o = try recipe("min_steps: 2000, early_stopping: {patience: 4, patience_steps: 500}")
        // The issue's corpus: 376 clips in batches of 64.
        let small = RunLength.resolve(o, examples: 376)
        XCTAssertEqual(small.stepsPerEpoch, 6)
        XCTAssertEqual(small.epochs, 334)
        XCTAssertEqual(small.patience, 84, "500 steps of patience are 84 epochs of 6 steps")
        XCTAssertEqual(small.reason, "376 examples, 6 steps an epoch of 64: training.min_steps 2,000 = 334 epochs (2,004 steps), not training.epochs 20; stop when dev stalls for 84 epochs (early_stopping.patience_steps 500)")
        // The corpus the recipe was written for keeps its 20 epochs and its patience of 4.
        let large = RunLength.resolve(o, examples: 85_000)
        XCTAssertEqual(large.stepsPerEpoch, 1329)
        XCTAssertEqual(large.epochs, 20)
        XCTAssertEqual(large.patience, 4)
        XCTAssertEqual(large.reason, "85,000 examples, 1,329 steps an epoch of 64: 20 epochs = 26,580 steps; stop when dev stalls for 4 epochs")
    }

    func testAStepCeilingShortensALargeRun() throws {
        let o = try recipe("max_steps: 5000")
        let r = RunLength.resolve(o, examples: 85_000)
        XCTAssertEqual(r.epochs, 3)
        XCTAssertTrue(r.reason.hasSuffix("training.max_steps 5,000 = 3 epochs (3,987 steps)"), r.reason)
        XCTAssertEqual(RunLength.resolve(o, examples: 100).epochs, 20, "a small corpus is under the ceiling")
        XCTAssertEqual(RunLength.resolve(try recipe("max_steps: 10"), examples: 85_000).epochs, 1, "never less than one epoch")
        XCTAssertEqual(RunLength.resolve(try recipe(""), examples: 100).patience, 0, "no patience given: never stop early")
    }

    func testTiesOnTheDevScoreGoToTheLowerDevLoss() {
        var s = TrainState()
        s.step = 1000
        XCTAssertTrue(s.judge(score: 0.9, loss: 0.5, warmupSteps: 0))
        XCTAssertTrue(s.judge(score: 0.9, loss: 0.4, warmupSteps: 0), "the same score with a lower dev loss is the better model")
        XCTAssertFalse(s.judge(score: 0.9, loss: 0.45, warmupSteps: 0), "a tie with a higher loss is not")
        XCTAssertEqual(s.badEpochs, 1)
        XCTAssertFalse(s.judge(score: 0.89, loss: 0.1, warmupSteps: 0), "a lower score never is, whatever its loss")
        XCTAssertEqual(s.badEpochs, 0, "but the falling loss shows the model learning")
    }

    func testAMinimumImprovementKeepsCoarseStepsFromCounting() {
        var s = TrainState()
        s.step = 1000
        XCTAssertTrue(s.judge(score: 0.90, loss: 0.5, warmupSteps: 0, minDelta: 0.02))
        XCTAssertFalse(s.judge(score: 0.91, loss: 0.6, warmupSteps: 0, minDelta: 0.02), "one dev example more is within min_delta")
        XCTAssertEqual(s.best, 0.90)
        XCTAssertEqual(s.badEpochs, 1)
        XCTAssertTrue(s.judge(score: 0.91, loss: 0.45, warmupSteps: 0, minDelta: 0.02), "within min_delta, the lower dev loss wins")
        XCTAssertEqual(s.best, 0.91)
        XCTAssertFalse(s.judge(score: 0.90, loss: 0.3, warmupSteps: 0, minDelta: 0.02), "the best score never drifts down through ties")
        XCTAssertTrue(s.judge(score: 0.94, loss: 0.9, warmupSteps: 0, minDelta: 0.02), "more than min_delta better wins on the score alone")
    }

    func testARunLogsItsResolvedLengthAndRunsIt() throws {
        let corpus = dir.appendingPathComponent("s")
        try writeSentimentCorpus(corpus, train: 48, dev: 12)
        let p = dir.appendingPathComponent("t.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt, test: ""}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, min_steps: 10, batch_size: 16, lr: 0.01, log_every: 1000, schedule: {type: cosine}}
        evaluation: {splits: [dev]}
        """.utf8))
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(p), out: out).run()
        let log = try String(contentsOfFile: out + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("48 examples, 3 steps an epoch of 16: training.min_steps 10 = 4 epochs (12 steps), not training.epochs 1"), log)
        XCTAssertTrue(log.contains("epoch 4/4"), log)
        let rows = try String(contentsOfFile: out + "/train-log.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 5, "a header and four epochs")
        XCTAssertTrue(rows[4].hasPrefix("4,12,"), "epoch 4 ends at step 12: \(rows[4])")
    }
}
