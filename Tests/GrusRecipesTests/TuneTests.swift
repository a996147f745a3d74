import Foundation
import GrusCore
@testable import GrusExperiment
@testable import GrusRecipes
import XCTest

/// `grus tune`: the search space, the halving plan, and whole searches through the binary
/// (budget, SIGKILL and resume, no test split read).
final class TuneTests: FolderTestCase {
    func testHalvingKeepsTheBestTrials() {
        let plan = HalvingPlan(trials: 9, eta: 3, rungs: 3)
        XCTAssertEqual((0..<3).map(plan.size), [9, 3, 1])
        XCTAssertEqual((0..<3).map(plan.fraction), [1.0 / 9, 1.0 / 3, 1])
        XCTAssertEqual(plan.cost, 3, accuracy: 1e-12, "three full runs' worth")
        XCTAssertEqual(HalvingPlan(trials: 2, eta: 3, rungs: 3).rungs, 1, "two trials cannot be cut by three: one rung at full length")
        XCTAssertEqual(HalvingPlan(trials: 27, eta: 3, rungs: 2).rungs, 2)
        let scores: [Double?] = [0.5, 0.9, nil, 0.7, 0.9, 0.1, 0.95, 0.3, 0.7]
        let results = scores.enumerated().map { RungResult(trial: $0, rung: 0, score: $1, loss: [1.0, 0.4, nil, 0.5, 0.3, 1, 0.8, 1, 0.5][$0], seconds: 1) }
        // 0.95 first; the two 0.9s tie and the lower dev loss goes first; a failed run never goes on.
        XCTAssertEqual(plan.promoted(from: results, rung: 0), [6, 4, 1])
        XCTAssertEqual(plan.promoted(from: results.shuffled(), rung: 0), [6, 4, 1], "the order runs finish in does not matter")
        let next = [RungResult(trial: 6, rung: 1, score: 0.8, loss: 1, seconds: 1), RungResult(trial: 4, rung: 1, score: 0.85, loss: 1, seconds: 1),
                    RungResult(trial: 1, rung: 1, score: 0.85, loss: 1, seconds: 1)]
        XCTAssertEqual(plan.promoted(from: next, rung: 1), [1], "a full tie goes to the lower trial number")
    }

    func testSearchSpaces() throws {
        XCTAssertEqual(try SearchedKey.parse("training.lr=log:0.0003..0.01").range, .logUniform(0.0003, 0.01))
        XCTAssertEqual(try SearchedKey.parse("model.head.dropout = 0..0.5").range, .uniform(0, 0.5))
        XCTAssertEqual(try SearchedKey.parse("model.encoder.layers=int:1..3").range, .integer(1, 3))
        XCTAssertEqual(try SearchedKey.parse("model.encoder.hidden=64,128,256").range, .choice(["64", "128", "256"]))
        for bad in ["training.lr", "training.lr=", "training.lr=log:0..1", "training.lr=1..0.5", "x=int:1.5..3", "x=only"] {
            XCTAssertThrowsError(try SearchedKey.parse(bad), bad)
        }
        let space = try ["training.lr=log:0.0001..0.01", "model.head.dropout=0..0.5", "model.encoder.layers=int:1..3", "model.head.pooling=max,mean"].map(SearchedKey.parse)
        let trials = drawTrials(space, count: 400, seed: 1)
        XCTAssertEqual(trials, drawTrials(space, count: 400, seed: 1), "a seed gives the same trials")
        XCTAssertNotEqual(trials, drawTrials(space, count: 400, seed: 2))
        let lrs = trials.map { Double($0["training.lr"]!)! }
        XCTAssertTrue(lrs.allSatisfy { $0 >= 0.0001 && $0 <= 0.01 })
        // Log-uniform: as many draws below the geometric mean (0.001) as above it.
        XCTAssertEqual(Double(lrs.filter { $0 < 0.001 }.count) / 400, 0.5, accuracy: 0.08)
        XCTAssertTrue(trials.allSatisfy { (0...0.5).contains(Double($0["model.head.dropout"]!)!) })
        XCTAssertEqual(Set(trials.map { $0["model.encoder.layers"]! }), ["1", "2", "3"])
        XCTAssertEqual(Set(trials.map { $0["model.head.pooling"]! }), ["max", "mean"])
        XCTAssertEqual(TuneOptions.seconds("20m"), 1200)
        XCTAssertEqual(TuneOptions.seconds("1h30m"), 5400)
        XCTAssertEqual(TuneOptions.seconds("90s"), 90)
        XCTAssertEqual(TuneOptions.seconds("45"), 45)
        for bad in ["", "0", "abc", "10x", "m", "-5"] { XCTAssertNil(TuneOptions.seconds(bad), bad) }
    }

