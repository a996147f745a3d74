import XCTest
import Foundation
@testable import GrusData

/// Readers of corpora with a tag per token.
final class TaggingCorpusTests: FolderTestCase {
    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        try? FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func testCoNLLUSkipsCommentsRangesAndEmptyNodes() throws {
        let p = write("a.conllu", """
        # sent_id = s1
        # text = Don't go.
        1-2\tDon't\t_\t_\t_\t_\t_\t_\t_\t_
        1\tDo\tdo\tAUX\tVBP\t_\t3\taux\t_\t_
        2\tn't\tnot\tPART\tRB\t_\t3\tadvmod\t_\t_
        3\tgo\tgo\tVERB\tVB\t_\t0\troot\t_\t_
        3.1\tgone\tgo\tVERB\tVBN\t_\t_\t_\t3:conj\t_
        4\t.\t.\tPUNCT\t.\t_\t3\tpunct\t_\t_

        # sent_id = s2
        1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_
        2\tbroken line
        3\tthere\tthere\tADV\tRB\t_\t1\tadvmod\t_\t_


        """)
        let r = try CorpusReader.conllu(p, split: .train)
        XCTAssertEqual(r.items.count, 1)
        XCTAssertEqual(r.items[0].tokens, ["Do", "n't", "go", "."])
        XCTAssertEqual(r.items[0].tags, ["AUX", "PART", "VERB", "PUNCT"])
        XCTAssertTrue(r.items[0].origin.hasSuffix("a.conllu:1 (s1)"), r.items[0].origin)
        XCTAssertEqual(try CorpusReader.conllu(p, column: .xpos, split: .train).items[0].tags, ["VBP", "RB", "VB", "."])
        XCTAssertEqual(r.bad.count, 1)
        XCTAssertTrue(r.bad[0].description.contains("a.conllu:10 (s2): line 12: 2 tab-separated columns, CoNLL-U has 10"), "\(r.bad)")
    }

    func testCoNLLColumnsAndDocstart() throws {
        let p = write("a.txt", "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\nlonely\n")
        let r = try CorpusReader.conll(p, split: .dev)
        // A one-column line is not a word that is its own tag: it is a bad input.
        XCTAssertEqual(r.items.map { $0.tags! }, [["B-ORG", "O"], ["B-PER", "I-PER"]])
        XCTAssertTrue(r.bad.first?.description.contains("a.txt:9: line 9: 1 column(s)") ?? false, "\(r.bad)")
        let pos = try CorpusReader.conll(p, tokenColumn: 0, tagColumn: 1, split: .dev)
        XCTAssertEqual(pos.items.count, 2)
        XCTAssertTrue(pos.bad.first?.description.contains("a.txt:9: line 9: 1 columns") ?? false, "\(pos.bad)")
    }

    func testSeqInLayoutNamesMisalignedLines() throws {
        _ = write("train/seq.in", "book a flight to boston\nplay music\n")
        _ = write("train/seq.out", "O O O O B-toloc.city_name\nO\n")
        _ = write("train/label", "atis_flight\nPlayMusic\n")
        let r = try CorpusReader.seqIn(dir.appendingPathComponent("train").path, split: .train)
        XCTAssertEqual(r.items.count, 1)
        XCTAssertEqual(r.items[0].label, "atis_flight")
        XCTAssertEqual(r.items[0].tags?.last, "B-toloc.city_name")
        XCTAssertTrue(r.bad.first?.description.contains("seq.out:2: 1 tags for the 2 tokens of seq.in line 2") ?? false, "\(r.bad)")
        _ = write("bad/seq.in", "a\nb\n")
        _ = write("bad/seq.out", "O\n")
        _ = write("bad/label", "x\ny\n")
        XCTAssertThrowsError(try CorpusReader.seqIn(dir.appendingPathComponent("bad").path, split: .train)) {
            XCTAssertTrue("\($0)".contains("seq.in has 2 lines, seq.out 1"), "\($0)")
        }
    }

    func testTaggedJSONL() throws {
        let p = write("t.jsonl", """
        {"tokens": ["wake", "me", "at", "7"], "tags": ["O", "O", "O", "B-time"], "label": "alarm"}
        {"tokens": ["hi"], "tags": []}
        {"tokens": [], "tags": []}
        """)
        let r = try CorpusReader.taggedJSONL(p, split: .test)
        XCTAssertEqual(r.items.map(\.label), ["alarm"])
        XCTAssertEqual(r.bad.map(\.reason), ["0 tags for 1 tokens", "an empty sentence"])
    }

    /// The real corpora in ../shared/corpora, when they are there (elsewhere this test says so and passes).
    func testSharedCorporaReadCleanly() throws {
        let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpora")
        guard FileManager.default.fileExists(atPath: shared.path) else {
            print("TaggingCorpusTests: \(shared.path) is absent; the real-corpus check did not run")
            return
        }
        let ud = try CorpusReader.conllu(shared.appendingPathComponent("ud-ewt/en_ewt-ud-dev.conllu").path, split: .train)
        XCTAssertEqual(ud.bad, [])
        XCTAssertGreaterThan(ud.items.count, 2000)
        XCTAssertEqual(Set(ud.items.flatMap { $0.tags! }).count, 17, "the 17 UPOS tags")
        for name in ["atis", "snips"] {
            let r = try CorpusReader.seqIn(shared.appendingPathComponent("slu/\(name)/train").path, split: .train)
            XCTAssertEqual(r.bad, [], name)
            XCTAssertGreaterThan(r.items.count, 4000, name)
        }
    }
}
