import Foundation
@testable import GrusExperiment
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
import XCTest

/// Damaged files are reported by name, with the key and what is wrong in words, never as Swift's
/// dump of a DecodingError.
final class ReadableErrorTests: FolderTestCase {
    func trained() throws -> String {
        let out = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(try toneRecipe()), out: out).run()
        return out
    }

    func assertReadable(_ message: String, names file: String, _ what: String, line: UInt = #line) {
        XCTAssertTrue(message.contains(file), "names \(file): \(message)", line: line)
        XCTAssertTrue(message.contains(what), "says \(what): \(message)", line: line)
        for raw in ["DecodingError", "keyNotFound", "CodingKeys", "Context(", "typeMismatch"] {
            XCTAssertFalse(message.contains(raw), "raw \(raw): \(message)", line: line)
        }
    }

    func testCompareNamesTheBrokenFile() throws {
        let exp = try trained()
        let metrics = exp + "/metrics.json", training = exp + "/training.json"
        let goodMetrics = try Data(contentsOf: URL(fileURLWithPath: metrics)), goodTraining = try Data(contentsOf: URL(fileURLWithPath: training))
        try Data("[0.9]".utf8).write(to: URL(fileURLWithPath: metrics))
        XCTAssertThrowsError(try RunSummary.read(exp)) { assertReadable("\($0)", names: "metrics.json", "the top level should be an object") }
        try goodMetrics.write(to: URL(fileURLWithPath: metrics))
        try Data("{\"epochs\": 2}".utf8).write(to: URL(fileURLWithPath: training))
        XCTAssertThrowsError(try RunSummary.read(exp)) { assertReadable("\($0)", names: "training.json", "is missing") }
        try goodTraining.write(to: URL(fileURLWithPath: training))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: exp + "/seeds.json"))
        XCTAssertThrowsError(try RunSummary.read(exp)) { assertReadable("\($0)", names: "seeds.json", "not valid JSON") }
    }

    func testModelWithAnotherTaskIsExplained() throws {
        let exp = try trained()
        let json = URL(fileURLWithPath: exp + "/model/model.json")
        var model = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        model["task"] = "tag"
        try JSONSerialization.data(withJSONObject: model).write(to: json)
        XCTAssertThrowsError(try Models.load(exp)) { assertReadable("\($0)", names: "model.json", "architecture.numTags is missing") }
    }

    func testUnreadableCorpusSaysWhy() throws {
        let c = dir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        try "lonely\nwords\n".write(to: c.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        let recipe = dir.appendingPathComponent("t.yaml").path
        try "task: tag\ncorpus: {format: conll, path: \(c.path), train: train.txt, dev: '', on_bad_input: skip}\nfrontend: {type: text}\n"
            .write(toFile: recipe, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(recipe), out: dir.appendingPathComponent("e").path).run()) {
            XCTAssertTrue("\($0)".contains("train.txt:1: line 1: 1 column(s)"), "\($0)")
        }
    }
}
