import Foundation
@testable import GrusExperiment
@testable import GrusInference
@testable import GrusRecipes
import XCTest

/// Flags whose values cannot mean anything are usage errors (exit 64), never a silent success.
final class UsageTests: FolderTestCase {
    func testCachePruneRefusesValuesThatMeanNothing() throws {
        guard let grus = grusExecutable() else { return }
        for (flag, value) in [("--older-than", "nan"), ("--older-than", "inf"), ("--older-than", "-1"), ("--max-mb", "nan"), ("--max-mb", "-5")] {
            let r = try runCapturing(grus, ["cache", "prune", "--dir", dir.path, flag, value])
            XCTAssertEqual(r.status, 64, "\(flag) \(value): \(r.stdout)\(r.stderr)")
            XCTAssertTrue(r.stderr.contains(flag), r.stderr)
        }
        XCTAssertEqual(try runCapturing(grus, ["cache", "prune", "--dir", dir.path, "--older-than", "1"]).status, 0)
    }

    /// An experiment folder that cannot be made is named with the reason, not a Foundation error.
    func testAnOutFolderThatCannotBeMadeIsNamed() throws {
        guard let grus = grusExecutable() else { return }
        let recipe = try toneRecipe()
        let file = dir.appendingPathComponent("a-file")
        FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
        let cases = [(file.path + "/exp", "\(file.path) is a file, not a folder"), (file.path, "\(file.path) is a file, not a folder"),
                     ("/proc/grus-test-\(getpid())", "/proc/grus-test-\(getpid()) could not be created (No such file or directory")]
        for (out, says) in cases {
            let r = try runCapturing(grus, ["run", recipe, "--out", out])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("the experiment folder cannot be made: " + says), r.stderr)
            XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
        }
    }

    /// An output path that is one of the experiment's own files is refused before anything is written.
    func testOutputsNeverOverwriteTheExperimentsOwnFiles() throws {
        guard let grus = grusExecutable() else { return }
        let recipe = try toneRecipe(), tones = dir.appendingPathComponent("tones")
        let exp = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(recipe), out: exp).run()
        let weights = try Data(contentsOf: URL(fileURLWithPath: exp + "/model/model.safetensors"))
        for args in [["export", "--onnx", exp, exp + "/model/model.safetensors"], ["export", "--onnx", exp + "/model", exp + "/metrics.json"],
                     ["eval", "--model", exp, "--data", tones.path, "--report", exp + "/model/model.json"]] {
            let r = try runCapturing(grus, args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("own"), r.stderr)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: exp + "/model/model.safetensors")), weights)
        XCTAssertNoThrow(try Models.load(exp))
        // Beside the experiment's files, a new file is fine.
        XCTAssertEqual(try runCapturing(grus, ["export", "--onnx", exp, exp + "/model.onnx"]).status, 0)
    }
}

/// grus eval, as grus run: inputs it could not use are a failure (exit 1) unless the policy says skip.
final class EvalBadInputTests: FolderTestCase {
    func testBadInputsFailUnlessSkipped() throws {
        guard let grus = grusExecutable() else { return }
        let recipe = try toneRecipe(), tones = dir.appendingPathComponent("tones")
        let exp = dir.appendingPathComponent("exp").path
        XCTAssertEqual(try runCapturing(grus, ["run", recipe, "--out", exp]).status, 0)
        FileManager.default.createFile(atPath: tones.appendingPathComponent("lo_a_1.wav").path, contents: Data("not audio at all".utf8))
        let failed = try runCapturing(grus, ["eval", "--model", exp, "--data", tones.path, "--split", "test"])
        XCTAssertEqual(failed.status, 1, failed.stdout + failed.stderr)
        XCTAssertTrue(failed.stdout.contains("lo_a_1.wav"), failed.stdout)
        XCTAssertTrue(failed.stderr.contains("on_bad_input=skip"), failed.stderr)
        let skipped = try runCapturing(grus, ["eval", "--model", exp, "--data", tones.path, "--split", "test", "--set", "corpus.on_bad_input=skip"])
        XCTAssertEqual(skipped.status, 0, skipped.stdout + skipped.stderr)
        XCTAssertTrue(skipped.stdout.contains("1 input(s) could not be used"), skipped.stdout)
    }
}
