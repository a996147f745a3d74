import Foundation
import GrusCore
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// The shared feature cache: experiments on the same corpus and front end compute features
/// once; any change to a file or a front-end option makes a new entry; concurrent runs never
/// corrupt or half-read an entry; a run killed while computing leaves nothing that is read;
/// `grus cache list|prune` show and clear it.
final class SharedCacheTests: FolderTestCase {
    var cache: URL { dir.appendingPathComponent("feature-cache") }

    func writeRecipe(_ name: String, corpus: URL, bins: Int = 20, hidden: Int = 6) throws -> String {
        let recipe = dir.appendingPathComponent(name).path
        try """
        corpus: {format: fsdd, path: \(corpus.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: \(bins), cmvn: global}}
        model: {encoder: {hidden: \(hidden), layers: 1, bidirectional: false}}
        training: {epochs: 2, batch_size: 4, log_every: 1000}
        evaluation: {splits: [test]}
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        return recipe
    }

    func entries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("features").path)) ?? [])
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".lock") }.sorted()
    }

    func log(_ out: URL) -> String { (try? String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)) ?? "" }

    func testExperimentsShareFeaturesAndChangesMakeNewEntries() throws {
        let corpus = try toneCorpus()

        // Two experiments that differ in the model only: the second reads the first one's features.
        let a = dir.appendingPathComponent("a"), b = dir.appendingPathComponent("b")
        let ra = try metrics(try Experiment(try RecipeLoader.load(try writeRecipe("a.yaml", corpus: corpus)), out: a.path).run())
        XCTAssertEqual(entries().count, 1)
        let rb = try metrics(try Experiment(try RecipeLoader.load(try writeRecipe("b.yaml", corpus: corpus, hidden: 9)), out: b.path).run())
        XCTAssertTrue(log(a).contains("features: cached in"))
        XCTAssertTrue(log(b).contains("examples from the cache (inputs unchanged)"), log(b))
        XCTAssertEqual(entries().count, 1)
        XCTAssertEqual(ra.n, rb.n)
        // Nothing of the features is kept in the experiment folders.
        XCTAssertFalse(FileManager.default.fileExists(atPath: a.appendingPathComponent("cache/features.bin").path))

        // Another seed reads the same entry (the seed acts through the splits, fixed here).
        let seeded = dir.appendingPathComponent("seed2")
        try Experiment(try RecipeLoader.load(try writeRecipe("s.yaml", corpus: corpus), overrides: ["experiment.seed=2"]), out: seeded.path).run()
        XCTAssertTrue(log(seeded).contains("examples from the cache (inputs unchanged)"))
        XCTAssertEqual(entries().count, 1)

        // A front-end option makes a new entry.
        try Experiment(try RecipeLoader.load(try writeRecipe("c.yaml", corpus: corpus, bins: 24)), out: dir.appendingPathComponent("c").path).run()
        let afterBins = entries()
        XCTAssertEqual(afterBins.count, 2)

        // A replaced file (new size and modification time) makes a new entry too.
        let recording = corpus.appendingPathComponent("lo_a_5.wav")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: recording.path)
        let d = dir.appendingPathComponent("d")
        try Experiment(try RecipeLoader.load(try writeRecipe("a.yaml", corpus: corpus)), out: d.path).run()
        XCTAssertTrue(log(d).contains("features: cached in"), log(d))
        XCTAssertEqual(entries().count, afterBins.count + 1)

        // A cache that cannot be made says where and which setting to change.
        let file = dir.appendingPathComponent("a-file")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(try writeRecipe("a.yaml", corpus: corpus), overrides: ["experiment.cache_dir=\(file.path)/cache"]),
                                            out: dir.appendingPathComponent("f").path).run()) {
            XCTAssertTrue("\($0)".contains("experiment.cache_dir") && "\($0)".contains(file.path), "\($0)")
        }

        // experiment.cache_dir moves it.
        let elsewhere = dir.appendingPathComponent("elsewhere")
        try Experiment(try RecipeLoader.load(try writeRecipe("a.yaml", corpus: corpus), overrides: ["experiment.cache_dir=\(elsewhere.path)"]),
                       out: dir.appendingPathComponent("e").path).run()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere.appendingPathComponent("features").path).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".lock") }.count, 1)
    }

    /// Two `grus run` processes on the same corpus at once: the second waits for the first's
    /// features, reads them, and both get the same result from one entry.
    func testConcurrentRunsComputeOnceAndAgree() throws {
        guard let grus = grusExecutable() else { return }
        let corpus = try toneCorpus()
        let recipe = try writeRecipe("r.yaml", corpus: corpus)
        let env = ProcessInfo.processInfo.environment.merging([CacheDirectory.environment: cache.path]) { $1 }
        func start(_ out: String, fault: String?) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: grus)
            p.arguments = ["run", recipe, "--out", dir.appendingPathComponent(out).path]
            p.environment = fault.map { env.merging(["GRUS_FAULT": $0]) { $1 } } ?? env
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let first = try start("first", fault: "sleep:2500")   // holds the key's lock 2.5 s
        usleep(800_000)
        let second = try start("second", fault: nil)
        first.waitUntilExit(); second.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertEqual(second.terminationStatus, 0)
        let logFirst = log(dir.appendingPathComponent("first")), logSecond = log(dir.appendingPathComponent("second"))
        XCTAssertTrue(logFirst.contains("features: cached in"), logFirst)
        XCTAssertTrue(logSecond.contains("which is computing the same features"), logSecond)
        XCTAssertTrue(logSecond.contains("examples from the cache"), logSecond)
        XCTAssertEqual(entries().count, 1)
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("first/metrics.json")),
                       try Data(contentsOf: dir.appendingPathComponent("second/metrics.json")))
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("first/model/model.safetensors")),
                       try Data(contentsOf: dir.appendingPathComponent("second/model/model.safetensors")))
    }

    /// A run killed while writing features leaves a scratch folder that nothing reads; the next
    /// run computes the entry; `grus cache list` names the scratch folder and `prune` removes it.
    func testKilledRunLeavesNothingReadAndPruneClears() throws {
        guard let grus = grusExecutable() else { return }
        let corpus = try toneCorpus()
        let recipe = try writeRecipe("r.yaml", corpus: corpus)
        let env = [CacheDirectory.environment: cache.path]
        let killed = try runProgram(grus, ["run", recipe, "--out", dir.appendingPathComponent("killed").path], environment: env.merging(["GRUS_FAULT": "features:1"]) { $1 })
        XCTAssertEqual(killed.process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(entries(), [])
        let list = try output(grus, ["cache", "list", "--dir", cache.path])
        XCTAssertTrue(list.contains("abandoned scratch folder"), list)

        let again = dir.appendingPathComponent("again")
        XCTAssertEqual(try runProgram(grus, ["run", recipe, "--out", again.path], environment: env).process.terminationStatus, 0)
        XCTAssertTrue(log(again).contains("features: cached in"))
        XCTAssertEqual(entries().count, 1)
        let listed = try output(grus, ["cache", "list", "--dir", cache.path])
        XCTAssertTrue(listed.contains("24 examples, audio fbank 20-dim at 8000 Hz, global CMVN, \(corpus.path)"), listed)

        // --older-than keeps what was just used, and clears the scratch folder.
        XCTAssertTrue(try output(grus, ["cache", "prune", "--dir", cache.path, "--older-than", "1"]).contains("removed 1 entry"))
        XCTAssertEqual(entries().count, 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("features").path).filter { $0.hasPrefix(".tmp-") }, [])
        XCTAssertTrue(try output(grus, ["cache", "prune", "--dir", cache.path, "--max-mb", "0"]).contains("removed 1 entry"))
        XCTAssertEqual(entries(), [])
        // A pruned entry is computed again by the next run of a finished experiment; its model stays.
        XCTAssertEqual(try runProgram(grus, ["run", recipe, "--out", again.path], environment: env).process.terminationStatus, 0)
        XCTAssertTrue(log(again).components(separatedBy: "train: model from").count == 2, log(again))
    }

    func output(_ exe: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, args.joined(separator: " "))
        return String(decoding: data, as: UTF8.self)
    }
}
