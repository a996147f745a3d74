import Foundation
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

final class RecipeTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grus-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("corpus"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    var minimal: String {
        """
        corpus:
          format: text_tsv
          path: \(dir.appendingPathComponent("corpus").path)
        frontend:
          type: text
        """
    }

    /// Loads and expects failure; returns the issues' descriptions.
    func problems(_ path: String, overrides: [String] = []) -> [String] {
        do {
            _ = try RecipeLoader.load(path, overrides: overrides)
            XCTFail("expected \(path) to be rejected")
            return []
        } catch let e as RecipeError {
            return e.issues.map(\.description)
        } catch {
            XCTFail("unexpected error \(error)")
            return []
        }
    }

    /// Every recipe in Recipes/ loads and validates (corpus paths aside: they live elsewhere).
    func testBundledRecipesValidate() throws {
        let recipes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Recipes")
        let files = try FileManager.default.contentsOfDirectory(atPath: recipes.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 6, "\(files)")
        for f in files {
            XCTAssertNoThrow(try RecipeLoader.load(recipes.appendingPathComponent(f).path, fileExists: { _ in true }), f)
        }
        let speaker = try RecipeLoader.load(recipes.appendingPathComponent("fsdd-speaker.yaml").path, fileExists: { _ in true }).recipe
        XCTAssertEqual(speaker.corpus.split, .speaker)
        XCTAssertEqual(speaker.frontend.audio.cmvn, .speaker, "from fsdd.yaml")
        XCTAssertEqual(speaker.model.encoder.hidden, 128, "the rest comes from fsdd.yaml")
    }

    func testMinimalRecipeGetsEveryDefault() throws {
        let p = write("sst.yaml", minimal)
        let r = try RecipeLoader.load(p).recipe
        XCTAssertEqual(r.experiment.name, "sst")
        XCTAssertEqual(r.experiment.out, "experiments/sst")
        XCTAssertEqual(r.training.lr, 0.001)
        XCTAssertEqual(r.model.encoder.layers, 2)
        XCTAssertEqual(r.frontend.audio.bins, 40)
        XCTAssertEqual(r.evaluation.splits, [.dev, .test])
    }

    func testResolvedYAMLLoadsBackToTheSameRecipe() throws {
        let first = try RecipeLoader.load(write("a.yaml", minimal), overrides: ["training.epochs=3"])
        let second = try RecipeLoader.load(write("resolved.yaml", first.resolvedYAML))
        XCTAssertEqual(first.recipe, second.recipe)
    }

    func testUnknownKeysGetDidYouMean() {
        let p = write("typo.yaml", minimal + "\ntrainig:\n  epochs: 3\ntraining:\n  lrr: 0.1\n")
        let issues = problems(p)
        XCTAssertTrue(issues.contains { $0.hasPrefix(p) && $0.contains("trainig: unknown key; did you mean 'training'?") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("training.lrr: unknown key; did you mean 'lr'?") }, "\(issues)")
    }

    func testWrongTypeOutOfRangeAndChoices() {
        let p = write("bad.yaml", minimal + "\ntraining:\n  epochs: ten\n  lr: -0.1\n  optimizer: adamm\nmodel:\n  encoder:\n    bidirectional: maybe\n")
        let issues = problems(p)
        XCTAssertTrue(issues.contains { $0.contains("training.epochs: expected a whole number, got 'ten'") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("training.lr: must be greater than 0, got -0.1") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("training.optimizer: 'adamm' is not one of adam, adamw, sgd; did you mean 'adam'?") }, "\(issues)")
        XCTAssertTrue(issues.contains { $0.contains("model.encoder.bidirectional: expected true or false") }, "\(issues)")
    }

    func testMissingRequiredAndMissingPaths() {
        let p = write("missing.yaml", "frontend:\n  type: audio\ncorpus:\n  format: fsdd\n")
        XCTAssertTrue(problems(p).contains { $0.contains("corpus.path: is required") })
        let q = write("nopath.yaml", "frontend:\n  type: audio\ncorpus:\n  format: fsdd\n  path: /no/such/folder\n")
        XCTAssertTrue(problems(q).contains { $0.contains("corpus.path: '/no/such/folder' does not exist") })
        // A generated corpus need not exist yet.
        let g = write("gen.yaml", "frontend:\n  type: audio\ncorpus:\n  format: synthetic_speech_commands\n  path: /not/yet\n")
        XCTAssertNoThrow(try RecipeLoader.load(g))
    }

    func testYAMLSyntaxErrorNamesTheFile() {
        let p = write("syntax.yaml", "corpus:\n  format: [unclosed\n")
        let issues = problems(p)
        XCTAssertTrue(issues.first?.hasPrefix(p + ": YAML syntax error") ?? false, "\(issues)")
    }

    func testIncludesOverrideKeyByKeyAndCyclesAreCaught() throws {
        write("base.yaml", minimal + "\ntraining:\n  epochs: 7\n  lr: 0.01\n")
        let child = write("child.yaml", "include: base.yaml\ntraining:\n  lr: 0.05\n")
        let r = try RecipeLoader.load(child).recipe
        XCTAssertEqual(r.training.epochs, 7)
        XCTAssertEqual(r.training.lr, 0.05)
        XCTAssertEqual(r.experiment.name, "child")
        write("x.yaml", "include: y.yaml\n")
        let y = write("y.yaml", "include: x.yaml\n")
        XCTAssertTrue(problems(y).contains { $0.contains("include cycle") }, "\(problems(y))")
        let m = write("m.yaml", "include: nowhere.yaml\n")
        XCTAssertTrue(problems(m).contains { $0.contains("'nowhere.yaml' does not exist") })
    }

    func testOverridesAreTypedAndUnknownOnesRejected() throws {
        let p = write("o.yaml", minimal)
        let r = try RecipeLoader.load(p, overrides: ["training.epochs=4", "model.encoder.bidirectional=false",
                                                     "frontend.audio.augment.speeds=[0.9, 1.1]", "experiment.name=007"]).recipe
        XCTAssertEqual(r.training.epochs, 4)
        XCTAssertFalse(r.model.encoder.bidirectional)
        XCTAssertEqual(r.frontend.audio.augment.speeds, [0.9, 1.1])
        XCTAssertEqual(r.experiment.name, "007", "string keys keep the text as written")
        XCTAssertTrue(problems(p, overrides: ["training.epoch=4"]).contains { $0.contains("training.epoch: unknown key; did you mean 'epochs'?") })
        XCTAssertTrue(problems(p, overrides: ["training=4"]).contains { $0.contains("is a section") })
        XCTAssertTrue(problems(p, overrides: ["training.lr=-1"]).contains { $0.contains("training.lr: must be greater than 0") })
    }
}

extension RecipeTests {
    /// Found by fuzz/FuzzRecipe: YAML that Yams's untyped loader cannot represent.
    func testOddYAMLIsAnErrorNotACrash() {
        for text in ["[]: x\n", "{a: 1}: 2\n", "corpus: &a {format: fsdd}\nfrontend: *a\n", "training:\n  epochs: 1\n  epochs: 2\n"] {
            let p = write("odd-\(abs(text.hashValue)).yaml", text)
            XCTAssertFalse(problems(p).isEmpty, text)
        }
    }
}
