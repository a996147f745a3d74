import Foundation
import GrusAudio
import GrusCore
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// The `grus` binary: options declared once (ranges and help shared by recipes and flags),
/// exit codes, and `grus eval` reading the experiment's own corpus settings.
final class CommandLineTests: FolderTestCase {

    /// Runs grus and returns (exit status, standard output, standard error).
    func grus(_ args: [String]) throws -> (Int32, String, String)? {
        guard let exe = grusExecutable() else { return nil }
        let r = try runCapturing(exe, args)
        return (r.status, r.stdout, r.stderr)
    }

    func clip(rate: Int = 16000) throws -> String {
        let path = dir.appendingPathComponent("clip-\(rate).wav").path
        try AudioFile.write(Audio(samples: (0..<rate).map { Float(0.3 * sin(Double($0) * 0.05)) }, sampleRate: rate), to: path)
        return path
    }

    func testFeatureFlagsGoThroughTheRecipeChecks() throws {
        let wav = try clip()
        guard let ok = try grus(["features", wav]) else { return }
        XCTAssertEqual(ok.0, 0, ok.2)
        XCTAssertTrue(ok.1.contains("98x40"), ok.1)
        for (flags, expected) in [(["--nfft", "256"], "--nfft: 256 is smaller than the window (400 samples"),
                                  (["--nfft", "100000000"], "--nfft: must be at most 65536"),
                                  (["--nfft", "3"], "--nfft: 3 is smaller than the window"),
                                  (["--sample-rate", "0"], ""),
                                  (["--sample-rate", "1"], "--sample-rate: must be at least 1000"),
                                  (["--kind", "mfcc", "--bins", "10", "--ceps", "13"], "--ceps: must be 1 to the number of mel bins (10)")] {
            guard let r = try grus(["features"] + flags + [wav]) else { return }
            if expected.isEmpty {
                XCTAssertEqual(r.0, 0, "\(flags): 0 is 'native' \(r.2)")
            } else {
                XCTAssertEqual(r.0, 2, "\(flags): \(r.2)")
                XCTAssertTrue(r.2.contains(expected), "\(flags): \(r.2)")
            }
        }
        guard let up = try grus(["features", "--sample-rate", "16000", try clip(rate: 8000)]) else { return }
        XCTAssertEqual(up.0, 1)
        XCTAssertTrue(up.2.contains("would upsample it"), up.2)
    }

    func testRecipeKeysListsEveryKeyWithItsDeclaration() throws {
        guard let all = try grus(["recipe-keys"]) else { return }
        XCTAssertEqual(all.0, 0)
        let keys = RecipeSchema.rows(RecipeSchema.root, prefix: "").map(\.key)
        XCTAssertGreaterThan(keys.count, 80)
        for k in keys { XCTAssertTrue(all.1.contains(k + "  ("), k) }
        guard let audio = try grus(["recipe-keys", "frontend.audio"]) else { return }
        XCTAssertTrue(audio.1.contains("frontend.audio.sample_rate  (int 1000..192000 or 'native' (0); default native)"), audio.1)
        XCTAssertFalse(audio.1.contains("training."))
        guard let bad = try grus(["recipe-keys", "trainig"]) else { return }
        XCTAssertNotEqual(bad.0, 0)
    }

