import Foundation
import GrusCore
@testable import GrusExperiment
@testable import GrusRecipes
import XCTest

/// A run whose `evaluation.splits` leaves out test never reads the test split: its file is not
/// opened, its audio is not touched. (`grus tune` relies on it.) Each case first shows that the
/// same damaged test split stops a run that does evaluate it, so the test can fail.
final class TestSplitTests: FolderTestCase {
    func run(_ recipe: String, _ name: String) -> String? {
        do { try Experiment(try RecipeLoader.load(recipe), out: dir.appendingPathComponent(name).path).run(); return nil } catch { return "\(error)" }
    }

    func testATextTestFileIsNotOpened() throws {
        let corpus = dir.appendingPathComponent("text")
        try writeSentimentCorpus(corpus, train: 40, dev: 10)
        try Data([0x5f, 0x5f, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x5f, 0x5f, 0x61, 0x20, 0xff, 0xfe, 0x0a]).write(to: corpus.appendingPathComponent("test.txt"))
        func recipe(_ splits: String) -> String {
            let p = dir.appendingPathComponent("t-\(splits.count).yaml").path
            FileManager.default.createFile(atPath: p, contents: Data("""
            corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt, test: test.txt}
            frontend: {type: text}
            model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
            training: {epochs: 1, batch_size: 16, log_every: 1000}
            evaluation: {splits: [\(splits)]}
            """.utf8))
            return p
        }
        let failed = try XCTUnwrap(run(recipe("dev, test"), "with-test"), "the damaged test file stops a run that reads it")
        XCTAssertTrue(failed.contains("test.txt"), failed)
        XCTAssertNil(run(recipe("dev"), "dev-only"))
        let log = try String(contentsOf: dir.appendingPathComponent("dev-only/log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("the test split is left unread"), log)
        XCTAssertTrue(log.contains("(train 40, dev 10, test 0)"), log)
    }

    func testTestAudioIsNotTouched() throws {
        let tones = dir.appendingPathComponent("tones")
        try writeToneCorpus(tones, rate: 8000)
        // lo_a_0.wav is in FSDD's official test split (index 0-4).
        try Data("not audio".utf8).write(to: tones.appendingPathComponent("lo_a_0.wav"))
        func recipe(_ splits: String) -> String {
            let p = dir.appendingPathComponent("a-\(splits.count).yaml").path
            FileManager.default.createFile(atPath: p, contents: Data("""
            corpus: {format: fsdd, path: \(tones.path), dev_fraction: 0.5}
            frontend: {type: audio, audio: {bins: 20, cmvn: global}}
            model: {encoder: {hidden: 6, layers: 1, bidirectional: false}}
            training: {epochs: 1, batch_size: 4, log_every: 1000}
            evaluation: {splits: [\(splits)]}
            """.utf8))
            return p
        }
        let failed = try XCTUnwrap(run(recipe("dev, test"), "with-test"), "the broken test clip stops a run that reads it")
        XCTAssertTrue(failed.contains("lo_a_0.wav"), failed)
        XCTAssertNil(run(recipe("dev"), "dev-only"))
        let log = try String(contentsOf: dir.appendingPathComponent("dev-only/log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("the test split is left unread (20 items)"), log)
        XCTAssertFalse(log.contains("lo_a_0"), log)
    }
}
