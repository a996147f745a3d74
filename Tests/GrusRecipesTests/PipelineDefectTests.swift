import Foundation
import GrusAudio
import GrusCore
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
import GrusNN
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// The defects a new user hit in the pipeline, each pinned by a test that failed before its fix.
final class PipelineDefectTests: FolderTestCase {
    override func tearDownWithError() throws {
        try super.tearDownWithError()
        Threads.set(0)
    }

    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    /// A TSV sentiment toy with train, dev and (optionally) test files.
    func textCorpus(test: Bool = true) -> String {
        var rng = RNG(seed: 9)
        func rows(_ n: Int) -> String {
            "sentence\tlabel\n" + (0..<n).map { _ -> String in
                let pos = rng.int(below: 2) == 1
                return "the \(pos ? "good" : "bad") film number \(rng.int(below: 50))\t\(pos ? "pos" : "neg")"
            }.joined(separator: "\n") + "\n"
        }
        _ = write("corpus/train.tsv", rows(120))
        _ = write("corpus/dev.tsv", rows(30))
        if test { _ = write("corpus/test.tsv", rows(30)) }
        return dir.appendingPathComponent("corpus").path
    }

    func textRecipe(_ corpus: String, test: Bool = true, extra: String = "") -> String {
        write("text.yaml", """
        corpus: {format: text_tsv, path: \(corpus), test: "\(test ? "test.tsv" : "")"}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 2, batch_size: 16, lr: 0.01, log_every: 1000}
        \(extra)
        """)
    }

    func tones(rate: Int, into name: String = "tones") throws -> String {
        let c = dir.appendingPathComponent(name)
        try writeToneCorpus(c, rate: rate)
        return c.path
    }

    func problems(_ body: () throws -> Void) -> [String] {
        do { try body() } catch let e as RecipeError { return e.issues.map(\.description) } catch { return ["not a recipe error: \(error)"] }
        return []
    }

    // 1. Schedules that break small corpora.

    func testWarmupIsCappedAtAShareOfTheRun() throws {
        var s = try RecipeLoader.load(textRecipe(textCorpus())).recipe.training.schedule
        s.warmupSteps = 200
        // About 6 steps an epoch for 20 epochs: the shipped 200-step warm-up outlasted the run.
        XCTAssertEqual(LRSchedule.warmupSteps(s, stepsPerEpoch: 6, totalSteps: 120).steps, 12)
        XCTAssertTrue(LRSchedule.warmupSteps(s, stepsPerEpoch: 6, totalSteps: 120).capped)
        // A large corpus keeps the warm-up it was given.
        XCTAssertEqual(LRSchedule.warmupSteps(s, stepsPerEpoch: 1300, totalSteps: 26000).steps, 200)
        s.warmupSteps = 0
        s.warmupEpochs = 1.5
        XCTAssertEqual(LRSchedule.warmupSteps(s, stepsPerEpoch: 100, totalSteps: 2000).steps, 150)
        s.warmupEpochs = 0
        s.warmupFraction = 0.05
        XCTAssertEqual(LRSchedule.warmupSteps(s, stepsPerEpoch: 100, totalSteps: 2000).steps, 100)
        let sched = LRSchedule(s, lr: 0.1, epochs: 20, stepsPerEpoch: 100)
        XCTAssertEqual(sched.rate(step: 99), 0.1, accuracy: 1e-12, "the warm-up ends at the base rate")
    }

    func testWarmupEpochsDoNotCountAgainstEarlyStopping() {
        var state = TrainState()
        XCTAssertTrue(state.judge(score: 0.5, loss: 1, warmupSteps: 100))
        state.step = 50
        XCTAssertFalse(state.judge(score: 0.4, loss: 2, warmupSteps: 100))
        XCTAssertEqual(state.badEpochs, 0, "an epoch inside the warm-up is not held against the run")
        state.step = 150
        XCTAssertFalse(state.judge(score: 0.4, loss: 2, warmupSteps: 100))
        XCTAssertEqual(state.badEpochs, 1)
        XCTAssertFalse(state.judge(score: 0.45, loss: 0.9, warmupSteps: 100), "not the best score: not the best checkpoint")
        XCTAssertEqual(state.badEpochs, 0, "but a falling dev loss shows the model still learning")
        XCTAssertFalse(state.judge(score: 0.45, loss: 0.95, warmupSteps: 100))
        XCTAssertEqual(state.badEpochs, 1)
        XCTAssertTrue(state.judge(score: 0.6, loss: 3, warmupSteps: 100))
        XCTAssertEqual(state.badEpochs, 0)
    }

