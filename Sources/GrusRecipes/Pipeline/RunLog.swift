import Foundation
import GrusCore
import GrusInference
import GrusTasks

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

/// Named points a run passes, for a program that watches them: `grus` kills itself at one of
/// them when GRUS_FAULT asks (its kill-and-resume tests). Nothing watches them otherwise.
public enum RunEvents {
    public enum Point: String, Sendable {
        /// The features stage begins.
        case features
        /// A chunk of audio features was written to the cache.
        case featuresChunk = "features-chunk"
        /// An optimiser step was taken.
        case step
        /// A dev evaluation begins.
        case eval
    }

    nonisolated(unsafe) public static var observer: ((Point) -> Void)?

    static func reach(_ point: Point) { observer?(point) }
}
