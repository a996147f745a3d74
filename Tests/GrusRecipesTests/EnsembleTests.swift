import Foundation
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// `grus eval --model A --model B`: the models' probabilities are averaged before the decision;
/// a model with itself is the model alone; models that differ in architecture are refused.
final class EnsembleTests: FolderTestCase {
    func testAveragesTheModelsAndRefusesOthers() throws {
        let tones = try toneCorpus()
        let recipe = dir.appendingPathComponent("r.yaml")
        try """
        corpus: {format: fsdd, path: \(tones.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 20, cmvn: global}}
        model: {encoder: {hidden: 6, layers: 1, bidirectional: false}}
        training: {epochs: 2, batch_size: 4}
        evaluation: {splits: [test]}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        func train(_ name: String, _ overrides: [String]) throws -> String {
            let out = dir.appendingPathComponent(name).path
            try Experiment(try RecipeLoader.load(recipe.path, overrides: overrides), out: out).run()
            return out
        }
        let a = try train("a", []), b = try train("b", ["experiment.seed=2"]), wide = try train("wide", ["model.encoder.hidden=7"])
        let items = try toneItems(tones)
        func probabilities(_ m: any LoadedModel) -> [[Double]] {
            var out: [[Double]] = []
            m.predict(AnySequence(items.map { ($0.input, $0.origin) }), topK: 2) { _, r in
                let record = try! r.get().record
                out.append((record["top_k"] as! [[String: Any]]).sorted { ($0["label"] as! String) < ($1["label"] as! String) }.map { $0["probability"] as! Double })
            }
            return out
        }
        let pa = probabilities(try Models.load(a)), pb = probabilities(try Models.load(b))
        XCTAssertEqual(probabilities(try Models.load([a, a])), pa)
        let both = probabilities(try Models.load([a, b]))
        XCTAssertNotEqual(pa, pb)
        for (k, p) in both.enumerated() { for j in p.indices { XCTAssertEqual(p[j], (pa[k][j] + pb[k][j]) / 2, accuracy: 1e-6) } }
        let (alone, _) = try Models.load(a).evaluate(items, topK: 1, predictions: nil) { _ in }
        let (doubled, _) = try Models.load([a, a]).evaluate(items, topK: 1, predictions: nil) { _ in }
        XCTAssertEqual(try metrics(alone).accuracy, try metrics(doubled).accuracy)
        XCTAssertThrowsError(try Models.load([a, wide])) { XCTAssertTrue("\($0)".contains("same labels, architecture and front end"), "\($0)") }
    }
}
