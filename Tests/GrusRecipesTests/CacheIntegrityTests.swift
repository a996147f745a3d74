import Foundation
@testable import GrusExperiment
@testable import GrusInference
@testable import GrusRecipes
import XCTest

/// A damaged feature-cache entry is never trained on: ids outside the vocabulary (which would
/// reach the embedding as rows it does not have) and contents changed since they were written
/// (a zeroed features.bin, swapped frame counts) are found when the entry is read, logged, and
/// the entry is computed again. A model.json whose character inventory disagrees with its
/// character encoder is refused.
final class CacheIntegrityTests: FolderTestCase {
    func textRecipe() throws -> String {
        let corpus = dir.appendingPathComponent("sent")
        try writeSentimentCorpus(corpus, train: 60, dev: 20)
        let p = dir.appendingPathComponent("t.yaml").path
        try """
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, batch_size: 8}
        evaluation: {splits: [dev]}
        """.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    func audioRecipe() throws -> String { try toneRecipe() }

    /// The one entry of the shared cache, as JSON.
    func entry() throws -> (folder: URL, index: [String: Any]) {
        let root = dir.appendingPathComponent("feature-cache/features")
        let keys = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { !$0.hasSuffix(".lock") && !$0.hasPrefix(".") }
        XCTAssertEqual(keys.count, 1, "\(keys)")
        let folder = root.appendingPathComponent(keys[0])
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("features.json"))) as! [String: Any]
        return (folder, index)
    }

    func rewrite(_ folder: URL, _ index: [String: Any]) throws {
        try JSONSerialization.data(withJSONObject: index).write(to: folder.appendingPathComponent("features.json"))
    }

    /// Runs the recipe into a new folder and returns its log.
    func run(_ recipe: String, _ name: String) throws -> String {
        let out = dir.appendingPathComponent(name)
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run()
        return try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
    }

    func testOutOfRangeTokenIdIsRecomputed() throws {
        let recipe = try textRecipe()
        _ = try run(recipe, "first")
        var (folder, index) = try entry()
        var tokens = index["tokens"] as! [[Int]]
        tokens[0][0] = 1_000_000_000
        index["tokens"] = tokens
        try rewrite(folder, index)
        let log = try run(recipe, "second")
        XCTAssertTrue(log.contains("is damaged (its checksum does not match"), log)
        // With the checksum made to match, the id itself is caught.
        index = try entry().index
        tokens = index["tokens"] as! [[Int]]
        tokens[1][0] = -3
        index["tokens"] = tokens
        var decoded = try JSONDecoder().decode(FeatureCache.Index.self, from: JSONSerialization.data(withJSONObject: index))
        let cache = FeatureCache(folder: folder, key: decoded.key)
        decoded.checksum = try cache.checksum(decoded)
        try JSONEncoder().encode(decoded).write(to: folder.appendingPathComponent("features.json"))
        XCTAssertTrue(cache.problem(decoded)?.contains("token id -3 of") == true, cache.problem(decoded) ?? "no problem found")
        let again = try run(recipe, "third")
        XCTAssertTrue(again.contains("token id -3 of"), again)
    }

    /// An entry whose checksum matches but whose counts disagree (a writer's bug, or a hand-made
    /// entry) is damaged, not a crash: the fuzz target fuzz/FuzzCache reaches these checks.
    func testAnEntryWhoseCountsDisagreeIsRecomputed() throws {
        let recipe = try audioRecipe()
        _ = try run(recipe, "first")
        let (folder, index) = try entry()
        var decoded = try JSONDecoder().decode(FeatureCache.Index.self, from: JSONSerialization.data(withJSONObject: index))
        let cache = FeatureCache(folder: folder, key: decoded.key)
        decoded.frames.removeLast()
        decoded.checksum = try cache.checksum(decoded)
        XCTAssertTrue(cache.problem(decoded)?.contains("its lists disagree") == true, cache.problem(decoded) ?? "no problem found")
        var wrongDimension = try JSONDecoder().decode(FeatureCache.Index.self, from: JSONSerialization.data(withJSONObject: index))
        wrongDimension.dimension += 1
        wrongDimension.checksum = try cache.checksum(wrongDimension)
        XCTAssertTrue(cache.problem(wrongDimension)?.contains("CMVN statistics of dimension") == true, cache.problem(wrongDimension) ?? "no problem found")
        try JSONEncoder().encode(decoded).write(to: folder.appendingPathComponent("features.json"))
        let log = try run(recipe, "second")
        XCTAssertTrue(log.contains("its lists disagree"), log)
    }

    func testChangedAudioFeaturesAreRecomputed() throws {
        let recipe = try audioRecipe()
        _ = try run(recipe, "first")
        let (folder, index) = try entry()
        let bin = folder.appendingPathComponent("features.bin")
        let size = try Data(contentsOf: bin).count
        try Data(count: size).write(to: bin)                        // zeroed, same size
        XCTAssertTrue(try run(recipe, "second").contains("checksum does not match"))
        var swapped = try entry().index
        var frames = swapped["frames"] as! [Int]
        frames[0] += 1; frames[1] -= 1                               // the same total
        swapped["frames"] = frames
        try rewrite(folder, swapped)
        XCTAssertTrue(try run(recipe, "third").contains("checksum does not match"))
        _ = index
    }

    /// Character ids index the character encoder's embedding, so model.json's character
    /// inventory must be the encoder's size.
    func testModelWithOtherCharactersIsRefused() throws {
        let recipe = try characterTaggingRecipe()
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(recipe), out: out.path).run()
        XCTAssertNoThrow(try Models.load(out.path))
        let json = out.appendingPathComponent("model/model.json")
        var model = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as! [String: Any]
        var architecture = model["architecture"] as! [String: Any]
        var chars = architecture["chars"] as! [String: Any]
        chars["alphabet"] = (chars["alphabet"] as! Int) + 5
        architecture["chars"] = chars
        model["architecture"] = architecture
        try JSONSerialization.data(withJSONObject: model).write(to: json)
        XCTAssertThrowsError(try Models.load(out.path)) { XCTAssertTrue("\($0)".contains("frontEnd.text.characters:"), "\($0)") }
    }
}