    /// A sentiment toy whose test file is not UTF-8: a search that read it would fail.
    func searchRecipe() throws -> String {
        let corpus = dir.appendingPathComponent("text")
        try writeSentimentCorpus(corpus, train: 48, dev: 16)
        try Data([0x5f, 0x5f, 0x6c, 0x61, 0x62, 0x65, 0x6c, 0x5f, 0x5f, 0x61, 0x20, 0xff, 0x0a]).write(to: corpus.appendingPathComponent("test.txt"))
        let p = dir.appendingPathComponent("search.yaml").path
        try """
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt, test: test.txt}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 4, batch_size: 8, log_every: 1000}
        tune: {space: ["training.lr=log:0.001..0.05", "model.head.dropout=0..0.5"], trials: 4, eta: 2, rungs: 2}
        """.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    /// The table's rows without their times, which are the machine's.
    func rows(_ folder: URL) throws -> [String] {
        try String(contentsOf: folder.appendingPathComponent("trials.md"), encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: "|").dropLast().joined(separator: "|")
        }
    }

    func resultLines(_ folder: URL) -> Int {
        (try? String(contentsOf: folder.appendingPathComponent("results.jsonl"), encoding: .utf8))?.split(separator: "\n").count ?? 0
    }

    func testASearchRunsEndToEndOnDevOnly() throws {
        guard let grus = grusExecutable() else { return }
        let recipe = try searchRecipe(), out = dir.appendingPathComponent("tune")
        let r = try runCapturing(grus, ["tune", recipe, "--out", out.path, "--jobs", "2"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(resultLines(out), 4 + 2, "4 trials at half length, the best 2 at full length")
        XCTAssertTrue(r.stdout.contains("dev accuracy"), r.stdout)
        let best = try RecipeLoader.load(out.appendingPathComponent("best.yaml").path).recipe
        let table = try rows(out)
        XCTAssertTrue(table[2].contains(" * "), "the best trial heads the table: \(table)")
        XCTAssertTrue(table[2].contains(String(format: "%g", best.training.lr)) || table[2].contains("\(best.training.lr)"), "best.yaml is the best trial's recipe: \(table[2]) vs lr \(best.training.lr)")
        XCTAssertEqual(best.training.epochs, 4, "best.yaml has the recipe's own length")
        for run in try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("trials").path) {
            let log = try String(contentsOf: out.appendingPathComponent("trials/\(run)/log.txt"), encoding: .utf8)
            XCTAssertTrue(log.contains("the test split is left unread"), run)
            XCTAssertTrue(log.contains("(train 48, dev 16, test 0)"), run)
        }
        let again = try runCapturing(grus, ["tune", recipe, "--out", out.path])
        XCTAssertEqual(again.status, 1, "a folder holding a search is not overwritten")
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)
    }

    func testBudgetAndKillResumeGiveTheSameTable() throws {
        guard let grus = grusExecutable() else { return }
        let recipe = try searchRecipe()
        let straight = dir.appendingPathComponent("straight"), cut = dir.appendingPathComponent("cut"), killed = dir.appendingPathComponent("killed")
        // A budget too small for a second run: one run starts, then none. (The first run computes
        // the features, made 0.6 s slower here; the later runs find them in the cache.)
        setenv("GRUS_FAULT", "sleep:600", 1)
        let short = try runCapturing(grus, ["tune", recipe, "--out", cut.path, "--jobs", "1", "--budget", "0.25"])
        unsetenv("GRUS_FAULT")
        XCTAssertEqual(short.status, 0, short.stderr)
        XCTAssertEqual(resultLines(cut), 1)
        XCTAssertTrue(short.stdout.contains("the budget was spent after 1 of 6 runs"), short.stdout)
        XCTAssertEqual(try runCapturing(grus, ["tune", recipe, "--out", straight.path, "--jobs", "1"]).status, 0)
        let resumed = try runCapturing(grus, ["tune", recipe, "--out", cut.path, "--jobs", "1", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try rows(cut), try rows(straight))
        // SIGKILL once two runs are recorded (and others running), then --resume.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: grus)
        p.arguments = ["tune", recipe, "--out", killed.path, "--jobs", "2"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while resultLines(killed) < 2 && p.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(p.isRunning, "the search ended before it could be killed")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertLessThan(resultLines(killed), 6)
        sleep(2)   // the runs it started notice and stop
        let after = try runCapturing(grus, ["tune", recipe, "--out", killed.path, "--jobs", "2", "--resume"])
        XCTAssertEqual(after.status, 0, after.stdout + after.stderr)
        XCTAssertEqual(try rows(killed), try rows(straight), "a killed and resumed search gives the same table")
    }
}
