import Foundation
@testable import GrusData
import XCTest

/// Damaged tagging lines are bad inputs named by file and line, never read as something else.
final class DamagedCorpusTests: FolderTestCase {
    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    func conllu(_ id: String) -> String {
        "# sent_id = s\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n\(id)\tdog\tdog\tNOUN\tNN\t_\t0\troot\t_\t_\n\n"
    }

    func testCoNLLUIDsAreChecked() throws {
        for good in ["2", "1-2", "8.1", "0.1"] {
            let r = try CorpusReader.conllu(write("ok.conllu", conllu(good)), split: .train)
            XCTAssertEqual(r.bad, [], "ID \(good)")
            XCTAssertEqual(r.items.count, 1, "ID \(good)")
        }
        for bad in ["x", "-1", "3-", "0", "2-1", "1.", ".1", "1-2-3", "２"] {
            let r = try CorpusReader.conllu(write("bad.conllu", conllu(bad)), split: .train)
            XCTAssertEqual(r.items.count, 0, "ID '\(bad)' must not be read as a word or a range")
            XCTAssertTrue(r.bad.first?.reason.contains("line 3: ID '\(bad)' is not a word number") == true, "\(r.bad)")
        }
    }

    func testOneColumnIOBLineIsNotItsOwnTag() throws {
        let r = try CorpusReader.conll(write("one.txt", "EU B-ORG\nrejects\nGerman B-MISC\n\nPeter B-PER\n"), split: .train)
        XCTAssertEqual(r.items.map(\.tokens), [["Peter"]])
        XCTAssertTrue(r.bad.first?.reason.contains("line 2: 1 column(s)") == true, "\(r.bad)")
    }
}
