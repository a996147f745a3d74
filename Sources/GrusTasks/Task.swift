import Foundation
import GrusCore
import GrusData
import GrusNN

/// One kind of sequence labelling: what its targets are, which model (heads) and loss it trains,
/// what it reports and how a prediction is written. The pipeline (prepare → features → train →
/// evaluate), the trainer, `grus eval` and `grus predict` are written once against this protocol.
///
/// Adding a task: write a type conforming to `SequenceTask` (its targets, model, loss, report and
/// prediction format, in Tasks/), and add it to `Tasks.all`. No stage changes.
public protocol SequenceTask {
    /// What one example is labelled with (a class index; later a tag per step, a token string).
    associatedtype Target
    /// What the model gives for one example (class probabilities, ...).
    associatedtype Output: Codable
    associatedtype Model: TaskModel
    associatedtype Report: TaskReport

    /// The recipe's `task:` value.
    static var name: String { get }
    static var summary: String { get }
    /// Metrics `training.early_stopping.metric` may name for this task; the first is the default.
    static var devMetrics: [String] { get }
    /// Whether items need a tag per token (tagging corpora).
    static var needsTags: Bool { get }
    /// Columns of train-log.csv after epoch, step and loss (values from a dev report).
    static var logColumns: [String] { get }

    /// The label inventory, as saved in model.json.
    var labels: [String] { get }
    /// The dev metric that picks the best checkpoint when the recipe names none.
    var defaultDevMetric: String { get }
    init(labels: [String])
    /// The task for a training split (its label inventory). Throws when the split cannot train it.
    static func fromTraining(_ items: [Item], corpus: String) throws -> Self

    /// The target of an item, or nil when the model does not know its label (counted, not scored).
    func target(_ item: Item) -> Target?
    /// The item's labels the model does not know (reported by name when `target` is nil).
    func unknownLabels(_ item: Item) -> [String]
    /// Why an input of `frames` steps cannot train or be scored (a transcript longer than its
    /// audio allows), or nil. Such inputs are bad inputs, under corpus.bad_input.
    /// audio is `frames` feature frames, `stack` of which make one encoder step (1 for text).
    func inputProblem(_ item: Item, frames: Int, stack: Int) -> String?

    /// A new model for these labels.
    func makeModel(_ spec: ModelSpec, rng: inout RNG) -> Model
    /// Problems with a saved architecture ("key: what is wrong"), checked before the model is built.
    static func problems(architecture: Model.Config, labels: [String]) -> [String]
    /// Features per step the model takes (the embedding size for text), and the vocabulary size for text.
    static func inputSize(of architecture: Model.Config) -> Int
    static func vocabularySize(of architecture: Model.Config) -> Int?
    /// Loss settings and the training targets (class weights, smoothing).
    mutating func configureLoss(_ options: LossOptions, targets: [Target])
    /// The denominators of the loss's means over these targets, one per term of the loss
    /// (sequences, weighted targets or tokens).
    func lossDenominators(_ model: Model, _ targets: [Target]) -> [Double]
    /// Forward in training mode and the loss; the closure runs backward (accumulating gradients).
    /// `denominators` (as `lossDenominators` gives them) replace this batch's own: a data-parallel
    /// rank divides its share by the whole batch's, so the ranks' gradients sum to the batch's.
    func loss(_ model: Model, _ batch: SequenceBatch, _ targets: [Target], denominators: [Double]?, rng: inout RNG) -> (loss: Float, backward: () -> Void)
    /// Evaluation-mode outputs, one per sequence of the batch, in batch order.
    func outputs(_ model: Model, _ batch: SequenceBatch) -> [Output]
    /// Whether an ensemble can average this task's scores (`scores`, `output(averaged:model:)`).
    static var averagesOutputs: Bool { get }
    /// Per sequence of the batch, the scores an ensemble averages (probabilities).
    func scores(_ model: Model, _ batch: SequenceBatch) -> [[Float]]
    /// The output of a sequence's averaged scores.
    func output(averaged: [Float], model: Model) -> Output
    /// Scores outputs against targets. `unknown` counts examples whose labels the model lacks.
    func report(_ targets: [Target], _ outputs: [Output], unknown: [String: Int], topK: Int) -> Report

    /// One line of predictions.jsonl or `grus predict --json` (input and gold label are added by the caller).
    func predictionRecord(_ output: Output, topK: Int) -> [String: Any]
    /// One line of `grus predict`'s plain output, after the input's name.
    func predictionText(_ output: Output, topK: Int) -> String
}

