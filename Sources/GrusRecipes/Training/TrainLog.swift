import Foundation
import GrusCore

/// train-log.csv: one row per epoch (epoch, step, loss, the task's dev columns, lr, seconds),
/// rewritten whole (temporary file, then rename) after every epoch.
struct TrainLogCSV {
    let url: URL
    private(set) var text: String

    /// Starts the log; on resume, keeps the rows of the epochs the checkpoint covers.
    init(_ url: URL, columns: [String], keepEpochs: Int) throws {
        self.url = url
        text = (["epoch", "step", "loss"] + columns + ["lr", "seconds"]).joined(separator: ",") + "\n"
        if keepEpochs > 0, let old = try? String(contentsOf: url, encoding: .utf8) {
            text = old.split(separator: "\n").prefix(keepEpochs + 1).joined(separator: "\n") + "\n"
        }
        try AtomicFile.write(text, to: url)
    }

    mutating func append(epoch: Int, step: Int, loss: Double, dev: [Double?]?, columns: Int, lr: Double, seconds: Double) throws {
        let devCells = (0..<columns).map { k in dev?[k].map { String(format: "%.6f", $0) } ?? "" }
        text += ([String(epoch), String(step), String(format: "%.6f", loss)] + devCells
                 + [String(format: "%.6g", lr), String(format: "%.2f", seconds)]).joined(separator: ",") + "\n"
        try AtomicFile.write(text, to: url)
    }
}

/// The progress line of an epoch: a redrawn bar on a terminal, a log line every `every` steps otherwise.
struct ProgressLine {
    let log: RunLog
    let epoch: Int, epochs: Int, batches: Int, batchSize: Int, every: Int
    let start = Date()

    func update(done: Int, seen: Int, meanLoss: Double, lr: Double) {
        let rate = Double(seen) / max(Date().timeIntervalSince(start), 1e-9)
        if log.terminal {
            let width = 24, filled = width * done / batches
            let eta = Double(batches - done) * Double(batchSize) / max(rate, 1e-9)
            log.progress(String(format: "epoch %d/%d [%@%@] %d/%d loss %.4f %.0f utt/s ETA %d:%02d", epoch, epochs,
                                String(repeating: "=", count: filled), String(repeating: " ", count: width - filled),
                                done, batches, meanLoss, rate, Int(eta) / 60, Int(eta) % 60),
                         force: done == batches)
        } else if done % every == 0 {
            log(String(format: "epoch %d step %d/%d loss %.4f lr %.2e %.0f utt/s", epoch, done, batches, meanLoss, lr, rate))
        }
    }
}
