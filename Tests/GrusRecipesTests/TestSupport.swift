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

/// A test case with a fresh temporary folder, `dir`, removed afterwards. The shared feature cache
/// of the runs it makes (and of the grus processes it starts) is `dir/feature-cache`, so each
/// test computes its own features and leaves nothing in the user's cache.
class FolderTestCase: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grus-\(type(of: self))-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        setenv(CacheDirectory.environment, dir.appendingPathComponent("feature-cache").path, 1)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// `dir/tones`, an FSDD-layout corpus of half-second tones at 8 kHz (`writeToneCorpus`).
    func toneCorpus() throws -> URL {
        let tones = dir.appendingPathComponent("tones")
        try FileManager.default.createDirectory(at: tones, withIntermediateDirectories: true)
        try writeToneCorpus(tones, rate: 8000)
        return tones
    }

    /// `dir/tones.yaml` on the tone corpus (made here): a small unidirectional GRU classifier whose
    /// test split is evaluated. `training`: more keys of the training section.
    /// A CoNLL tagging corpus (train and dev) and a recipe with a character encoder, so a run's
    /// cache entry holds token ids and character ids.
    func characterTaggingRecipe() throws -> String {
        let c = dir.appendingPathComponent("tags")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        let text = (0..<40).map { i in "the O\nred B-COL\nbox\(i % 3) O" }.joined(separator: "\n\n") + "\n"
        for name in ["train.txt", "dev.txt"] { try text.write(to: c.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let recipe = dir.appendingPathComponent("c.yaml").path
        try """
        task: tag
        corpus: {format: conll, path: \(c.path), train: train.txt, dev: dev.txt, test: ""}
        frontend: {type: text}
        model: {embedding_dim: 8, char_encoder: {dim: 4, hidden: 4}, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, batch_size: 8}
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        return recipe
    }

    func toneRecipe(hidden: Int = 6, epochs: Int = 1, training: String = "") throws -> String {
        let tones = try toneCorpus()
        let path = dir.appendingPathComponent("tones.yaml").path
        try """
        corpus: {format: fsdd, path: \(tones.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 20, cmvn: global}}
        model: {encoder: {hidden: \(hidden), layers: 1, bidirectional: false}}
        training: {epochs: \(epochs), batch_size: 4\(training.isEmpty ? "" : ", " + training)}
        evaluation: {splits: [test]}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The tone corpus's recordings as test items labelled lo or hi.
    func toneItems(_ tones: URL) throws -> [Item] {
        try FileManager.default.contentsOfDirectory(atPath: tones.path).filter { $0.hasSuffix(".wav") }.sorted().map {
            Item(input: tones.appendingPathComponent($0).path, label: String($0.prefix(2)), split: .test, origin: $0)
        }
    }
}

/// The classification stages of a recipe, for tests that look at what a stage returns.
struct StagesForTest {
    let stages: Stages<ClassifyTask>

    /// Runs prepare and features and returns the examples.
    func features() throws -> [Example] {
        let p = try stages.prepare()
        let setup = try stages.audioSetup(p)
        let cache = FeatureCache(folder: stages.cache, key: stages.featureKey(p))
        return try stages.features(p, audio: setup?.0, into: cache).examples
    }
}

func stagesForTest(_ recipe: String, out: URL) throws -> StagesForTest {
    let loaded = try RecipeLoader.load(recipe)
    try FileManager.default.createDirectory(at: out.appendingPathComponent("cache"), withIntermediateDirectories: true)
    return StagesForTest(stages: Stages<ClassifyTask>(recipe: loaded.recipe, recipeFile: recipe, folder: out,
                                                      log: RunLog(out.appendingPathComponent("log.txt"))))
}

/// The classification report of a run.
func metrics(_ report: (any TaskReport)?, file: StaticString = #filePath, line: UInt = #line) throws -> Metrics {
    try XCTUnwrap(report as? Metrics, "expected a classification report", file: file, line: line)
}

/// The `grus` executable built beside the test bundle (`swift build --build-tests` builds it).
func grusExecutable(file: StaticString = #filePath, line: UInt = #line) -> String? {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [here, here.deletingLastPathComponent()] {
        let p = candidate.appendingPathComponent("grus").path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    XCTFail("the grus executable was not found next to \(here.path); build it with `swift build --build-tests`", file: file, line: line)
    return nil
}

/// Runs a program to completion, returning its exit status, standard output and standard error.
func runCapturing(_ exe: String, _ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Runs a program to completion, returning its exit status and standard error.
func runProgram(_ exe: String, _ args: [String], environment: [String: String] = [:]) throws -> (process: Process, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let err = Pipe()
    p.standardOutput = FileHandle.nullDevice
    p.standardError = err
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p, String(decoding: data, as: UTF8.self))
}

/// An FSDD-layout corpus of half-second tones: labels lo and hi, speakers a and b, indices 0-5
/// (0-4 are FSDD's test split), a slightly different pitch per index.
func writeToneCorpus(_ folder: URL, rate: Int) throws {
    for (label, hz) in [("lo", 300.0), ("hi", 1500.0)] {
        for s in ["a", "b"] {
            for i in 0..<6 {
                let x = (0..<(rate / 2)).map { Float(0.4 * sin(2 * Double.pi * hz * (1 + 0.02 * Double(i)) * Double($0) / Double(rate))) }
                try AudioFile.write(Audio(samples: x, sampleRate: rate), to: folder.appendingPathComponent("\(label)_\(s)_\(i).wav").path)
            }
        }
    }
}

/// A fastText corpus of random sentences over ten words, labelled pos when "good" or "fine"
/// occurs: `train` lines in train.txt and `dev` in dev.txt (the same lines for the same counts).
func writeSentimentCorpus(_ folder: URL, train: Int, dev: Int) throws {
    var rng = RNG(seed: 4)
    let words = ["good", "bad", "film", "plot", "the", "a", "fine", "dull", "cast", "story"]
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, n) in [("train.txt", train), ("dev.txt", dev)] {
        let lines = (0..<n).map { _ -> String in
            let ws = (0..<(2 + rng.int(below: 6))).map { _ in words[rng.int(below: words.count)] }
            return "__label__\(ws.contains("good") || ws.contains("fine") ? "pos" : "neg") " + ws.joined(separator: " ")
        }
        try lines.joined(separator: "\n").write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
}
