import Foundation
@testable import GrusData
@testable import GrusExperiment
@testable import GrusRecipes
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

    func testAnIntentThatIsNotAStringIsABadInput() throws {
        let p = write("j.jsonl", """
        {"tokens": ["lights", "on"], "tags": ["O", "O"], "label": 5}
        {"tokens": ["lights", "off"], "tags": ["O", "O"], "label": null}
        {"tokens": ["play", "jazz"], "tags": ["O", "B-genre"], "label": "play"}
        """)
        let r = try CorpusReader.taggedJSONL(p, split: .train)
        XCTAssertEqual(r.items.map(\.label), ["play"])
        XCTAssertEqual(r.bad.map(\.reason), ["\"label\" should be a string (the sentence's intent), not 5",
                                            "\"label\" should be a string (the sentence's intent), not null"])
    }

    /// A missing or empty intent used to train a class named "".
    func testATrainingExampleWithoutItsIntentStopsTheRun() throws {
        let folder = dir.appendingPathComponent("joint")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var lines: [String] = []
        for i in 0..<12 { lines.append(#"{"tokens": ["turn", "on", "lamp\#(i)"], "tags": ["O", "O", "B-device"], "label": "on"}"#) }
        for i in 0..<12 { lines.append(#"{"tokens": ["play", "song\#(i)"], "tags": ["O", "B-song"], "label": "play"}"#) }
        lines.append(#"{"tokens": ["hello", "there"], "tags": ["O", "O"], "label": ""}"#)
        lines.append(#"{"tokens": ["hi"], "tags": ["O"]}"#)
        _ = write("joint/train.jsonl", lines.joined(separator: "\n"))
        let recipe = write("joint.yaml", """
        task: joint
        corpus: {format: tagged_jsonl, path: \(folder.path), train: train.jsonl, dev: "", test: ""}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, batch_size: 8}
        """)
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(recipe), out: dir.appendingPathComponent("exp").path).run()) { e in
            XCTAssertTrue("\(e)".contains("train.jsonl:25: no label (an empty, null or missing label or intent); 2 training examples have none"), "\(e)")
        }
    }

    /// corpus.path pointed at the user's own recordings with a generated format kept: refused,
    /// and nothing of theirs is deleted. A folder Grus made is still remade.
    func testAGeneratedFormatNeverDeletesAFolderItDidNotMake() throws {
        let mine = dir.appendingPathComponent("my-commands")
        try FileManager.default.createDirectory(at: mine.appendingPathComponent("yes"), withIntermediateDirectories: true)
        _ = write("my-commands/yes/take1.wav", "my recording")
        XCTAssertThrowsError(try SyntheticSpeechCommands.ensure(mine.path, log: { _ in })) { e in
            XCTAssertTrue("\(e)".contains("holds files Grus did not make") && "\(e)".contains("corpus.format: speech_commands"), "\(e)")
        }
        XCTAssertEqual(try String(contentsOf: mine.appendingPathComponent("yes/take1.wav"), encoding: .utf8), "my recording")
        // A folder with the marker of a generation that was cut short is Grus's to remake.
        let made = dir.appendingPathComponent("made")
        try FileManager.default.createDirectory(at: made, withIntermediateDirectories: true)
        _ = write("made/partial.wav", "x")
        _ = write("made/" + generatedMarker, "")
        try clearGeneratedFolder(made, stamp: SyntheticSpeechCommands.stampName, format: "synthetic_speech_commands", instead: "speech_commands")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: made.path), [generatedMarker])
    }
}
