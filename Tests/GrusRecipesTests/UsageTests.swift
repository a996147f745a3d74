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

    /// An output path that is one of the experiment's own files is refused before anything is written.
    func testOutputsNeverOverwriteTheExperimentsOwnFiles() throws {
        guard let grus = grusExecutable() else { return }
        let tones = try toneCorpus()
        let recipe = dir.appendingPathComponent("r.yaml").path
        try """
        corpus: {format: fsdd, path: \(tones.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 20, cmvn: global}}
        model: {encoder: {hidden: 6, layers: 1, bidirectional: false}}
        training: {epochs: 1, batch_size: 4}
        evaluation: {splits: [test]}
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
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
