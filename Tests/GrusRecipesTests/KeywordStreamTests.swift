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

/// Keyword spotting on a stream: a classifier of half-second tones ("hi", "lo") and noise
/// ("_noise_", a filler) finds the tones in a long recording at the right times.
final class KeywordStreamTests: FolderTestCase {
    func testSpotsKeywordsInALongRecording() throws {
        let rate = ToneKeywords.rate
        var sounds = ToneKeywords(seed: 2)
        let c = try sounds.writeCorpus(in: dir)
        let p = dir.appendingPathComponent("k.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: manifest, path: \(c.path)/m.tsv}
        frontend: {type: audio, audio: {sample_rate: 8000, bins: 20, n_fft: 256}}
        model: {encoder: {hidden: 16, layers: 1, bidirectional: false}, head: {pooling: mean}}
        training: {epochs: 10, batch_size: 8, lr: 0.01, early_stopping: {metric: loss}}
        evaluation: {splits: [dev]}
        """.utf8))
        let out = dir.appendingPathComponent("exp").path
        _ = try Experiment(try RecipeLoader.load(p), out: out).run()
        // noise 1 s, hi at 1.0-1.5 s, noise 1.5 s, lo at 3.0-3.5 s, noise 1 s
        let long = sounds.noise(rate) + sounds.tone(1500) + sounds.noise(rate * 3 / 2) + sounds.tone(300) + sounds.noise(rate)
        let spot = try KeywordStream(model: out, threshold: 0.7, windowMs: 500, hopMs: 50, smooth: 2, refractoryMs: 700)
        var i = 0
        while i < long.count { _ = spot.push(Array(long[i..<min(i + 400, long.count)])); i += 400 }
        XCTAssertEqual(spot.detections.map(\.label), ["hi", "lo"], "\(spot.detections)")
        let truth = [(start: 1.0, end: 1.5, label: "hi"), (start: 3.0, end: 3.5, label: "lo")]
        let s = KeywordStream.score(spot.detections, truth: truth, seconds: spot.seconds)
        XCTAssertEqual(s.recall, 1)
        XCTAssertEqual(s.falseAlarms, 0)
        // A stricter threshold from the recorded decisions can only find fewer.
        XCTAssertLessThanOrEqual(spot.detections(threshold: 0.999).count, spot.detections.count)
        XCTAssertEqual(spot.detections(threshold: 0.7).map(\.label), ["hi", "lo"])
        // State mode: one encoder step per frame. Its first decision (the state starts at the
        // window's first frame) is the window mode's; on this stream it finds the same keywords.
        let carried = try KeywordStream(model: out, threshold: 0.7, windowMs: 500, hopMs: 50, smooth: 2, refractoryMs: 700, mode: .state)
        i = 0
        while i < long.count { _ = carried.push(Array(long[i..<min(i + 400, long.count)])); i += 400 }
        for (a, b) in zip(carried.decisions[0].posteriors, spot.decisions[0].posteriors) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(carried.decisions.count, spot.decisions.count)
        XCTAssertEqual(carried.detections.map(\.label), ["hi", "lo"], "\(carried.detections)")
        // A transcription model is not a keyword model.
        XCTAssertThrowsError(try TranscriptStream(model: out)) { XCTAssertTrue("\($0)".contains("grus stream runs transcription"), "\($0)") }
    }

    /// Training for state mode: each clip follows 0-3 other training clips (prefix_clips) and the
    /// label pools only the clip's own window (pool_window), as a stream whose state has run for
    /// a while pools its last window. Clips alone are still recognised, the model keeps its window,
    /// and without a window the recipe is refused. (How much it helps a stream is measured on
    /// real keywords: README, Streaming.)
    func testTrainsForCarriedState() throws {
        let rate = ToneKeywords.rate
        var sounds = ToneKeywords(seed: 3)
        let c = try sounds.writeCorpus(in: dir)
        let p = dir.appendingPathComponent("k.yaml").path
        try """
        corpus: {format: manifest, path: \(c.path)/m.tsv}
        frontend: {type: audio, audio: {sample_rate: 8000, bins: 20, n_fft: 256, augment: {prefix_clips: 3}}}
        model: {encoder: {hidden: 16, layers: 1, bidirectional: false}, head: {pooling: mean, pool_window: 48}}
        training: {epochs: 30, batch_size: 8, lr: 0.01}
        evaluation: {splits: [dev]}
        """.write(toFile: p, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("exp").path
        let report = try metrics(try Experiment(try RecipeLoader.load(p), out: out).run())
        XCTAssertGreaterThanOrEqual(report.accuracy, 0.9)
        let model = try XCTUnwrap(try Models.load(out) as? Predictor<ClassifyTask>)
        XCTAssertEqual(model.model.config.poolWindow, 48)
        // State mode pools the model's window of carried-state outputs; its first decision (the
        // state starts at the window's first frame) is the window mode's.
        let long = sounds.noise(rate) + sounds.tone(1500) + sounds.noise(rate)
        let carried = try KeywordStream(model: out, threshold: 0.7, windowMs: 480, hopMs: 50, smooth: 2, refractoryMs: 700, mode: .state)
        let windowed = try KeywordStream(model: out, threshold: 0.7, windowMs: 480, hopMs: 50, smooth: 2, refractoryMs: 700)
        _ = carried.push(long)
        _ = windowed.push(long)
        for (a, b) in zip(carried.decisions[0].posteriors, windowed.decisions[0].posteriors) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(carried.decisions.count, windowed.decisions.count)

        try "corpus: {format: manifest, path: \(c.path)/m.tsv}\nfrontend: {type: audio, audio: {augment: {prefix_clips: 2}}}\n".write(toFile: p, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RecipeLoader.load(p)) { XCTAssertTrue("\($0)".contains("frontend.audio.augment.prefix_clips"), "\($0)") }
    }
}

/// Half-second tones "hi" (1500 Hz) and "lo" (300 Hz), with a little pitch jitter, and
/// "_noise_" (a filler) at 8 kHz: a keyword corpus of 90 clips (75 train, 15 dev) in kws/m.tsv.
struct ToneKeywords {
    static let rate = 8000
    var rng: RNG

    init(seed: UInt64) { rng = RNG(seed: seed) }

    mutating func tone(_ hz: Double) -> [Float] {
        let rate = Self.rate
        return (0..<(rate / 2)).map { Float(0.4 * sin(2 * Double.pi * hz * (1 + 0.03 * Double(rng.normal())) * Double($0) / Double(rate))) + 0.01 * rng.normal() }
    }

    mutating func noise(_ n: Int) -> [Float] { (0..<n).map { _ in 0.02 * rng.normal() } }

    /// Writes the clips and their manifest; returns the corpus folder.
    mutating func writeCorpus(in dir: URL) throws -> URL {
        let c = dir.appendingPathComponent("kws")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        var rows = ["path\tlabel\tsplit"]
        for i in 0..<90 {
            let (label, x): (String, [Float]) = i % 3 == 0 ? ("hi", tone(1500)) : i % 3 == 1 ? ("lo", tone(300)) : ("_noise_", noise(Self.rate / 2))
            try AudioFile.write(Audio(samples: x, sampleRate: Self.rate), to: c.appendingPathComponent("\(i).wav").path)
            rows.append("\(i).wav\t\(label)\t\(i < 75 ? "train" : "dev")")
        }
        try (rows.joined(separator: "\n") + "\n").write(to: c.appendingPathComponent("m.tsv"), atomically: true, encoding: .utf8)
        return c
    }
}
