import Foundation
import XCTest

/// Output that cannot be written never kills a run part way, and never passes for success: a
/// closed pipe on standard output (SIGPIPE), and a log.txt on a full disk.
final class LostOutputTests: FolderTestCase {
    func recipe() throws -> String { try toneRecipe(epochs: 2, training: "log_every: 1") }

    /// Runs grus with standard output a pipe nobody reads (its read end closed).
    func runIntoClosedPipe(_ args: [String]) throws -> (reason: Process.TerminationReason, status: Int32, stderr: String)? {
        guard let exe = grusExecutable() else { return nil }
        let p = Process(), out = Pipe(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = out
        p.standardError = err
        try out.fileHandleForReading.close()
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationReason, p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    func testClosedPipeDoesNotKillTraining() throws {
        let out = dir.appendingPathComponent("exp").path
        guard let r = try runIntoClosedPipe(["run", try recipe(), "--out", out]) else { return }
        XCTAssertEqual(r.reason, .exit, "killed by signal \(r.status)")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("standard output could not be written"), r.stderr)
        for f in ["model/model.safetensors", "metrics.json", "report.html", "train-log.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + f), "\(f) is missing")
        }
        let log = try String(contentsOfFile: out + "/log.txt", encoding: .utf8)
        XCTAssertTrue(log.contains("metrics.json and predictions.jsonl describe"), log)
    }

    func testPredictStopsOnClosedPipe() throws {
        guard let grus = grusExecutable() else { return }
        let out = dir.appendingPathComponent("exp").path
        let trained = try runCapturing(grus, ["run", try recipe(), "--out", out])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let wavs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tones").path).filter { $0.hasSuffix(".wav") }
            .map { dir.appendingPathComponent("tones/" + $0).path }
        guard let r = try runIntoClosedPipe(["predict", "--model", out] + wavs) else { return }
        XCTAssertEqual(r.reason, .exit, "killed by signal \(r.status)")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("standard output could not be written"), r.stderr)
    }

    /// log.txt on a full disk (/dev/full answers every write with ENOSPC).
    func testFullDiskLogEndsTheRunWithAnError() throws {
        guard let grus = grusExecutable(), FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let out = dir.appendingPathComponent("exp")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out.appendingPathComponent("log.txt").path, withDestinationPath: "/dev/full")
        let r = try runCapturing(grus, ["run", try recipe(), "--out", out.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("log.txt: could not be written"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("metrics.json").path), "the run finished")
    }
}
