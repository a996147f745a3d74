import Foundation
@testable import GrusExperiment
import XCTest

/// Ids read from files, through the release build (`-Ounchecked`, where an array's range check
/// is compiled out and an id outside the embedding is a wild read): each is checked where it is
/// read. `make test` builds .build/release/grus first.
final class ReleaseBuildTests: FolderTestCase {
    var release: String? {
        let p = SmallRealCorpusTests.repo.appendingPathComponent(".build/release/grus").path
        guard FileManager.default.isExecutableFile(atPath: p) else {
            print("ReleaseBuildTests: \(p) is absent (make test builds it); the release-build checks did not run")
            return nil
        }
        return p
    }

    /// Rewrites the one cache entry with `change` applied and its checksum made to match, so
    /// only the id check stands between the ids and the model.
    func damageEntry(_ change: (inout FeatureCache.Index) -> Void) throws {
        let root = dir.appendingPathComponent("feature-cache/features")
        let key = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: root.path).first { !$0.hasSuffix(".lock") && !$0.hasPrefix(".") })
        let folder = root.appendingPathComponent(key)
        var index = try JSONDecoder().decode(FeatureCache.Index.self, from: Data(contentsOf: folder.appendingPathComponent("features.json")))
        change(&index)
        let cache = FeatureCache(folder: folder, key: index.key)
        index.checksum = try cache.checksum(index)
        try JSONEncoder().encode(index).write(to: folder.appendingPathComponent("features.json"))
    }

    func testIdsFromFilesAreCheckedInTheReleaseBuild() throws {
        guard let grus = release else { return }
        let r = try characterTaggingRecipe()
        XCTAssertEqual(try runCapturing(grus, ["run", r, "--out", dir.appendingPathComponent("a").path]).status, 0)
        for (n, (change, says)) in [({ (i: inout FeatureCache.Index) in i.tokens![0][0] = 1_000_000_000 }, "token id 1000000000"),
                                    ({ (i: inout FeatureCache.Index) in i.tokens![2][0] = -7 }, "token id -7"),
                                    ({ (i: inout FeatureCache.Index) in i.chars![1][0][0] = 1 << 40 }, "character id \(1 << 40)")].enumerated() {
            try damageEntry(change)
            let out = dir.appendingPathComponent("run\(n)").path
            let run = try runCapturing(grus, ["run", r, "--out", out])
            XCTAssertEqual(run.status, 0, run.stderr)
            let log = try String(contentsOfFile: out + "/log.txt", encoding: .utf8)
            XCTAssertTrue(log.contains(says), log)
        }
        // A model whose vocabulary is longer than its embedding: its ids would pass the end.
        let model = dir.appendingPathComponent("a/model/model.json")
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: model)) as? [String: Any])
        var front = json["frontEnd"] as! [String: Any], text = front["text"] as! [String: Any], enc = text["_0"] as! [String: Any]
        var vocabulary = enc["vocabulary"] as! [String: Any]
        vocabulary["tokens"] = (vocabulary["tokens"] as! [String]) + ["zebra", "yak"]
        enc["vocabulary"] = vocabulary; text["_0"] = enc; front["text"] = text; json["frontEnd"] = front
        try JSONSerialization.data(withJSONObject: json).write(to: model)
        let input = dir.appendingPathComponent("in.txt")
        try "zebra yak good\n".write(to: input, atomically: true, encoding: .utf8)
        let predict = try runCapturing(grus, ["predict", "--model", dir.appendingPathComponent("a").path, input.path])
        XCTAssertEqual(predict.status, 1, predict.stdout)
        XCTAssertTrue(predict.stderr.contains("the embedding has"), predict.stderr)
    }
}
