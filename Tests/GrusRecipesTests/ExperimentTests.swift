import Foundation
import GrusAudio
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

/// End to end on small corpora made here: run, folder layout, eval reproducing the run's
/// metrics, and resume giving the same weights as an uninterrupted run.
final class ExperimentTests: FolderTestCase {

    /// fastText-format sentiment toy: "good"/"bad" words in filler, label by which occurs.
    func textCorpus() throws -> String {
        var rng = RNG(seed: 5)
        let filler = ["the", "film", "was", "a", "plot", "cast", "story", "very", "quite", "and"]
        func line() -> String {
            let pos = rng.int(below: 2) == 1
            var words = (0..<(3 + rng.int(below: 6))).map { _ in filler[rng.int(below: filler.count)] }
            words.insert(pos ? ["good", "great", "fine"][rng.int(below: 3)] : ["bad", "awful", "dull"][rng.int(below: 3)],
                         at: rng.int(below: words.count + 1))
            return "__label__\(pos ? "pos" : "neg") " + words.joined(separator: " ")
        }
        let corpus = dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        for (name, n) in [("train.txt", 400), ("dev.txt", 60), ("test.txt", 80)] {
            try (0..<n).map { _ in line() }.joined(separator: "\n").write(to: corpus.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return corpus.path
    }

    func textRecipe(_ corpus: String, epochs: Int) -> String {
        let p = dir.appendingPathComponent("toy.yaml").path
        let text = """
        corpus: {format: fasttext, path: \(corpus), train: train.txt, dev: dev.txt, test: test.txt}
        frontend: {type: text}
        model: {embedding_dim: 16, encoder: {hidden: 16, layers: 1}, head: {pooling: max}}
        training: {epochs: \(epochs), batch_size: 16, lr: 0.01, log_every: 1000}
        """
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func testTextExperimentEndToEndAndEvalReproducesIt() throws {
        let corpus = try textCorpus()
        let out = dir.appendingPathComponent("exp").path
        let metrics = try GrusRecipesTests.metrics(try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 6)), out: out).run())
        XCTAssertGreaterThanOrEqual(metrics.accuracy, 0.95)
        for f in ["recipe.yaml", "model/model.safetensors", "model/model.json", "checkpoints/best.safetensors",
                  "checkpoints/last.safetensors", "metrics.json", "dev-metrics.json", "predictions.jsonl", "train-log.csv", "log.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), f)
        }
        XCTAssertEqual(try String(contentsOfFile: out + "/train-log.csv", encoding: .utf8).split(separator: "\n").count, 7)
        let predictor = try Models.load(out)
        let items = try GrusData.CorpusReader.textFile(corpus + "/test.txt", split: .test, format: .fasttext).items
        let (report, bad) = try predictor.evaluate(items, topK: 3, predictions: nil) { _ in }
        let again = try GrusRecipesTests.metrics(report)
        XCTAssertTrue(bad.isEmpty)
        XCTAssertEqual(again.accuracy, metrics.accuracy)
        XCTAssertEqual(again.confusion, metrics.confusion)
    }

