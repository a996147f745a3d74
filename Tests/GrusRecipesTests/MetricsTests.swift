import Foundation
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

final class MetricsTests: XCTestCase {
    func testScoresAgainstAHandWorkedExample() throws {
        // truth: a a a b b c ; predicted: a a b b c c
        let labels = ["a", "b", "c"]
        let truth = [0, 0, 0, 1, 1, 2]
        let pred = [0, 0, 1, 1, 2, 2]
        let scores: [[Float]] = pred.enumerated().map { i, p in
            var s: [Float] = [0.1, 0.2, 0.3]
            s[p] = 0.9
            if i == 2 { s = [0.35, 0.5, 0.15] }   // true class a is ranked 2nd
            if i == 4 { s = [0.5, 0.1, 0.9] }     // true class b is ranked 3rd
            return s
        }
        let m = Metrics.compute(labels: labels, truth: truth, scores: scores, k: 2)
        XCTAssertEqual(m.accuracy, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.perClass["a"]!.precision, 1)
        XCTAssertEqual(m.perClass["a"]!.recall, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.perClass["b"]!.f1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.perClass["c"]!.precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.macroF1, (0.8 + 0.5 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.confusion.matrix, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
        XCTAssertEqual(m.topK.accuracy, 5.0 / 6, accuracy: 1e-12, "example 4's truth (b) is ranked 3rd")
        let json = try JSONSerialization.jsonObject(with: m.json()) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["accuracy", "macro_f1", "micro_f1", "top_k", "per_class", "confusion", "n"])
        XCTAssertTrue(m.table(title: "test").contains("confusion (rows: true, columns: predicted)"))
    }
}
