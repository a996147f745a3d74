import Foundation
import GrusAudio
@testable import GrusData
@testable import GrusExperiment
@testable import GrusInference
@testable import GrusRecipes
import XCTest

/// GrusInference as a program uses it: label a file or samples in memory, and the example
/// program (Examples/label-and-spot), which uses nothing else.
final class LibraryTests: FolderTestCase {
    func trainTones() throws -> (model: String, tones: URL) {
        let recipe = try toneRecipe(hidden: 8, epochs: 4)
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(recipe), out: out).run()
        return (out, dir.appendingPathComponent("tones"))
    }

    func testLabelsFilesAndSamplesAlike() throws {
        let (path, tones) = try trainTones()
        let model = try Models.load(path)
        XCTAssertEqual(model.taskName, "classify")
        XCTAssertEqual(model.sampleRate, 8000)
        let wav = tones.appendingPathComponent("hi_a_5.wav").path
        let fromFile = try model.label(wav, topK: 2)
        XCTAssertNotNil(fromFile.label)
        XCTAssertEqual(fromFile.alternatives.count, 2)
        XCTAssertEqual(fromFile.alternatives.first?.label, fromFile.label)
        let audio = try AudioFile.read(wav)
        let fromSamples = try model.label(samples: audio.samples, sampleRate: audio.sampleRate, topK: 2)
        XCTAssertEqual(fromSamples.label, fromFile.label)
        XCTAssertEqual(fromSamples.probability, fromFile.probability, "the same samples give the same features")
        // At another rate the samples are resampled to the model's.
        let doubled = try model.label(samples: audio.samples.flatMap { [$0, $0] }, sampleRate: 16000, topK: 1)
        XCTAssertNotNil(doubled.label)
        XCTAssertThrowsError(try model.label(samples: [0, 0, 0], sampleRate: 8000, topK: 1)) { XCTAssertTrue("\($0)".contains("too short"), "\($0)") }
    }

    func testExampleProgram() throws {
        let (path, tones) = try trainTones()
        guard let grus = grusExecutable() else { return }
        let exe = URL(fileURLWithPath: grus).deletingLastPathComponent().appendingPathComponent("label-and-spot").path
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: exe), "build the example: swift build --build-tests")
        let wav = tones.appendingPathComponent("lo_b_5.wav").path
        // A recording: every tone of the corpus in a row.
        let clips = try FileManager.default.contentsOfDirectory(atPath: tones.path).filter { $0.hasSuffix(".wav") }.sorted()
        let recording = dir.appendingPathComponent("long.wav").path
        try AudioFile.write(Audio(samples: try clips.flatMap { try AudioFile.read(tones.appendingPathComponent($0).path).samples }, sampleRate: 8000), to: recording)
        let (status, text, errors) = try runCapturing(exe, [path, wav, recording])
        XCTAssertEqual(status, 0, text + errors)
        let expected = try Models.load(path).label(wav, topK: 3).text
        XCTAssertEqual(text.split(separator: "\n").first.map(String.init), "\(wav): \(expected)")
    }

    /// A text longer than the model's max_length is cut, and the prediction says so.
    func testLongTextIsNeverCutSilently() throws {
        let corpus = dir.appendingPathComponent("sent")
        try writeSentimentCorpus(corpus, train: 40, dev: 10)
        let recipe = dir.appendingPathComponent("t.yaml").path
        try """
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt}
        frontend: {type: text, text: {max_length: 4}}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, batch_size: 8}
        evaluation: {splits: [dev]}
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(recipe), out: out).run()
        let model = try Models.load(out)
        let long = try model.label("good film the plot a fine cast story")
        XCTAssertEqual(long.record["truncated"] as? [String: Int], ["kept_tokens": 4, "tokens": 8])
        XCTAssertTrue(long.text.contains("(truncated: the model read 4 of 8 tokens)"), long.text)
        let short = try model.label("good film")
        XCTAssertNil(short.record["truncated"])
    }
}
