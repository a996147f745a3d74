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

/// Speaker CMVN (`frontend.audio.cmvn: speaker`): statistics per speaker and split in training,
/// over the inputs' own speakers at evaluation, and a clear error when the corpus names none.
final class SpeakerCMVNTests: FolderTestCase {

    /// FSDD layout, 8 kHz tones: labels lo and hi; speaker b is speaker a's audio 8 times louder;
    /// indices 0-4 (FSDD's test split) are 3 times louder again than 5-9.
    func writeCorpus() throws -> URL {
        let corpus = dir.appendingPathComponent("tones")
        var rng = RNG(seed: 4)
        for (label, hz) in [("lo", 300.0), ("hi", 1500.0)] {
            for i in 0..<10 {
                let n = 3000 + rng.int(below: 2000)
                let f = hz * (1 + 0.03 * Double(i))
                let base = (0..<n).map { Float(0.03 * sin(2 * Double.pi * f * Double($0) / 8000)) + 0.002 * rng.normal() }
                for (speaker, gain) in [("a", Float(1)), ("b", Float(8))] {
                    let g = gain * (i < 5 ? 3 : 1)
                    try AudioFile.write(Audio(samples: base.map { $0 * g }, sampleRate: 8000),
                                        to: corpus.appendingPathComponent("\(label)_\(speaker)_\(i).wav").path)
                }
            }
        }
        return corpus
    }