/// A model a task trains: a module with a GRU encoder, built from a saved configuration.
public protocol TaskModel: Module {
    associatedtype Config: Codable & Equatable
    var config: Config { get }
    init(_ config: Config, rng: inout RNG)
    var encoder: GRUEncoder { get }
    var embedding: Embedding? { get }
}

/// What a task needs from its settings and the front end to build its model.
public struct ModelSpec {
    /// Token vocabulary (text), or nil for dense features.
    public var vocabularySize: Int?
    public var encoder: GRUConfig
    public var head: HeadOptions
    /// Text with a character encoder: the character inventory's size.
    public var alphabetSize: Int? = nil
    /// Transcription: the decoder's beam width (0 or 1: greedy).
    public var beamWidth: Int = 0
    /// Tagging: the training split's tag sequences (the CRF's transition mask reads them).
    public var trainingTags: [[String]] = []

    public init(vocabularySize: Int? = nil, encoder: GRUConfig, head: HeadOptions, alphabetSize: Int? = nil, beamWidth: Int = 0,
                trainingTags: [[String]] = []) {
        self.vocabularySize = vocabularySize
        self.encoder = encoder
        self.head = head
        self.alphabetSize = alphabetSize
        self.beamWidth = beamWidth
        self.trainingTags = trainingTags
    }
}

/// A task's evaluation result: printed as tables, written as JSON (metrics.json, `grus eval --report`).
public protocol TaskReport: Codable {
    var n: Int { get }
    /// Mean loss per example, when known.
    var loss: Double? { get }
    /// Labels the model does not know, counted and left out of the scores.
    var unknownLabels: [String: Int]? { get set }
    /// Which split was evaluated, when it was one of a corpus's splits.
    var split: String? { get set }
    /// A dev metric to maximise (a loss is returned negated); nil when the task does not report it.
    func score(_ metric: String) -> Double?
    /// Values of the task's `logColumns`.
    var logValues: [Double?] { get }
    /// One line for the epoch log: "dev loss 0.1, dev accuracy 98.00%, ...".
    var summary: String { get }
    func table(title: String) -> String
    /// What report.html draws for the task, beside the learning curves.
    var figures: [Figure] { get }
}

/// A task's figure in report.html, as data; Reports/ draws it.
public enum Figure {
    /// Rows are true labels, columns predicted; counts.
    case confusion(title: String, labels: [String], matrix: [[Int]])
    /// One group of bars per row (values in 0...1, one per series), with a note (the support).
    case bars(title: String, series: [String], rows: [BarRow])
    /// Named counts as bars.
    case counts(title: String, items: [(String, Int)])

    public struct BarRow { public var label: String; public var values: [Double]; public var note: String }
}

extension SequenceTask {
    public var defaultDevMetric: String { Self.devMetrics[0] }
    public func unknownLabels(_ item: Item) -> [String] { target(item) == nil ? [item.label] : [] }
    public func inputProblem(_ item: Item, frames: Int, stack: Int) -> String? { nil }
}

extension TaskReport {
    public var figures: [Figure] { [] }

    /// Pretty, sorted JSON.
    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}

/// Label → index, for a task's label inventory (first occurrence wins).
package func labelIndex(_ labels: [String]) -> [String: Int] {
    Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
}

/// The registered tasks. The first is the default.
public enum Tasks {
    public static let all: [any SequenceTask.Type] = [ClassifyTask.self, TagTask.self, JointTask.self, TranscribeTask.self]

    public static var names: [String] { all.map { $0.name } }
    public static var summary: String { all.map { "\($0.name) (\($0.summary))" }.joined(separator: "; ") }
    public static var devMetrics: [String] {
        var seen: [String] = []
        for t in all { for m in t.devMetrics where !seen.contains(m) { seen.append(m) } }
        return seen
    }

    public static func named(_ name: String) -> (any SequenceTask.Type)? { all.first { $0.name == name } }
}

/// Ensembles: tasks whose outputs come from scores that can be averaged over models.
extension SequenceTask {
    public static var averagesOutputs: Bool { false }
    /// Per sequence, scores a model ensemble averages (probabilities).
    public func scores(_ model: Model, _ batch: SequenceBatch) -> [[Float]] { preconditionFailure("\(Self.name) has no averageable scores") }
    /// The output of averaged scores.
    public func output(averaged: [Float], model: Model) -> Output { preconditionFailure("\(Self.name) has no averageable scores") }
}

extension SequenceTask {
    /// The loss over this batch alone.
    package func loss(_ model: Model, _ batch: SequenceBatch, _ targets: [Target], rng: inout RNG) -> (loss: Float, backward: () -> Void) {
        loss(model, batch, targets, denominators: nil, rng: &rng)
    }
}
