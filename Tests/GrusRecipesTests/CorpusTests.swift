import XCTest
import Foundation
@testable import GrusData

final class CorpusTests: FolderTestCase {

    func touch(_ rel: String, _ text: String = "") {
        let url = dir.appendingPathComponent(rel)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8))
    }

    func testSHA1KnownVectors() {
        func hex(_ s: String) -> String { SHA1.hash(Array(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        XCTAssertEqual(hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    func testWardenSplitKeepsASpeakerTogether() {
        let a = CorpusReader.wardenSplit("0a7c2a8d_nohash_0.wav", validationPercent: 10, testPercent: 10)
        for i in 1..<5 { XCTAssertEqual(CorpusReader.wardenSplit("0a7c2a8d_nohash_\(i).wav", validationPercent: 10, testPercent: 10), a) }
        // Over many speakers the shares come out near 80/10/10.
        var counts: [Split: Int] = [:]
        for i in 0..<3000 { counts[CorpusReader.wardenSplit(String(format: "%08x_nohash_0.wav", i * 7919), validationPercent: 10, testPercent: 10), default: 0] += 1 }
        XCTAssertEqual(Double(counts[.train]!) / 3000, 0.8, accuracy: 0.03)
    }

    func testFSDDSplits() throws {
        for d in ["0", "1"] { for s in ["ann", "bob"] { for i in [0, 4, 5, 30] { touch("recordings/\(d)_\(s)_\(i).wav") } } }
        touch("recordings/oops.wav")
        let (items, bad) = try CorpusReader.fsdd(dir.path)
        XCTAssertEqual(items.count, 16)
        XCTAssertEqual(items.filter { $0.split == .test }.count, 8, "index 0-4 is test")
        XCTAssertEqual(bad.count, 1)
        XCTAssertTrue(bad[0].origin.hasSuffix("oops.wav"))
        let held = try CorpusReader.fsdd(dir.path, testSpeaker: "bob").items
        XCTAssertTrue(held.allSatisfy { ($0.speaker == "bob") == ($0.split == .test) })
        XCTAssertThrowsError(try CorpusReader.fsdd(dir.path, testSpeaker: "zed")) { XCTAssertTrue("\($0)".contains("ann, bob")) }
    }

    func testSpeechCommandsLayoutWithLists() throws {
        touch("yes/a_nohash_0.wav"); touch("yes/b_nohash_0.wav"); touch("no/c_nohash_0.wav"); touch("no/d_nohash_0.wav")
        touch("_background_noise_/white.wav")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty_label"), withIntermediateDirectories: true)
        touch("validation_list.txt", "yes/b_nohash_0.wav\n")
        touch("testing_list.txt", "no/d_nohash_0.wav\n")
        let (items, bad) = try CorpusReader.speechCommands(dir.path)
        XCTAssertEqual(Set(items.map(\.label)), ["yes", "no"])
        XCTAssertEqual(items.first { $0.input.hasSuffix("b_nohash_0.wav") }?.split, .dev)
        XCTAssertEqual(items.first { $0.input.hasSuffix("d_nohash_0.wav") }?.split, .test)
        XCTAssertEqual(bad.map { ($0.origin as NSString).lastPathComponent }, ["empty_label"])
    }

    func testTextFormats() throws {
        touch("sst.tsv", "sentence\tlabel\nit is fine\t1\nbad movie\t0\n\nshort\n")
        let (tsv, bad) = try CorpusReader.textFile(dir.appendingPathComponent("sst.tsv").path, split: .train, format: .textTSV)
        XCTAssertEqual(tsv.map(\.label), ["1", "0"])
        XCTAssertEqual(bad.map(\.reason), ["expected 2 tab-separated columns, found 1"], "a blank line is no bad input")
        XCTAssertTrue(bad.first?.origin.hasSuffix("sst.tsv:5") ?? false)
        touch("ft.txt", "__label__pos great fun\n__label__neg dull\nno label here\n")
        let ft = try CorpusReader.textFile(dir.appendingPathComponent("ft.txt").path, split: .train, format: .fasttext)
        XCTAssertEqual(ft.items.map(\.label), ["pos", "neg"])
        XCTAssertEqual(ft.items[0].input, "great fun")
        XCTAssertEqual(ft.bad.count, 1)
        touch("trec.txt", "NUM:date When was it ?\nLOC:city Where ?\n")
        XCTAssertEqual(try CorpusReader.textFile(dir.appendingPathComponent("trec.txt").path, split: .test, format: .trec).items.map(\.label), ["NUM", "LOC"])
        XCTAssertEqual(try CorpusReader.textFile(dir.appendingPathComponent("trec.txt").path, split: .test, format: .trec, trecLabel: .fine).items.map(\.label), ["NUM:date", "LOC:city"])
        touch("pairs.tsv", "pos\tgood\n")
        XCTAssertEqual(try CorpusReader.textFile(dir.appendingPathComponent("pairs.tsv").path, split: .train, format: .textPairs, order: .labelText).items.first?.input, "good")
        touch("head.tsv", "text\tlabel\nx\t1\n")
        XCTAssertThrowsError(try CorpusReader.textFile(dir.appendingPathComponent("head.tsv").path, split: .train, format: .textTSV)) {
            XCTAssertTrue("\($0)".contains("head.tsv:1"))
        }
    }

    func testCarveDevIsDeterministicAndPerLabel() {
        let items = (0..<100).map { Item(input: "\($0)", label: $0 % 2 == 0 ? "a" : "b", split: .train, origin: "x") }
        let a = CorpusReader.carveDev(items, fraction: 0.1, seed: 3)
        XCTAssertEqual(a, CorpusReader.carveDev(items, fraction: 0.1, seed: 3))
        XCTAssertEqual(a.filter { $0.split == .dev && $0.label == "a" }.count, 5)
        XCTAssertEqual(a.filter { $0.split == .dev && $0.label == "b" }.count, 5)
    }
}

extension CorpusTests {
    func testManifestsInCSVTSVAndJSONL() throws {
        touch("m/clips/a.wav"); touch("m/clips/b.wav")
        touch("m/list.csv", "path,label,split\nclips/a.wav,yes,train\n\"clips/b.wav\",\"no, really\",test\nclips/c.wav,,dev\nclips/d.wav,go,later\n")
        let (csv, bad) = try CorpusReader.manifest(dir.appendingPathComponent("m/list.csv").path, inputColumn: "path",
                                                   labelColumn: "label", splitColumn: "split", audio: true)
        XCTAssertEqual(csv.map(\.label), ["yes", "no, really"])
        XCTAssertEqual(csv.map(\.split), [.train, .test])
        XCTAssertEqual(csv[0].input, dir.appendingPathComponent("m/clips/a.wav").path, "relative to the manifest")
        XCTAssertEqual(bad.map(\.reason), ["no 'label' value", "split 'later' is not train, dev or test"])
        XCTAssertTrue(bad[0].origin.hasSuffix("list.csv:4"))
        touch("m/t.tsv", "text\tlabel\nhello there\tgreet\nbye\n")
        let tsv = try CorpusReader.manifest(dir.appendingPathComponent("m/t.tsv").path, inputColumn: "text", labelColumn: "label", splitColumn: "split", audio: false)
        XCTAssertEqual(tsv.items.map(\.input), ["hello there"])
        XCTAssertEqual(tsv.items[0].split, .train, "no split column: training data")
        XCTAssertEqual(tsv.bad.count, 1)
        touch("m/t.jsonl", "{\"text\": \"play jazz\", \"label\": \"music\", \"split\": \"validation\"}\nnot json\n")
        let jl = try CorpusReader.manifest(dir.appendingPathComponent("m/t.jsonl").path, inputColumn: "text", labelColumn: "label", splitColumn: "split", audio: false)
        XCTAssertEqual(jl.items.first?.split, .dev)
        XCTAssertEqual(jl.bad.first?.reason, "not a JSON object")
        touch("m/open.csv", "text,label\n\"unclosed,x\n")
        XCTAssertThrowsError(try CorpusReader.manifest(dir.appendingPathComponent("m/open.csv").path, inputColumn: "text", labelColumn: "label", splitColumn: "split", audio: false)) {
            XCTAssertTrue("\($0)".contains("open.csv:2"), "\($0)")
        }
    }
}
