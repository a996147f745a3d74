import Foundation
import GrusCore

/// Writes to the console and appends to the experiment's log.txt. On a terminal, `progress`
/// redraws one status line (not logged); without one, progress goes through `callAsFunction`
/// every `log_every` steps instead.
final class RunLog {
    let terminal = isatty(STDOUT_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    func progress(_ line: @autoclosure () -> String, force: Bool = false) {
        guard terminal, !quiet, force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let text = line()
        print("\r" + text + "\u{1B}[K", terminator: "")
        fflush(stdout)
        drawn = true
    }

    private func clearProgress() {
        if drawn { print("\r\u{1B}[K", terminator: ""); drawn = false }
    }

    let handle: FileHandle?
    /// Writes nothing (MPI ranks other than 0).
    let quiet: Bool

    init(_ url: URL, quiet: Bool = false) {
        self.quiet = quiet
        guard !quiet else { handle = nil; return }
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        handle = try? FileHandle(forWritingTo: url)
        _ = try? handle?.seekToEnd()
    }
    func callAsFunction(_ line: String) {
        guard !quiet else { return }
        clearProgress()
        print(line)
        fflush(stdout)
        handle?.write(Data((line + "\n").utf8))
    }
}

/// Fault injection for the kill-and-resume tests: GRUS_FAULT=step:N (after N optimiser steps),
/// checkpoint:N (during the N-th checkpoint write, after the temporary file, before the rename)
/// or eval:N (during the N-th dev evaluation) makes the process kill itself with SIGKILL;
/// trap:N makes N threads trap at once in the features stage (a crash must end the process);
/// features:N kills after N chunks of audio features are written; sleep:MS makes the features
/// stage take MS milliseconds longer (for the shared cache's concurrency tests). With
/// GRUS_FAULT_RANK=K only rank K of an MPI job has the fault.
enum Fault {
    static let spec: (kind: String, n: Int)? = {
        let env = ProcessInfo.processInfo.environment
        // GRUS_FAULT_RANK=K: only rank K of an MPI job has the fault.
        if let r = env["GRUS_FAULT_RANK"].flatMap(Int.init), r != (env["OMPI_COMM_WORLD_RANK"].flatMap(Int.init) ?? 0) { return nil }
        guard let v = env["GRUS_FAULT"], let c = v.firstIndex(of: ":"), let n = Int(v[v.index(after: c)...]) else { return nil }
        return (String(v[..<c]), n)
    }()
    nonisolated(unsafe) static var counts: [String: Int] = [:]

    static func point(_ kind: String) {
        guard let s = spec, s.kind == kind else { return }
        counts[kind, default: 0] += 1
        if counts[kind] == s.n { kill(getpid(), SIGKILL) }
    }

    /// With GRUS_FAULT=sleep:MS, waits MS milliseconds.
    static func sleepPoint() {
        guard let s = spec, s.kind == "sleep" else { return }
        usleep(useconds_t(s.n * 1000))
    }

    /// With GRUS_FAULT=trap:N, N threads trap together.
    static func trapPoint() {
        guard let s = spec, s.kind == "trap", s.n > 0 else { return }
        parallelFor(s.n) { _ in
            usleep(10_000)
            let a: [Int] = []
            _ = a[Int(getpid()) % 7 + 5]   // an index out of range: a Swift trap
        }
    }
}