    func testWarmupGivenTwiceIsARecipeError() throws {
        let p = textRecipe(textCorpus(), extra: "")
        let issues = problems { _ = try RecipeLoader.load(p, overrides: ["training.schedule.warmup_steps=10", "training.schedule.warmup_epochs=1"]) }
        XCTAssertTrue(issues.contains { $0.contains("training.schedule.warmup_epochs: give the warm-up once") }, "\(issues)")
    }

    // 2. Stale feature cache.

    func testEditedTextLineIsEncodedAgain() throws {
        let corpus = textCorpus()
        let recipe = textRecipe(corpus)
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run(stopAfter: .features)
        // The same file and line (so the same origin), a different text.
        var lines = try String(contentsOfFile: corpus + "/train.tsv", encoding: .utf8).components(separatedBy: "\n")
        let label = lines[1].split(separator: "\t")[1]
        lines[1] = "an entirely new sentence with unseen words\t\(label)"
        try lines.joined(separator: "\n").write(toFile: corpus + "/train.tsv", atomically: false, encoding: .utf8)
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run(stopAfter: .features)
        let log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "from the cache").count, 1, "the edited corpus must not come from the cache:\n\(log)")
    }

    func testReplacedAudioFileIsExtractedAgain() throws {
        let corpus = try tones(rate: 8000)
        let recipe = write("tones.yaml", "corpus: {format: fsdd, path: \(corpus)}\nfrontend: {type: audio}\n")
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run(stopAfter: .features)
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run(stopAfter: .features)
        var log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "from the cache").count, 2, "an unchanged corpus comes from the cache")
        // Replace one recording under the same name (a new file: new inode and time).
        let victim = corpus + "/lo_a_3.wav"
        try FileManager.default.removeItem(atPath: victim)
        try AudioFile.write(Audio(samples: (0..<4000).map { Float(0.4 * sin(Double($0))) }, sampleRate: 8000), to: victim)
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run(stopAfter: .features)
        log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "from the cache").count, 2, "a replaced file means new features:\n\(log)")
    }

    // 3. Stale or missing outputs.

    func testOutputsDescribeTheRunThatWroteThem() throws {
        let corpus = textCorpus()
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(textRecipe(corpus)), out: out.path).run()
        var metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertEqual(metrics["split"] as? String, "test")
        // The same folder, now without a test split: metrics.json and predictions.jsonl describe dev.
        try Experiment(try RecipeLoader.load(textRecipe(corpus, test: false)), out: out.path).run(force: true)
        metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as! [String: Any]
        XCTAssertEqual(metrics["split"] as? String, "dev")
        XCTAssertEqual(metrics["n"] as? Int, 30)
        let predictions = try String(contentsOf: out.appendingPathComponent("predictions.jsonl"), encoding: .utf8)
        XCTAssertEqual(predictions.split(separator: "\n").count, 30)
        XCTAssertTrue(predictions.contains("dev.tsv"), "predictions come from the dev split")
    }

    func testPredictionsAreWrittenWhenThereIsNoTestSplit() throws {
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(textRecipe(textCorpus(test: false), test: false)), out: out.path).run()
        let lines = try String(contentsOf: out.appendingPathComponent("predictions.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 30)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertNotNil(first["prediction"])
        XCTAssertNotNil(first["label"])
    }

    // 4. Threads.

    func testThreadsComeFromTheRecipe() throws {
        _ = try Experiment(try RecipeLoader.load(textRecipe(textCorpus()), overrides: ["training.threads=1"]), out: dir.appendingPathComponent("a").path)
        XCTAssertEqual(Threads.count, 1)
        var rng = RNG(seed: 1)
        XCTAssertEqual(GRUEncoder(GRUConfig(inputSize: 4, hiddenSize: 4, bidirectional: true), rng: &rng).threads, 1)
        _ = try Experiment(try RecipeLoader.load(textRecipe(textCorpus())), out: dir.appendingPathComponent("b").path)
        XCTAssertEqual(Threads.count, availableCores, "0 means the machine's cores")
    }

    // 5. Cross-field checks.

    func testCrossFieldChecksNameTheKeys() throws {
        let corpus = try tones(rate: 16000)
        let audio = write("a.yaml", "corpus: {format: fsdd, path: \(corpus)}\nfrontend: {type: audio}\n")
        var issues = problems { _ = try RecipeLoader.load(audio, overrides: ["frontend.audio.sample_rate=16000", "frontend.audio.n_fft=256"]) }
        XCTAssertTrue(issues.contains { $0.contains("frontend.audio.n_fft: 256 is smaller than the window (400 samples") }, "\(issues)")
        issues = problems { _ = try RecipeLoader.load(audio, overrides: ["frontend.audio.kind=mfcc", "frontend.audio.ceps=50"]) }
        XCTAssertTrue(issues.contains { $0.contains("frontend.audio.ceps: must be 1 to the number of mel bins (40), got 50") }, "\(issues)")
        issues = problems { _ = try RecipeLoader.load(audio, overrides: ["frontend.type=text"]) }
        XCTAssertTrue(issues.contains { $0.contains("frontend.type: 'text' does not fit corpus.format 'fsdd', whose inputs are audio") }, "\(issues)")
        // With the native rate, the FFT size is checked once the rate is known.
        issues = problems { try Experiment(try RecipeLoader.load(audio, overrides: ["frontend.audio.n_fft=256"]), out: dir.appendingPathComponent("x").path).run() }
        XCTAssertTrue(issues.contains { $0.contains("frontend.audio.n_fft: 256 is smaller than the window (400 samples") }, "\(issues)")
    }

    func testFeaturesAboveTheAudioRateAreRefused() throws {
        let corpus = try tones(rate: 8000)
        let p = write("up.yaml", "corpus: {format: fsdd, path: \(corpus)}\nfrontend: {type: audio, audio: {sample_rate: 16000}}\n")
        let issues = problems { try Experiment(try RecipeLoader.load(p), out: dir.appendingPathComponent("x").path).run() }
        XCTAssertTrue(issues.contains { $0.contains("frontend.audio.sample_rate: 16000 Hz is above the audio's own rate (8000 Hz") }, "\(issues)")
    }

    /// One 4 kHz recording in an 8 kHz corpus is named, not upsampled into bins it never had.
    func testALowerRateFileInTheCorpusIsABadInput() throws {
        let corpus = try tones(rate: 8000)
        let low = (0..<2000).map { Float(0.4 * sin(2 * Double.pi * 300 * Double($0) / 4000)) }
        try AudioFile.write(Audio(samples: low, sampleRate: 4000), to: corpus + "/lo_c_9.wav")
        let p = write("mixed.yaml", "corpus: {format: fsdd, path: \(corpus)}\nfrontend: {type: audio, audio: {bins: 20}}\nmodel: {encoder: {hidden: 8, layers: 1}}\ntraining: {epochs: 1, batch_size: 4}\n")
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(p), out: dir.appendingPathComponent("x").path).run()) {
            XCTAssertTrue("\($0)".contains("lo_c_9.wav: recorded at 4000 Hz, below the 8000 Hz the features are computed at"), "\($0)")
        }
    }

    // 6. Fragile features.

    func testFeaturesDefaultToTheNativeRate() throws {
        let corpus = try tones(rate: 8000)
        let p = write("native.yaml", """
        corpus: {format: fsdd, path: \(corpus)}
        frontend: {type: audio, audio: {bins: 20}}
        model: {encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, batch_size: 4}
        """)
        XCTAssertEqual(try RecipeLoader.load(p).recipe.frontend.audio.sampleRate, 0)
        XCTAssertTrue(try RecipeLoader.load(p).resolvedYAML.contains("sample_rate: native"))
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(p), out: out.path).run()
        let model = try Models.load(out.path)
        guard case let .audio(options, cmvn, _) = model.frontEnd else { return XCTFail("an audio model") }
        XCTAssertEqual(options.frame.sampleRate, 8000)
        XCTAssertEqual(cmvn?.relativeFloor, 0.1)
    }

    func testGlobalCMVNDoesNotAmplifyANearConstantBin() {
        // Two real dimensions and one that holds only noise of 1e-5 (a bin above the bandwidth).
        var rng = RNG(seed: 4)
        var x = Tensor(zeros: [500, 3])
        for t in 0..<500 {
            x[t, 0] = Float(rng.normal()) * 2
            x[t, 1] = Float(rng.normal()) * 3 + 1
            x[t, 2] = -20 + Float(rng.normal()) * 1e-5
        }
        var stats = CMVNStats(dimension: 3)
        stats.add(x)
        var probe = Tensor(zeros: [1, 3])
        probe[0, 2] = -20 + 1e-2      // a little resampler noise at prediction time
        XCTAssertGreaterThan(abs(stats.apply(probe)[0, 2]), 100, "without the floor the noise is multiplied by 1e5")
        stats.relativeFloor = 0.1
        XCTAssertLessThan(abs(stats.apply(probe)[0, 2]), 0.1)
        XCTAssertEqual(stats.apply(x)[0, 0], (x[0, 0] - stats.mean[0]) / stats.std[0], "real dimensions are unchanged")
    }

    // Output that was lost or mixed without a word.

    func testASecondRunOnTheSameFolderIsRefused() throws {
        let recipe = try RecipeLoader.load(textRecipe(textCorpus()))
        let out = dir.appendingPathComponent("exp").path
        let first = try Experiment(recipe, out: out)
        XCTAssertThrowsError(try Experiment(recipe, out: out)) { XCTAssertTrue("\($0)".contains("another grus run (process \(getpid()))"), "\($0)") }
        _ = first
    }

    func testResumeWithAChangedRecipeIsRefusedUnlessForced() throws {
        let p = textRecipe(textCorpus())
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(p), out: out).run()
        let issues = problems { try Experiment(try RecipeLoader.load(p, overrides: ["training.lr=0.05"]), out: out).run(resume: true) }
        XCTAssertTrue(issues.contains { $0.contains("training.lr: differs from the recipe the checkpoint") }, "\(issues)")
        XCTAssertTrue(try String(contentsOfFile: out + "/recipe.yaml", encoding: .utf8).contains("lr: 1e-2"), "recipe.yaml still says what the checkpoint used")
        XCTAssertNoThrow(try Experiment(try RecipeLoader.load(p, overrides: ["training.epochs=3"]), out: out).run(resume: true), "more epochs is what resume is for")
        XCTAssertNoThrow(try Experiment(try RecipeLoader.load(p, overrides: ["training.lr=0.05", "training.epochs=4"]), out: out).run(resume: true, force: true))
        XCTAssertTrue(try String(contentsOfFile: out + "/recipe.yaml", encoding: .utf8).contains("lr: 5e-2"))
        XCTAssertTrue(try String(contentsOfFile: out + "/log.txt", encoding: .utf8).contains("resuming with changed keys (--force): training.lr"))
    }

    func testAFailedRerunLeavesNoMixAndLogsItsError() throws {
        let p = textRecipe(textCorpus())
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(p), out: out.path).run()
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.json").path))
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(p, overrides: ["training.lr=1e30", "training.clip_norm=0"]), out: out.path).run(force: true))
        for f in ["metrics.json", "predictions.jsonl", "model/model.json", "model/model.safetensors"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), "\(f) of the earlier run must not stand beside the new recipe")
        }
        let log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("error: epoch 1 step"), log)
    }
}
