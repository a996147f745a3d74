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

/// Data-parallel training under `mpirun -np 2` (Open MPI, which `make test` installs): the same
/// weights as one process with the same global batch, to round-off; rank 0 alone writes; a
/// rank killed with SIGKILL ends the whole job, and `--resume` under mpirun continues from the
/// last checkpoint to the bytes of an uninterrupted run.
final class MPITests: FolderTestCase {
    var mpirun: String? {
        let p = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        if p == nil { XCTFail("mpirun was not found: install openmpi-bin and libopenmpi-dev (`make test` installs them)") }
        return p
    }

    /// Runs `grus ARGS` under mpirun with `ranks` processes; returns the process and its output.
    func mpi(_ grus: String, ranks: Int, _ args: [String], environment: [String: String] = [:]) throws -> (process: Process, output: String) {
        guard let mpirun else { throw XCTSkip("no mpirun") }
        var flags = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)"]
        for (k, v) in environment { flags += ["-x", "\(k)=\(v)"] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: mpirun)
        p.arguments = flags + [grus] + args
        // Containers often forbid the cross-memory attach Open MPI's shared-memory transport
        // tries first; copying through the shared segment works everywhere.
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            .merging(["OMPI_MCA_btl_vader_single_copy_mechanism": "none"]) { a, _ in a }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p, String(decoding: data, as: UTF8.self))
    }

    func textCorpus() throws -> URL {
        let corpus = dir.appendingPathComponent("text")
        try writeSentimentCorpus(corpus, train: 203, dev: 41)
        return corpus
    }

    func maxDifference(_ a: URL, _ b: URL) throws -> Float {
        let x = try Safetensors.load(a).tensors, y = try Safetensors.load(b).tensors
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        var worst: Float = 0
        for (k, v) in x { for (p, q) in zip(v.data, y[k]!.data) { worst = max(worst, abs(p - q)) } }
        return worst
    }

    /// Text (a 2-layer GRU over embeddings, lazy row-sparse updates, a batch that does not split
    /// evenly) and audio (features from the shared cache, global CMVN): 2 ranks against 1 process.
    func testTwoRanksTrainLikeOneProcess() throws {
        guard let grus = grusExecutable() else { return }
        let text = try textCorpus()
        let tones = try toneCorpus()
        let recipes = [
            ("text", """
            corpus: {format: fasttext, path: \(text.path), train: train.txt, dev: dev.txt}
            frontend: {type: text}
            model: {embedding_dim: 8, encoder: {hidden: 8, layers: 2}}
            training: {epochs: 2, batch_size: 15, lr: 0.01, optimizer: adam, lazy_embedding_updates: true}
            evaluation: {splits: [dev]}
            """),
            ("audio", """
            corpus: {format: fsdd, path: \(tones.path), dev_fraction: 0}
            frontend: {type: audio, audio: {bins: 20, cmvn: global}}
            model: {encoder: {hidden: 6, layers: 1, bidirectional: true}}
            training: {epochs: 2, batch_size: 4, lr: 0.01}
            evaluation: {splits: [test]}
            """),
        ]
        for (name, yaml) in recipes {
            let recipe = dir.appendingPathComponent("\(name).yaml")
            try yaml.write(to: recipe, atomically: true, encoding: .utf8)
            let one = dir.appendingPathComponent("\(name)-one"), two = dir.appendingPathComponent("\(name)-two")
            let alone = try runProgram(grus, ["run", recipe.path, "--out", one.path])
            XCTAssertEqual(alone.process.terminationStatus, 0, alone.stderr)
            let (p, output) = try mpi(grus, ranks: 2, ["run", recipe.path, "--out", two.path])
            XCTAssertEqual(p.terminationStatus, 0, output)
            let log = (try? String(contentsOf: two.appendingPathComponent("log.txt"), encoding: .utf8)) ?? ""
            // Ranks × threads stay within the machine's cores.
            XCTAssertTrue(log.contains("data-parallel training on 2 ranks, \(max(1, ProcessInfo.processInfo.activeProcessorCount / 2)) thread(s) each"), log)
            // Rank 0 alone writes: one log, no temporary files.
            XCTAssertEqual(log.components(separatedBy: "experiment folder:").count, 3, log)   // the first line and the last
            for sub in ["", "checkpoints", "model"] {
                let names = try FileManager.default.contentsOfDirectory(atPath: two.appendingPathComponent(sub).path)
                XCTAssertEqual(names.filter { $0.contains(".tmp-") }, [], name)
            }
            let d = try maxDifference(one.appendingPathComponent("model/model.safetensors"), two.appendingPathComponent("model/model.safetensors"))
            XCTAssertLessThanOrEqual(d, 1e-5, name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: two.appendingPathComponent("metrics.json").path))
            let training = try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: two.appendingPathComponent("training.json")))
            XCTAssertEqual(training.ranks, 2)
            // The sharded, gathered evaluation scores every example.
            let lines = try String(contentsOf: two.appendingPathComponent("predictions.jsonl"), encoding: .utf8).split(separator: "\n")
            let linesAlone = try String(contentsOf: one.appendingPathComponent("predictions.jsonl"), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, linesAlone.count, name)
        }
    }

    /// SIGKILL of rank 1 mid-epoch ends rank 0 too; --resume under mpirun reaches the bytes of an
    /// uninterrupted 2-rank run.
    func testKilledRankEndsTheJobAndResumes() throws {
        guard let grus = grusExecutable() else { return }
        let text = try textCorpus()
        let recipe = dir.appendingPathComponent("r.yaml")
        try """
        corpus: {format: fasttext, path: \(text.path), train: train.txt, dev: dev.txt}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}, head: {dropout: 0.2}}
        training: {epochs: 3, batch_size: 16, lr: 0.01}
        evaluation: {splits: [dev]}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        let straight = dir.appendingPathComponent("straight"), killed = dir.appendingPathComponent("killed")
        XCTAssertEqual(try mpi(grus, ranks: 2, ["run", recipe.path, "--out", straight.path]).process.terminationStatus, 0)

        // 13 steps per epoch: step 20 is in epoch 2, after epoch 1's checkpoint.
        let (p, output) = try mpi(grus, ranks: 2, ["run", recipe.path, "--out", killed.path], environment: ["GRUS_FAULT": "step:20", "GRUS_FAULT_RANK": "1"])
        XCTAssertNotEqual(p.terminationStatus, 0)
        XCTAssertTrue(output.contains("rank 1") && output.contains("signal 9"), output)
        XCTAssertTrue(output.contains("--resume"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: killed.appendingPathComponent("model/model.json").path))

        let (r, resumed) = try mpi(grus, ranks: 2, ["run", recipe.path, "--out", killed.path, "--resume"])
        XCTAssertEqual(r.terminationStatus, 0, resumed)
        XCTAssertTrue(resumed.contains("resuming after epoch 1"), resumed)
        XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent("checkpoints/last.safetensors")),
                       try Data(contentsOf: straight.appendingPathComponent("checkpoints/last.safetensors")))
    }

    /// Failures before training under mpirun: a recipe error ends the job with 2, as without
    /// mpirun, and a corpus error sends no rank to --resume a checkpoint that was never written.
    func testErrorsBeforeTrainingEndTheJobTruthfully() throws {
        guard let grus = grusExecutable() else { return }
        let text = try textCorpus()
        let recipe = dir.appendingPathComponent("r.yaml")
        try """
        corpus: {format: fasttext, path: \(text.path), train: train.txt, dev: dev.txt}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 1}}
        training: {epochs: 1, batch_size: 16}
        evaluation: {splits: [dev]}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        let (p, output) = try mpi(grus, ranks: 2, ["run", recipe.path, "--out", dir.appendingPathComponent("a").path, "--set", "training.nope=1"])
        XCTAssertEqual(p.terminationStatus, 2, output)
        XCTAssertTrue(output.contains("training.nope: unknown key"), output)
        try "__label__pos good\n".write(to: text.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        let (q, failed) = try mpi(grus, ranks: 2, ["run", recipe.path, "--out", dir.appendingPathComponent("b").path])
        XCTAssertEqual(q.terminationStatus, 1, failed)
        XCTAssertTrue(failed.contains("need at least 2"), failed)
        XCTAssertFalse(failed.contains("--resume"), "no checkpoint was written: nothing to resume\n" + failed)
    }
}