    /// The typed Recipe and the schema name the same keys: each key is declared once.
    func testRecipeStructAndSchemaAgreeKeyForKey() throws {
        let p = dir.appendingPathComponent("r.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("corpus: {format: fsdd, path: \(dir.path)}\nfrontend: {type: audio}\n".utf8))
        let recipe = try RecipeLoader.load(p).recipe
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        let tree = try JSONSerialization.jsonObject(with: enc.encode(recipe)) as! [String: Any]
        func keys(_ d: [String: Any], _ prefix: String) -> [String] {
            d.flatMap { k, v -> [String] in
                let path = prefix.isEmpty ? k : prefix + "." + k
                if let sub = v as? [String: Any] { return keys(sub, path) }
                return [path]
            }
        }
        XCTAssertEqual(Set(keys(tree, "")), Set(RecipeSchema.rows(RecipeSchema.root, prefix: "").map(\.key)))
    }

    func testRecipeProblemsExitWithTwo() throws {
        let p = dir.appendingPathComponent("bad.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("corpus: {format: fsdd, path: \(dir.path)}\nfrontend: {type: text}\n".utf8))
        guard let check = try grus(["check", p]), let run = try grus(["run", p, "--out", dir.appendingPathComponent("x").path]) else { return }
        for r in [check, run] {
            XCTAssertEqual(r.0, 2)
            XCTAssertTrue(r.2.contains("frontend.type: 'text' does not fit corpus.format 'fsdd'"), r.2)
        }
    }

    /// `grus eval --data` on one split's file needs no column flags: they come from recipe.yaml.
    func testEvalTakesTheCorpusSettingsFromTheExperiment() throws {
        let corpus = dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        var rng = RNG(seed: 3)
        for (name, n) in [("tr.tsv", 120), ("dv.tsv", 30), ("te.tsv", 30)] {
            let rows = (0..<n).map { _ -> String in
                let pos = rng.int(below: 2) == 1
                return "\(pos ? "up" : "down")\tthe \(pos ? "good" : "bad") one \(rng.int(below: 9))"
            }
            try ("y\tx\n" + rows.joined(separator: "\n") + "\n").write(to: corpus.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let recipe = dir.appendingPathComponent("cols.yaml").path
        FileManager.default.createFile(atPath: recipe, contents: Data("""
        corpus: {format: text_tsv, path: \(corpus.path), train: tr.tsv, dev: dv.tsv, test: te.tsv, text_column: x, label_column: y}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 3, batch_size: 16, lr: 0.01}
        """.utf8))
        let exp = dir.appendingPathComponent("exp").path
        guard let run = try grus(["run", recipe, "--out", exp]) else { return }
        XCTAssertEqual(run.0, 0, run.2)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: exp + "/metrics.json"))) as! [String: Any]
        let report = dir.appendingPathComponent("r.json").path, page = dir.appendingPathComponent("r.html").path
        guard let one = try grus(["eval", "--model", exp, "--data", corpus.appendingPathComponent("te.tsv").path, "--report", report,
                                  "--report-html", page]) else { return }
        XCTAssertEqual(one.0, 0, one.2)
        // The evaluation's page: its confusion counts and the evaluated inputs' summary.
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let confusion = (metrics["confusion"] as! [String: Any])["matrix"] as! [[Int]]
        let re = try NSRegularExpression(pattern: "data-count=\"([0-9]+)\"")
        let counts = re.matches(in: html, range: NSRange(html.startIndex..., in: html)).map { Int(html[Range($0.range(at: 1), in: html)!])! }
        XCTAssertEqual(counts, confusion.flatMap { $0 })
        XCTAssertTrue(html.contains("<strong>30</strong>") && !html.contains("Learning curves"), html)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        XCTAssertEqual(again["accuracy"] as? Double, metrics["accuracy"] as? Double)
        XCTAssertEqual(again["n"] as? Int, 30)
        // The whole corpus folder, one split of it.
        guard let whole = try grus(["eval", "--model", exp, "--data", corpus.path, "--split", "dev"]) else { return }
        XCTAssertEqual(whole.0, 0, whole.2)
        XCTAssertTrue(whole.1.contains("n=30"), whole.1)
    }

    /// Output that cannot be written is an error, not a silent exit 0.
    func testUnwritableOutputFailsTheCommand() throws {
        guard let exe = grusExecutable(), FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let wav = try clip()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["features", wav]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("standard output could not be written"), message)
        // A file that cannot be written names the file.
        guard let r = try grus(["features", "--output", "/dev/full/x", wav]) else { return }
        XCTAssertEqual(r.0, 1)
        XCTAssertTrue(r.2.contains("/dev/full"), r.2)
    }

    /// One file that cannot be read no longer stops the others from being labelled; a file too
    /// short for one frame is the same error in features, predict and run.
    func testPredictLabelsTheGoodFilesAndReportsTheBadOne() throws {
        let c = dir.appendingPathComponent("tones")
        try writeToneCorpus(c, rate: 8000)
        let recipe = dir.appendingPathComponent("t.yaml").path
        FileManager.default.createFile(atPath: recipe, contents: Data("""
        corpus: {format: fsdd, path: \(c.path)}
        frontend: {type: audio, audio: {bins: 10}}
        model: {encoder: {hidden: 4, layers: 1}}
        training: {epochs: 1, batch_size: 4}
        """.utf8))
        let exp = dir.appendingPathComponent("exp").path
        try Experiment(try RecipeLoader.load(recipe), out: exp).run()
        let short = dir.appendingPathComponent("short.wav").path
        try AudioFile.write(Audio(samples: [Float](repeating: 0.1, count: 50), sampleRate: 8000), to: short)
        let good = c.appendingPathComponent("lo_a_1.wav").path, other = c.appendingPathComponent("hi_b_2.wav").path
        guard let r = try grus(["predict", "--model", exp, good, short, other]) else { return }
        XCTAssertEqual(r.0, 1)
        XCTAssertTrue(r.1.contains(good) && r.1.contains(other), r.1)
        XCTAssertTrue(r.2.contains("\(short): too short"), r.2)
        guard let f = try grus(["features", short]) else { return }
        XCTAssertEqual(f.0, 1)
        XCTAssertTrue(f.2.contains("\(short): too short"), f.2)
    }
}