    func testResumeEndsWhereAnUninterruptedRunDoes() throws {
        let corpus = try textCorpus()
        let straight = dir.appendingPathComponent("straight").path, resumed = dir.appendingPathComponent("resumed").path
        try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 4)), out: straight).run()
        try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 2)), out: resumed).run()
        try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 4)), out: resumed).run(resume: true)
        let a = try Safetensors.load(URL(fileURLWithPath: straight + "/checkpoints/last.safetensors")).tensors
        let b = try Safetensors.load(URL(fileURLWithPath: resumed + "/checkpoints/last.safetensors")).tensors
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for k in a.keys { XCTAssertEqual(a[k], b[k], k) }
    }

    func testAudioExperimentOnTones() throws {
        // FSDD-style names: label = tone (low/high), 2 speakers, indices 0-9 (0-4 test).
        let corpus = dir.appendingPathComponent("tones")
        var rng = RNG(seed: 2)
        for (label, hz) in [("low", 300.0), ("high", 1200.0)] {
            for speaker in ["a", "b"] {
                for i in 0..<10 {
                    let f = hz * (speaker == "a" ? 1 : 1.1) * (1 + 0.02 * Double(i))
                    let n = 4000 + rng.int(below: 2000)
                    let x = (0..<n).map { Float(0.4 * sin(2 * Double.pi * f * Double($0) / 8000)) + 0.01 * rng.normal() }
                    try AudioFile.write(Audio(samples: x, sampleRate: 8000), to: corpus.appendingPathComponent("\(label)_\(speaker)_\(i).wav").path)
                }
            }
        }
        let p = dir.appendingPathComponent("tones.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: fsdd, path: \(corpus.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 20}}
        model: {encoder: {hidden: 16, layers: 1}}
        training: {epochs: 8, batch_size: 4, lr: 0.01, log_every: 1000}
        evaluation: {splits: [test]}
        """.utf8))
        let m = try metrics(try Experiment(try RecipeLoader.load(p), out: dir.appendingPathComponent("exp").path).run())
        XCTAssertEqual(m.n, 20)
        XCTAssertGreaterThanOrEqual(m.accuracy, 0.95)
    }
}

extension ExperimentTests {
    func testFinishedStagesAreReusedAndCanBeForced() throws {
        let corpus = try textCorpus()
        let out = dir.appendingPathComponent("exp").path
        let recipe = textRecipe(corpus, epochs: 2)
        let first = try metrics(try Experiment(try RecipeLoader.load(recipe), out: out).run())
        let second = try metrics(try Experiment(try RecipeLoader.load(recipe), out: out).run())
        XCTAssertEqual(first, second)
        let log = try String(contentsOfFile: out + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("from the cache (inputs unchanged)"))
        XCTAssertTrue(log.contains("model from"))
        XCTAssertTrue(log.contains("metrics.json (inputs unchanged)"), "a finished evaluation is not redone")
        // A changed training setting retrains but reuses the features.
        _ = try Experiment(try RecipeLoader.load(recipe, overrides: ["training.lr=0.02"]), out: out).run(force: true, stopAfter: .train)
        func count(_ text: String) throws -> Int {
            try String(contentsOfFile: out + "/log.txt", encoding: .utf8).components(separatedBy: text).count - 1
        }
        XCTAssertEqual(try count("from the cache"), 2)
        XCTAssertEqual(try count("model from"), 1, "the changed recipe trained again")
        // --from-stage features recomputes them even though the cache is valid.
        _ = try Experiment(try RecipeLoader.load(recipe), out: out).run(force: true, from: .features, stopAfter: .features)
        XCTAssertEqual(try count("from the cache"), 2)
        XCTAssertEqual(try count("features: 540 examples in"), 2)
    }
}

extension ExperimentTests {
    /// Labels never seen in training are counted at evaluation, not scored, and nothing crashes.
    func testUnseenLabelsAreCountedAtEvaluation() throws {
        let corpus = try textCorpus()
        try ("__label__surprise what a twist\n__label__surprise unexpected\n" + (try String(contentsOfFile: corpus + "/test.txt", encoding: .utf8)))
            .write(toFile: corpus + "/test.txt", atomically: true, encoding: .utf8)
        let m = try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 1)), out: dir.appendingPathComponent("u").path).run()!
        XCTAssertEqual(m.unknownLabels, ["surprise": 2])
        XCTAssertEqual(m.n, 80)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("u/metrics.json"))) as! [String: Any]
        XCTAssertEqual(saved["unknown_labels"] as? [String: Int], ["surprise": 2])
    }

    /// A non-finite loss stops the run naming the step (the last good checkpoint stays), or with
    /// on_nan: skip, the batch is skipped and the learning rate halved.
    func testNonFiniteLossStopsOrSkips() throws {
        let corpus = try textCorpus()
        let out = dir.appendingPathComponent("nan").path
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 2), overrides: ["training.lr=1e30", "training.clip_norm=0"]), out: out).run()) { e in
            XCTAssertTrue("\(e)".contains("step") && "\(e)".contains("not finite") || "\(e)".contains("gradient norm"), "\(e)")
        }
        let skipped = try Experiment(try RecipeLoader.load(textRecipe(corpus, epochs: 1), overrides: ["training.lr=1e30", "training.clip_norm=0", "training.on_nan=skip"]),
                                     out: dir.appendingPathComponent("nan-skip").path)
        _ = try? skipped.run()
        let log = try String(contentsOfFile: dir.appendingPathComponent("nan-skip/log.txt").path, encoding: .utf8)
        XCTAssertTrue(log.contains("batch skipped, learning rate halved"), log)
    }
}
