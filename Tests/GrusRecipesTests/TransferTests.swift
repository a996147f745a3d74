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

/// `model.init_from` and `training.freeze`: what is copied, what starts new, what is refused,
/// and that starting from a model trained on a large corpus beats starting from scratch on a
/// small one.
final class TransferTests: FolderTestCase {

    /// A manifest corpus of noisy 8 kHz "words": each class a pair of tones gliding from one
    /// frequency to another, at a random level, with a random speaker pitch factor.
    /// `perClass` training clips per class, 10 test clips per class.
    func writeCorpus(_ name: String, classes: [(String, Double, Double)], perClass: Int, seed: UInt64) throws -> String {
        let folder = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var rng = RNG(seed: seed)
        var rows = ["path\tlabel\tsplit"]
        for (label, f0, f1) in classes {
            for i in 0..<(perClass + 10) {
                let n = 2400 + rng.int(below: 1600), pitch = 0.85 + 0.3 * Double(rng.uniform()), level = 0.05 + 0.3 * Double(rng.uniform())
                var phase = 0.0
                let x = (0..<n).map { t -> Float in
                    let f = pitch * (f0 + (f1 - f0) * Double(t) / Double(n))
                    phase += 2 * Double.pi * f / 8000
                    return Float(level * sin(phase)) + 0.05 * rng.normal()
                }
                let file = "\(label)-\(i).wav"
                try AudioFile.write(Audio(samples: x, sampleRate: 8000), to: folder.appendingPathComponent(file).path)
                rows.append("\(file)\t\(label)\t\(i < perClass ? "train" : "test")")
            }
        }
        try (rows.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("list.tsv"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("list.tsv").path
    }

    let glides = [("a", 300.0, 900.0), ("b", 900.0, 300.0), ("c", 500.0, 500.0), ("d", 1500.0, 700.0), ("e", 700.0, 1500.0), ("f", 1200.0, 1200.0)]

    func recipe(_ manifest: String, name: String, epochs: Int, extra: String = "") -> String {
        let p = dir.appendingPathComponent("\(name).yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: manifest, path: \(manifest), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 20}}
        model: {encoder: {hidden: 32, layers: 1}\(extra)}
        training: {epochs: \(epochs), batch_size: 8, lr: 0.01, log_every: 1000}
        evaluation: {splits: [test]}
        """.utf8))
        return p
    }

    func run(_ recipe: String, _ out: String, overrides: [String] = []) throws -> Metrics {
        try metrics(try Experiment(try RecipeLoader.load(recipe, overrides: overrides), out: dir.appendingPathComponent(out).path).run())
    }

    /// A source trained on 40 clips per class of six glides; the target has other labels for
    /// four of them (a new head) and 2 clips per class.
    func testFineTuningBeatsScratchOnASmallCorpus() throws {
        let big = try writeCorpus("big", classes: glides, perClass: 40, seed: 1)
        let source = try run(recipe(big, name: "source", epochs: 8), "source")
        XCTAssertGreaterThan(source.accuracy, 0.9)
        let small = try writeCorpus("small", classes: [("up", 300, 900), ("down", 900, 300), ("rise", 700, 1500), ("flat", 1200, 1200)],
                                    perClass: 2, seed: 2)
        let scratch = try run(recipe(small, name: "scratch", epochs: 6), "scratch")
        let tuned = try run(recipe(small, name: "tuned", epochs: 6, extra: ", init_from: \(dir.appendingPathComponent("source").path)"), "tuned")
        print("transfer test: fine-tuned \(tuned.accuracy), from scratch \(scratch.accuracy)")
        XCTAssertGreaterThanOrEqual(tuned.accuracy, scratch.accuracy + 0.2, "fine-tuned \(tuned.accuracy), from scratch \(scratch.accuracy)")
        let log = try String(contentsOfFile: dir.appendingPathComponent("tuned/log.txt").path, encoding: .utf8)
        XCTAssertTrue(log.contains("a new head (the labels differ from the source's)"), log)
    }

    /// freeze_epochs = epochs trains a new head on a fixed encoder: the encoder is the source's
    /// bit for bit, the head is not. With the same labels the head is copied too.
    func testFrozenEncoderStaysTheSourcesAndSameLabelsKeepTheHead() throws {
        let big = try writeCorpus("big", classes: Array(glides.prefix(3)), perClass: 10, seed: 3)
        _ = try run(recipe(big, name: "source", epochs: 2), "source")
        let sourceDir = dir.appendingPathComponent("source").path
        let src = try Safetensors.load(URL(fileURLWithPath: sourceDir + "/model/model.safetensors")).tensors
        _ = try run(recipe(big, name: "probe", epochs: 2, extra: ", init_from: \(sourceDir)"), "probe",
                    overrides: ["training.freeze_epochs=2"])
        let probe = try Safetensors.load(URL(fileURLWithPath: dir.appendingPathComponent("probe/model/model.safetensors").path)).tensors
        for (k, v) in src where k.hasPrefix("encoder.") { XCTAssertEqual(probe[k], v, k) }
        XCTAssertNotEqual(probe["head.weight"], src["head.weight"], "the head trained")
        let log = try String(contentsOfFile: dir.appendingPathComponent("probe/log.txt").path, encoding: .utf8)
        XCTAssertTrue(log.contains("head: same task and labels"), log)
        XCTAssertTrue(log.contains("epochs 1-2: 8 transferred tensors kept fixed"), log)
        // Without freezing the encoder moves.
        _ = try run(recipe(big, name: "moving", epochs: 1, extra: ", init_from: \(sourceDir)"), "moving")
        let moving = try Safetensors.load(URL(fileURLWithPath: dir.appendingPathComponent("moving/model/model.safetensors").path)).tensors
        XCTAssertNotEqual(moving["encoder.weight_hh_l0"], src["encoder.weight_hh_l0"])
    }

    func testMismatchedEncoderIsRefusedNamingTheTensor() throws {
        let big = try writeCorpus("big", classes: Array(glides.prefix(2)), perClass: 4, seed: 5)
        _ = try run(recipe(big, name: "source", epochs: 1), "source")
        let sourceDir = dir.appendingPathComponent("source").path
        XCTAssertThrowsError(try run(recipe(big, name: "wide", epochs: 1, extra: ", init_from: \(sourceDir)"), "wide",
                                     overrides: ["model.encoder.hidden=16"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("model.init_from") && text.contains("encoder.weight_ih_l0 is [96, 20]") && text.contains("[48, 20] here"), text)
        }
        XCTAssertThrowsError(try run(recipe(big, name: "two", epochs: 1, extra: ", init_from: \(sourceDir)"), "two",
                                     overrides: ["model.encoder.layers=2"])) { error in
            XCTAssertTrue("\(error)".contains("has no encoder.weight_ih_l1"), "\(error)")
        }
        // A model.json that no longer describes its weights (a label added after training).
        let json = URL(fileURLWithPath: sourceDir + "/model/model.json")
        var described = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        described["labels"] = (described["labels"] as? [String] ?? []) + ["z"]
        try JSONSerialization.data(withJSONObject: described).write(to: json)
        XCTAssertThrowsError(try run(recipe(big, name: "edited", epochs: 1, extra: ", init_from: \(sourceDir)"), "edited")) { error in
            XCTAssertTrue("\(error)".contains("model.init_from") && "\(error)".contains("model.json and model.safetensors do not describe one model"), "\(error)")
        }
        XCTAssertThrowsError(try RecipeLoader.load(recipe(big, name: "nowhere", epochs: 1, extra: ", init_from: \(dir.path)/nowhere"))) { error in
            XCTAssertTrue("\(error)".contains("model.init_from") && "\(error)".contains("does not exist"), "\(error)")
        }
        XCTAssertThrowsError(try RecipeLoader.load(recipe(big, name: "frozen", epochs: 1), overrides: ["training.freeze_epochs=1"])) { error in
            XCTAssertTrue("\(error)".contains("training.freeze_epochs") && "\(error)".contains("needs model.init_from"), "\(error)")
        }
    }

    /// Text: the rows of shared tokens are copied, the others keep their initialisation.
    func testEmbeddingRowsOfSharedTokensAreCopied() throws {
        func corpus(_ name: String, _ words: [String]) throws -> String {
            let folder = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var rng = RNG(seed: 9)
            let lines = (0..<60).map { i -> String in
                let label = i % 2 == 0 ? "pos" : "neg"
                return "__label__\(label) " + (0..<4).map { _ in words[rng.int(below: words.count)] }.joined(separator: " ") + (label == "pos" ? " good" : " bad")
            }
            for f in ["train.txt", "test.txt"] { try lines.joined(separator: "\n").write(to: folder.appendingPathComponent(f), atomically: true, encoding: .utf8) }
            return folder.path
        }
        func recipe(_ corpus: String, _ name: String, extra: String = "") -> String {
            let p = dir.appendingPathComponent("\(name).yaml").path
            FileManager.default.createFile(atPath: p, contents: Data("""
            corpus: {format: fasttext, path: \(corpus), train: train.txt, dev: '', test: test.txt, dev_fraction: 0}
            frontend: {type: text}
            model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}\(extra)}
            training: {epochs: 1, batch_size: 8, log_every: 1000}
            evaluation: {splits: [test]}
            """.utf8))
            return p
        }
        let a = try corpus("a", ["red", "green", "blue", "cyan"])
        let b = try corpus("b", ["red", "green", "pink", "grey"])
        _ = try run(recipe(a, "source"), "source")
        let sourceDir = dir.appendingPathComponent("source").path
        _ = try run(recipe(b, "target", extra: ", init_from: \(sourceDir)"), "target", overrides: ["training.freeze=[embedding, encoder]", "training.freeze_epochs=1"])
        func rows(_ exp: String) throws -> [String: [Float]] {
            let w = try XCTUnwrap(Safetensors.load(URL(fileURLWithPath: dir.appendingPathComponent("\(exp)/model/model.safetensors").path)).tensors["embedding.weight"])
            guard case let .text(enc) = try ModelBundle<ClassifyTask>.load(ModelFolder.locate(dir.appendingPathComponent(exp).path)).bundle.frontEnd else {
                XCTFail("not a text model"); return [:]
            }
            return Dictionary(uniqueKeysWithValues: enc.vocabulary.tokens.enumerated().map { ($1, Array(w.data[($0 * 8)..<($0 * 8 + 8)])) })
        }
        let src = try rows("source"), dst = try rows("target")
        for t in ["red", "green", "good", "bad"] { XCTAssertEqual(dst[t], src[t], t) }
        XCTAssertNil(src["pink"])
        XCTAssertNotNil(dst["pink"])
        let log = try String(contentsOfFile: dir.appendingPathComponent("target/log.txt").path, encoding: .utf8)
        XCTAssertTrue(log.contains("embedding rows of"), log)
    }
}

extension TransferTests {
    /// A model trained on the synthetic speech-commands corpus (espeak-ng voices), fine-tuned on a
    /// small corpus of two other voices, beats a model trained on that small corpus alone, on
    /// voices neither has heard.
    func testFineTuningFromTheSyntheticSpeechCommandsCorpus() throws {
        let folder = dir.appendingPathComponent("sc").path
        var settings = SyntheticSpeechCommands.Settings()
        settings.voices = 16
        settings.repetitions = 2
        settings.unknownPerVoice = 2
        settings.silencePerVoice = 1
        try SyntheticSpeechCommands.ensure(folder, settings: settings) { _ in }
        // Source: the 12 training voices; the 2 dev voices pick its best epoch.
        let source = dir.appendingPathComponent("source.yaml").path
        FileManager.default.createFile(atPath: source, contents: Data("""
        corpus: {format: speech_commands, path: \(folder)}
        frontend: {type: audio, audio: {bins: 20}}
        model: {encoder: {hidden: 32, layers: 1}}
        training: {epochs: 20, batch_size: 16, lr: 0.005, log_every: 1000}
        evaluation: {splits: [test]}
        """.utf8))
        let pretrained = try run(source, "pretrained")
        // The small corpus: the dev voices' clips train, the test voices' clips test.
        func list(_ name: String) throws -> [String] {
            try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let rows = ["path\tlabel\tsplit"] + (try list("validation_list.txt")).map { "\($0)\t\($0.split(separator: "/")[0])\ttrain" }
            + (try list("testing_list.txt")).map { "\($0)\t\($0.split(separator: "/")[0])\ttest" }
        try (rows.joined(separator: "\n") + "\n").write(toFile: folder + "/small.tsv", atomically: true, encoding: .utf8)
        func small(_ name: String, _ extra: String) -> String {
            let p = dir.appendingPathComponent("\(name).yaml").path
            FileManager.default.createFile(atPath: p, contents: Data("""
            corpus: {format: manifest, path: \(folder)/small.tsv, dev_fraction: 0}
            frontend: {type: audio, audio: {bins: 20}}
            model: {encoder: {hidden: 32, layers: 1}\(extra)}
            training: {epochs: 12, batch_size: 8, lr: 0.005, log_every: 1000}
            evaluation: {splits: [test]}
            """.utf8))
            return p
        }
        let scratch = try run(small("scratch", ""), "scratch")
        let tuned = try run(small("tuned", ", init_from: \(dir.appendingPathComponent("pretrained").path)"), "tuned", overrides: ["training.freeze_epochs=3"])
        print("synthetic speech commands: source \(pretrained.accuracy), small corpus from scratch \(scratch.accuracy), fine-tuned \(tuned.accuracy)")
        XCTAssertGreaterThanOrEqual(tuned.accuracy, scratch.accuracy + 0.2, "fine-tuned \(tuned.accuracy), from scratch \(scratch.accuracy)")
    }
}