    func recipe(_ corpus: URL, cmvn: String, format: String = "fsdd", epochs: Int = 6) -> String {
        let p = dir.appendingPathComponent("speaker-\(cmvn).yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: \(format), path: \(corpus.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 16, cmvn: \(cmvn)}}
        model: {encoder: {hidden: 16, layers: 1}}
        training: {epochs: \(epochs), batch_size: 4, lr: 0.01, log_every: 1000}
        evaluation: {splits: [test]}
        """.utf8))
        return p
    }

    /// Means over frames, per dimension.
    func mean(_ xs: [Tensor]) -> [Double] {
        let d = xs[0].shape[1]
        var sum = [Double](repeating: 0, count: d), n = 0.0
        for x in xs { for t in 0..<x.shape[0] { for j in 0..<d { sum[j] += Double(x.data[t * d + j]) }; n += 1 } }
        return sum.map { $0 / n }
    }

    func testStatisticsArePerSpeakerAndSplit() throws {
        let corpus = try writeCorpus()
        let stages = try stagesForTest(recipe(corpus, cmvn: "speaker"), out: dir.appendingPathComponent("exp"))
        let p = try stages.stages.prepare()
        let setup = try XCTUnwrap(try stages.stages.audioSetup(p))
        let set = try stages.stages.features(p, audio: setup.0, into: FeatureCache(folder: stages.stages.cache, key: "k"))
        let store = try XCTUnwrap(set.store)
        let per = try XCTUnwrap(store.speakerCMVN)
        XCTAssertEqual(Set(per.stats.keys), ["train/speaker:a", "train/speaker:b", "test/speaker:a", "test/speaker:b"])
        func features(_ speaker: String, _ split: Split) throws -> [Tensor] {
            try set.examples.filter { $0.item.speaker == speaker && $0.item.split == split }.map { try $0.audioFeatures(store) }
        }
        for speaker in ["a", "b"] {
            for split in [Split.train, .test] {
                // Each group is centred on its own statistics: pooled over both splits, the
                // louder test utterances would sit above zero and the training ones below.
                for m in mean(try features(speaker, split)) { XCTAssertEqual(m, 0, accuracy: 1e-4, "\(speaker) \(split)") }
            }
        }
        // One utterance is not centred on itself (its own word shifts it), unlike utterance CMVN.
        let one = try features("a", .train)[0]
        XCTAssertGreaterThan(mean([one]).map(abs).max()!, 0.3)
        // Speaker b's level is gone: its features are speaker a's, up to the dither (without
        // speaker CMVN they differ by ln 64 ≈ 4.2 in every bin before scaling).
        for split in [Split.train, .test] {
            for (x, y) in zip(try features("a", split), try features("b", split)) {
                XCTAssertEqual(x.shape, y.shape)
                let worst = zip(x.data, y.data).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 0.05)
            }
        }
    }

    /// `grus eval`'s path gathers the same statistics from the inputs it is given, so it
    /// reproduces the run's test metrics exactly; a different set of inputs normalises with its
    /// own speakers' statistics.
    func testEvaluationReproducesTheRun() throws {
        let corpus = try writeCorpus()
        let out = dir.appendingPathComponent("exp").path
        let m = try metrics(try Experiment(try RecipeLoader.load(recipe(corpus, cmvn: "speaker")), out: out).run())
        XCTAssertEqual(m.n, 20)
        XCTAssertGreaterThanOrEqual(m.accuracy, 0.9)
        let items = try CorpusReader.fsdd(corpus.path).items.filter { $0.split == .test }
        var lines: [String] = []
        let (report, bad) = try Models.load(out).evaluate(items, topK: 1, predictions: nil) { lines.append($0) }
        let again = try metrics(report)
        XCTAssertTrue(bad.isEmpty)
        XCTAssertEqual(again.confusion, m.confusion)
        XCTAssertEqual(try XCTUnwrap(again.loss), try XCTUnwrap(m.loss), accuracy: 1e-12)
        XCTAssertTrue(lines.contains("speaker CMVN: statistics of 2 speaker(s)"), "\(lines)")
    }

    /// Inputs whose speaker is not named: each is normalised over itself, or with --one-speaker
    /// over all of them, which for one speaker's inputs is that speaker's statistics.
    func testOneSpeakerPoolsInputsWithoutSpeakers() throws {
        let corpus = try writeCorpus()
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(recipe(corpus, cmvn: "speaker")), out: out).run()
        let named = try CorpusReader.fsdd(corpus.path).items.filter { $0.split == .test && $0.speaker == "b" }
        let anonymous = named.map { i -> Item in var j = i; j.speaker = nil; return j }
        let model = try Models.load(out)
        let reference = try metrics(try model.evaluate(named, topK: 1, predictions: nil) { _ in }.report)
        var lines: [String] = []
        model.oneSpeaker = true
        let pooled = try metrics(try model.evaluate(anonymous, topK: 1, predictions: nil) { lines.append($0) }.report)
        XCTAssertEqual(pooled.confusion, reference.confusion)
        XCTAssertEqual(try XCTUnwrap(pooled.loss), try XCTUnwrap(reference.loss), accuracy: 1e-12)
        XCTAssertTrue(lines.contains("speaker CMVN: statistics of all 10 inputs, as one speaker's"), "\(lines)")
        model.oneSpeaker = false
        lines = []
        let alone = try metrics(try model.evaluate(anonymous, topK: 1, predictions: nil) { lines.append($0) }.report)
        XCTAssertNotEqual(try XCTUnwrap(alone.loss), try XCTUnwrap(reference.loss), "each input normalised over itself")
        XCTAssertTrue(lines.contains { $0.contains("normalised over themselves (--one-speaker pools them)") }, "\(lines)")
        // predict with one speaker gives the evaluation's outputs.
        model.oneSpeaker = true
        var labels: [String] = []
        model.predict(AnySequence(anonymous.map { ($0.input, $0.origin) }), topK: 1) { _, r in labels.append((try? r.get().text) ?? "error") }
        let predicted = labels.map { String($0.split(separator: " ")[0]) }
        let truth = anonymous.map(\.label)
        let right = zip(predicted, truth).filter { $0 == $1 }.count
        XCTAssertEqual(Double(right) / Double(truth.count), pooled.accuracy, accuracy: 1e-12)
    }

    func testACorpusWithoutSpeakersIsRefused() throws {
        let corpus = try writeCorpus()
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".wav") }.sorted()
        let manifest = (["path\tlabel\tsplit"] + names.map { "\($0)\t\($0.split(separator: "_")[0])\t\($0.contains("_a_") ? "train" : "test")" })
            .joined(separator: "\n") + "\n"
        try manifest.write(to: corpus.appendingPathComponent("list.tsv"), atomically: true, encoding: .utf8)
        let loaded = try RecipeLoader.load(recipe(corpus.appendingPathComponent("list.tsv"), cmvn: "speaker", format: "manifest"))
        XCTAssertThrowsError(try Experiment(loaded, out: dir.appendingPathComponent("exp").path).run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("frontend.audio.cmvn") && text.contains("'speaker' column"), text)
        }
    }
}
