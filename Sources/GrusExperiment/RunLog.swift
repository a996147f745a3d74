import Foundation
import GrusCore
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain

/// Writes to the console and appends to the experiment's log.txt. On a terminal, `progress`
/// redraws one status line (not logged); without one, progress goes through `callAsFunction`
/// every `log_every` steps instead.
package final class RunLog {
    package let terminal = isatty(STDOUT_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    package func progress(_ line: String, force: Bool = false) {
        guard terminal, !quiet, force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        print("\r" + line + "\u{1B}[K", terminator: "")
        fflush(stdout)
        drawn = true
    }

    private func clearProgress() {
        if drawn { print("\r\u{1B}[K", terminator: ""); drawn = false }
    }

    package let handle: FileHandle?
    /// Writes nothing (MPI ranks other than 0).
    package let quiet: Bool

    package init(_ url: URL, quiet: Bool = false) {
        self.quiet = quiet
        guard !quiet else { handle = nil; return }
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        handle = try? FileHandle(forWritingTo: url)
        _ = try? handle?.seekToEnd()
    }
    /// The first failure to append to log.txt (a full disk, say). The run goes on; `Experiment`
    /// ends it with this as its error, so a run with a lost log never exits 0.
    package private(set) var writeError: String?

    package func callAsFunction(_ line: String) {
        guard !quiet else { return }
        clearProgress()
        print(line)
        fflush(stdout)
        guard let handle else { return }
        do {
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            if writeError == nil {
                writeError = (error as NSError).localizedDescription
                fputs("warning: log.txt could not be written (\(writeError!)); the run goes on\n", stderr)
            }
        }
    }
}

/// What the trainer reports, as an experiment keeps it: log.txt and the console, and the
/// TensorBoard file, rewritten from train-log.csv after every epoch.
package final class RunObserver: TrainingObserver {
    package let runLog: RunLog
    package let folder: URL

    package init(log: RunLog, folder: URL) {
        runLog = log
        self.folder = folder
    }

    package func log(_ line: String) { runLog(line) }
    package var redrawsProgress: Bool { runLog.terminal }
    package func progress(_ line: String, force: Bool) { runLog.progress(line, force: force) }
    package func epochEnded(csv: String, start: Date) throws { try TensorBoard.write(log: csv, start: start.timeIntervalSince1970, to: folder) }
}
