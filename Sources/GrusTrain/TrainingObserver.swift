import Foundation

/// What a run reports as it trains. The experiment's log, its TensorBoard file and a program
/// embedding the trainer subscribe through this; the trainer writes only its own files
/// (checkpoints, train-log.csv, training.json).
public protocol TrainingObserver: AnyObject {
    /// A line for the run's log.
    func log(_ line: String)
    /// Whether progress is one status line redrawn in place (a terminal); otherwise the trainer
    /// logs a progress line every `training.log_every` steps.
    var redrawsProgress: Bool { get }
    /// The status line, redrawn (called only when `redrawsProgress`); `force` at an epoch's end.
    func progress(_ line: String, force: Bool)
    /// An epoch ended: `csv` is train-log.csv as written, `start` the run's start.
    func epochEnded(csv: String, start: Date) throws
}

extension TrainingObserver {
    public var redrawsProgress: Bool { false }
    public func progress(_ line: String, force: Bool) {}
    public func epochEnded(csv: String, start: Date) throws {}
}
