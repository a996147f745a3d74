import Foundation
import GrusCore
import GrusData
import GrusNN

/// One kind of sequence labelling: what its targets are, which model it builds, what it reports
/// and how a prediction is written. Prediction, evaluation and the experiment's stages are written
/// once against this protocol; training needs `TrainableTask` as well, and ensembles
/// `AveragingTask`.
///
/// Adding a task: one file here with a type conforming to `TrainableTask` (its targets, model,
/// loss, report and prediction format), and one line in `Tasks.all`. A new kind of model (a new
/// head) is a composition in GrusNN.
public protocol SequenceTask {
    /// What one example is labelled with (a class index, a tag per step, a token string).
    associatedtype Target
    /// What the model gives for one example (class probabilities, tags, tokens).
    associatedtype Output: Codable
    associatedtype Model: TaskModel
    associatedtype Report: TaskReport

    /// Name, metrics and the settings the task reads, for recipes, the registry and reports.
    static var info: TaskInfo { get }

    /// The label inventory, as saved in model.json.
    var labels: [String] { get }
    init(labels: [String])
    /// The task for a training split (its label inventory). Throws when the split cannot train it.
    static func fromTraining(_ items: [Item], corpus: String) throws -> Self
    /// The dev metric that picks the best checkpoint when the recipe names none.
    var defaultDevMetric: String { get }

    /// The target of an item, or nil when the model does not know its label (counted, not scored).
    func target(_ item: Item) -> Target?
    /// The item's labels the model does not know (reported by name when `target` is nil).
    func unknownLabels(_ item: Item) -> [String]

    /// A new model for these labels.
    func makeModel(_ spec: ModelSpec, rng: inout RNG) -> Model
    /// Evaluation-mode outputs, one per sequence of the batch, in batch order.
    func outputs(_ model: Model, _ batch: SequenceBatch) -> [Output]
    /// Scores outputs against targets. `unknown` counts examples whose labels the model lacks.
    func report(_ targets: [Target], _ outputs: [Output], unknown: [String: Int], topK: Int) -> Report
    /// One line of predictions.jsonl or `grus predict --json` (input and gold label are added by the caller).
    func predictionRecord(_ output: Output, topK: Int) -> [String: Any]
    /// One line of `grus predict`'s plain output, after the input's name.
    func predictionText(_ output: Output, topK: Int) -> String
}

/// A task a model can be trained for: its loss.
public protocol TrainableTask: SequenceTask {
    /// Loss settings and the training targets (class weights, smoothing).
    mutating func configureLoss(_ options: LossOptions, targets: [Target])
    /// The denominators of the loss's means over these targets, one per term of the loss
    /// (sequences, weighted targets or tokens).
    func lossDenominators(_ model: Model, _ targets: [Target]) -> [Double]
    /// Forward in training mode and the loss; the closure runs backward (accumulating gradients).
    /// `denominators` (as `lossDenominators` gives them) replace this batch's own: a data-parallel
    /// rank divides its share by the whole batch's, so the ranks' gradients sum to the batch's.
    func loss(_ model: Model, _ batch: SequenceBatch, _ targets: [Target], denominators: [Double]?, rng: inout RNG) -> (loss: Float, backward: () -> Void)
    /// Why an input cannot train or be scored (a transcript longer than its audio allows), or nil.
    /// Audio is `frames` feature frames, `stack` of which make one encoder step (1 for text).
    /// Such inputs are bad inputs, under corpus.on_bad_input.
    func inputProblem(_ item: Item, frames: Int, stack: Int) -> String?
    /// What to tell a user whose run stopped on an infinite loss (nil: the usual advice about the
    /// learning rate).
    static var infiniteLossAdvice: String? { get }
}

/// A task whose outputs come from scores that can be averaged over models (an ensemble of seeds).
public protocol AveragingTask: SequenceTask {
    /// Per sequence of the batch, the scores an ensemble averages (probabilities).
    func scores(_ model: Model, _ batch: SequenceBatch) -> [[Float]]
    /// The output of a sequence's averaged scores.
    func output(averaged: [Float], model: Model) -> Output
}

/// What a task is, as recipes, the registry and reports see it.
public struct TaskInfo: Sendable {
    /// The recipe's `task:` value.
    public var name: String
    public var summary: String
    /// Metrics `training.early_stopping.metric` may name; the first is the default.
    public var devMetrics: [String]
    /// Columns of train-log.csv after epoch, step and loss (values from a dev report).
    public var logColumns: [String]
    /// Whether items need a tag per token (tagging corpora).
    public var needsTags: Bool
    /// The head settings the model reads; a recipe that sets another one is refused.
    public var reads: Set<HeadOptions.Part>
    /// Whether a dev split carved from training keeps each label's share (classes), or is drawn
    /// at random (transcripts, whose strings rarely repeat).
    public var stratifiedDev: Bool

    public init(name: String, summary: String, devMetrics: [String], logColumns: [String], needsTags: Bool,
                reads: Set<HeadOptions.Part>, stratifiedDev: Bool = true) {
        (self.name, self.summary, self.devMetrics, self.logColumns, self.needsTags, self.reads, self.stratifiedDev)
            = (name, summary, devMetrics, logColumns, needsTags, reads, stratifiedDev)
    }
}

/// A model a task trains: a module with a GRU encoder, built from a saved configuration.
public protocol TaskModel: Module {
    associatedtype Config: ModelConfig
    var config: Config { get }
    init(_ config: Config, rng: inout RNG)
    var encoder: GRUEncoder { get }
    var embedding: Embedding? { get }
}

/// A model's saved configuration (model.json's `architecture`), checked before a model is built.
public protocol ModelConfig: Codable, Equatable {
    /// Problems ("key: what is wrong") with this architecture for these labels.
    func problems(labels: [String]) -> [String]
    /// Features per step the model takes (the embedding size for text).
    var inputSize: Int { get }
    /// The vocabulary size for text, nil for features.
    var vocabularySize: Int? { get }
    /// The character inventory's size, for a model with a character encoder.
    var alphabetSize: Int? { get }
}

extension ModelConfig {
    public var alphabetSize: Int? { nil }
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

extension SequenceTask {
    public static var name: String { info.name }
    public static var summary: String { info.summary }
    public static var devMetrics: [String] { info.devMetrics }
    public static var logColumns: [String] { info.logColumns }
    public static var needsTags: Bool { info.needsTags }
    public var defaultDevMetric: String { Self.devMetrics[0] }
    public func unknownLabels(_ item: Item) -> [String] { target(item) == nil ? [item.label] : [] }
}

extension TrainableTask {
    public func inputProblem(_ item: Item, frames: Int, stack: Int) -> String? { nil }
    public static var infiniteLossAdvice: String? { nil }

    /// The loss over this batch alone.
    package func loss(_ model: Model, _ batch: SequenceBatch, _ targets: [Target], rng: inout RNG) -> (loss: Float, backward: () -> Void) {
        loss(model, batch, targets, denominators: nil, rng: &rng)
    }
}

/// Label → index, for a task's label inventory (first occurrence wins).
package func labelIndex(_ labels: [String]) -> [String: Int] {
    Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
}
