import Foundation
import GrusCore
import GrusInference
import GrusTasks

/// train-log.csv: one row per epoch (epoch, step, loss, the task's dev columns, lr, seconds since
/// the start, training sequences per second in the epoch's steps), rewritten whole (temporary
/// file, then rename) after every epoch.
package struct TrainLogCSV {
    package let url: URL
    private(set) var text: String

    /// Starts the log; on resume, keeps the rows of the epochs the checkpoint covers.
    package init(_ url: URL, columns: [String], keepEpochs: Int) throws {
        self.url = url
        text = (["epoch", "step", "loss"] + columns + ["lr", "seconds", "sequences_per_second"]).joined(separator: ",") + "\n"
        if keepEpochs > 0, let old = try? String(contentsOf: url, encoding: .utf8) {
            text = old.split(separator: "\n").prefix(keepEpochs + 1).joined(separator: "\n") + "\n"
        }
        try AtomicFile.write(text, to: url)
    }

    package mutating func append(epoch: Int, step: Int, loss: Double, dev: [Double?]?, columns: Int, lr: Double, seconds: Double, rate: Double) throws {
        let devCells = (0..<columns).map { k in dev?[k].map { String(format: "%.6f", $0) } ?? "" }
        text += ([String(epoch), String(step), String(format: "%.6f", loss)] + devCells
                 + [String(format: "%.6g", lr), String(format: "%.2f", seconds), String(format: "%.1f", rate)]).joined(separator: ",") + "\n"
        try AtomicFile.write(text, to: url)
    }
}

/// The progress line of an epoch: a redrawn bar on a terminal, a log line every `every` steps otherwise.
package struct ProgressLine {
    package let observer: TrainingObserver
    package let epoch: Int, epochs: Int, batches: Int, batchSize: Int, every: Int
    package let start = Date()

    package func update(done: Int, seen: Int, meanLoss: Double, lr: Double) {
        let rate = Double(seen) / max(Date().timeIntervalSince(start), 1e-9)
        if observer.redrawsProgress {
            let width = 24, filled = width * done / batches
            let eta = Double(batches - done) * Double(batchSize) / max(rate, 1e-9)
            observer.progress(String(format: "epoch %d/%d [%@%@] %d/%d loss %.4f %.0f utt/s ETA %d:%02d", epoch, epochs,
                                String(repeating: "=", count: filled), String(repeating: " ", count: width - filled),
                                done, batches, meanLoss, rate, Int(eta) / 60, Int(eta) % 60),
                         force: done == batches)
        } else if done % every == 0 {
            observer.log(String(format: "epoch %d step %d/%d loss %.4f lr %.2e %.0f utt/s", epoch, done, batches, meanLoss, lr, rate))
        }
    }
}

/// training.json: what the train stage did in this process (a resumed run counts from the
/// resume): epochs, sequences trained, time in training steps and in all, parameters, threads
/// per process and MPI ranks.
public struct TrainingSummary: Codable {
    public var epochs: Int
    public var sequences: Int
    /// Seconds in training steps (dev evaluation and checkpoints left out).
    public var trainSeconds: Double
    /// Seconds of the whole train stage.
    public var seconds: Double
    public var parameters: Int
    public var threads: Int
    /// Processes of an MPI job (nil in files written before ranks were recorded: one).
    public var ranks: Int?
    /// Sequences per second in the training steps (written for readers of the file).
    public var sequencesPerSecond: Double

    package enum CodingKeys: String, CodingKey {
        case epochs, sequences, trainSeconds = "train_seconds", seconds, parameters, threads, ranks, sequencesPerSecond = "sequences_per_second"
    }

    package init(epochs: Int, sequences: Int, trainSeconds: Double, seconds: Double, parameters: Int, threads: Int) {
        (self.epochs, self.sequences, self.trainSeconds, self.seconds, self.parameters, self.threads) = (epochs, sequences, trainSeconds, seconds, parameters, threads)
        sequencesPerSecond = Double(sequences) / max(trainSeconds, 1e-9)
        ranks = Distributed.size
    }

    package func save(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: url)
    }
}
