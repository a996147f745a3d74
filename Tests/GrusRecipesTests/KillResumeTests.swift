import XCTest
import Foundation
import GrusCore

/// Runs the `grus` binary, kills it with SIGKILL mid-epoch, during a checkpoint write and during
/// evaluation (GRUS_FAULT), resumes with --resume, and compares the final weights and optimiser
/// state with an uninterrupted run: they must be bit-identical.
final class KillResumeTests: FolderTestCase {

    @discardableResult
    func run(_ exe: String, _ args: [String], fault: String? = nil) throws -> Process {
        try runProgram(exe, args, environment: fault.map { ["GRUS_FAULT": $0] } ?? [:]).process
    }

    func testKilledRunsResumeToTheSameWeights() throws {
        guard let grus = grusExecutable() else { return }
        let corpus = dir.appendingPathComponent("corpus")
        try writeSentimentCorpus(corpus, train: 200, dev: 40)
        let recipe = dir.appendingPathComponent("r.yaml").path
        try """
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt}
        frontend: {type: text}
        model: {embedding_dim: 8, encoder: {hidden: 8, layers: 2, dropout: 0.2}, head: {dropout: 0.2}}
        training: {epochs: 4, batch_size: 16, lr: 0.01, schedule: {type: cosine, warmup_steps: 5}}
        evaluation: {splits: [dev]}
        """.write(toFile: recipe, atomically: true, encoding: .utf8)
        let straight = dir.appendingPathComponent("straight").path
        XCTAssertEqual(try run(grus, ["run", recipe, "--out", straight]).terminationStatus, 0)
        let referenceFile = URL(fileURLWithPath: straight + "/checkpoints/last.safetensors")
        let reference = try Safetensors.load(referenceFile).tensors

        /// train-log.csv's epoch, step, loss, dev and lr columns (seconds and rates differ run to run).
        func logRows(_ folder: String) throws -> [[String]] {
            try String(contentsOfFile: folder + "/train-log.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").dropLast(2).map(String.init) }
        }
        let referenceLog = try logRows(straight)
        XCTAssertEqual(referenceLog.count, 5, "a header and four epochs")
        // 13 steps per epoch: step 20 is mid-epoch 2; checkpoint 2 is the end of epoch 2 (its log row
        // written, its checkpoint not yet); checkpointed 2 just after it; eval 3 is epoch 3's.
        for fault in ["step:20", "checkpoint:2", "checkpointed:2", "eval:3"] {
            let out = dir.appendingPathComponent("run-\(fault.replacingOccurrences(of: ":", with: "-"))").path
            let killed = try run(grus, ["run", recipe, "--out", out], fault: fault)
            XCTAssertEqual(killed.terminationReason, .uncaughtSignal, fault)
            XCTAssertEqual(killed.terminationStatus, SIGKILL, fault)
            XCTAssertEqual(try run(grus, ["run", recipe, "--out", out, "--resume"]).terminationStatus, 0, fault)
            let resumed = try Safetensors.load(URL(fileURLWithPath: out + "/checkpoints/last.safetensors")).tensors
            XCTAssertEqual(Set(resumed.keys), Set(reference.keys), fault)
            for (k, v) in reference { XCTAssertEqual(resumed[k], v, "\(fault): \(k)") }
            // Weights, optimiser moments, RNG and progress: the whole file, byte for byte.
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/checkpoints/last.safetensors")), try Data(contentsOf: referenceFile), fault)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/model/model.safetensors")),
                           try Data(contentsOf: URL(fileURLWithPath: straight + "/model/model.safetensors")), fault)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints").filter { $0.contains(".tmp-") }
            XCTAssertEqual(leftovers, [], fault)
            // The log agrees with the checkpoint after any kill: every epoch once, as uninterrupted.
            XCTAssertEqual(try logRows(out), referenceLog, fault)
            XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: out + "/tb/events.out.tfevents.0.grus")).count, 100, fault)
        }
        // --resume after a clean finish keeps the TensorBoard file (it was deleted, tb/ left empty).
        XCTAssertEqual(try run(grus, ["run", recipe, "--out", straight, "--resume"]).terminationStatus, 0)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: straight + "/tb/events.out.tfevents.0.grus")).count, 100)
        XCTAssertEqual(try logRows(straight), referenceLog)
    }

    /// Two threads that crash at once end the process (once stuck over 10 minutes in the crash
    /// reporter): the run must end by a signal, well within the limit.
    func testTwoThreadsCrashingEndTheProcess() throws {
        guard let grus = grusExecutable() else { return }
        let corpus = dir.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        try "sentence\tlabel\ngood\tpos\nbad\tneg\n".write(to: corpus.appendingPathComponent("train.tsv"), atomically: true, encoding: .utf8)
        try "sentence\tlabel\ngood\tpos\n".write(to: corpus.appendingPathComponent("dev.tsv"), atomically: true, encoding: .utf8)
        let recipe = dir.appendingPathComponent("r.yaml").path
        FileManager.default.createFile(atPath: recipe, contents: Data("corpus: {format: text_tsv, path: \(corpus.path)}\nfrontend: {type: text}\n".utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: grus)
        p.arguments = ["run", recipe, "--out", dir.appendingPathComponent("exp").path]
        p.environment = ProcessInfo.processInfo.environment.merging(["GRUS_FAULT": "trap:2"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        let start = Date()
        try p.run()
        while p.isRunning && Date().timeIntervalSince(start) < 120 { usleep(50_000) }
        if p.isRunning { p.terminate(); XCTFail("still running after 120 s") }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal)
        XCTAssertLessThan(Date().timeIntervalSince(start), 120)
    }
}
