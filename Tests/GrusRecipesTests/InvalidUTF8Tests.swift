import Foundation
@testable import GrusData
@testable import GrusExperiment
@testable import GrusRecipes
import XCTest

/// corpus.on_invalid_utf8 reaches every text reader: the seq.in folders and tagged JSON lines too.
final class InvalidUTF8Tests: FolderTestCase {
    let bad = Data([0x66, 0xC3, 0x28, 0x6F])   // "f", a broken two-byte sequence, "o"

    func write(_ name: String, _ lines: [Data]) {
        let url = dir.appendingPathComponent(name)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: url.path, contents: Data(lines.joined(separator: Data("\n".utf8))) + Data("\n".utf8))
    }

    func seqIn() -> String {
        write("slots/train/seq.in", [Data("turn on lights".utf8), bad + Data(" on".utf8), Data("play jazz".utf8)])
        write("slots/train/seq.out", [Data("O O B-dev".utf8), Data("O O".utf8), Data("O B-genre".utf8)])
        write("slots/train/label", [Data("on".utf8), Data("on".utf8), Data("play".utf8)])
        return dir.appendingPathComponent("slots/train").path
    }

    func testSeqInFollowsThePolicy() throws {
        let folder = seqIn()
        XCTAssertThrowsError(try CorpusReader.seqIn(folder, split: .train)) { XCTAssertTrue("\($0)".contains("seq.in:2: not valid UTF-8"), "\($0)") }
        let replaced = try CorpusReader.seqIn(folder, split: .train, invalidUTF8: .replace)
        XCTAssertEqual(replaced.items.count, 3)
        XCTAssertEqual(replaced.items[1].tokens?.first, "f\u{FFFD}(o")
        let skipped = try CorpusReader.seqIn(folder, split: .train, invalidUTF8: .skip)
        XCTAssertEqual(skipped.items.map(\.label), ["on", "play"], "line 2 is left out of all three files")
        XCTAssertEqual(skipped.bad.map(\.byPolicy), [true])
        XCTAssertTrue(skipped.bad[0].origin.hasSuffix("seq.in:2"), skipped.bad[0].origin)
    }

    func testTaggedJSONLFollowsThePolicy() throws {
        write("t.jsonl", [Data(#"{"tokens": ["a"], "tags": ["O"]}"#.utf8), Data(#"{"tokens": [""#.utf8) + bad + Data(#""], "tags": ["O"]}"#.utf8)])
        let p = dir.appendingPathComponent("t.jsonl").path
        XCTAssertThrowsError(try CorpusReader.taggedJSONL(p, split: .train))
        XCTAssertEqual(try CorpusReader.taggedJSONL(p, split: .train, invalidUTF8: .replace).items.count, 2)
        let skipped = try CorpusReader.taggedJSONL(p, split: .train, invalidUTF8: .skip)
        XCTAssertEqual(skipped.items.count, 1)
        XCTAssertEqual(skipped.bad.map(\.byPolicy), [true])
    }

    /// The recipe key reaches the reader through the corpus format.
    func testTheRecipeKeyReachesTheReader() throws {
        _ = seqIn()
        let yaml = dir.appendingPathComponent("r.yaml").path
        try """
        task: joint
        corpus: {format: seq_in, path: \(dir.appendingPathComponent("slots").path), train: train, dev: '', on_invalid_utf8: replace}
        frontend: {type: text}
        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        let (items, bad) = try CorpusSource(try RecipeLoader.load(yaml).recipe).read()
        XCTAssertEqual(items.count, 3)
        XCTAssertTrue(bad.isEmpty)
    }
}
