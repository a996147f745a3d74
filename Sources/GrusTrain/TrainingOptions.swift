import GrusNN
import GrusTasks

// The training section of a recipe, as the trainer's own types. The recipe module declares their
// keys (training.*) and decodes them; a program may fill them directly.

/// How a run trains: its length, batches, optimiser, schedule, early stopping and checkpoints.
public struct TrainingOptions: Codable, Equatable {
    public var epochs: Int, minSteps: Int, maxSteps: Int, batchSize: Int, optimizer: OptimizerKind, lr: Double, momentum: Double, weightDecay: Double
    public var intentWeight: Double
    public var clipNorm: Double, labelSmoothing: Double, wordDropout: Double, ctcZeroInfinity: Bool, classWeights: ClassWeighting, lazyEmbeddingUpdates: Bool
    public var schedule: ScheduleOptions, earlyStopping: EarlyStoppingOptions
    public var bucket: Bool, threads: Int, logEvery: Int, onNan: NaNPolicy
    public var freeze: [FrozenPart], freezeEpochs: Int, averageLast: Int
}

/// The learning-rate schedule (training.schedule).
public struct ScheduleOptions: Codable, Equatable {
    public var type: ScheduleKind, warmupSteps: Int, warmupEpochs: Double, warmupFraction: Double, maxWarmupFraction: Double
    public var stepEpochs: Int, gamma: Double, patience: Int, minLr: Double
}

/// Early stopping and best-checkpoint selection on a dev metric (training.early_stopping).
public struct EarlyStoppingOptions: Codable, Equatable {
    public var metric: String, patience: Int, patienceSteps: Int, minDelta: Double
}

/// Learning-rate schedules (reduce-on-plateau acts after each dev evaluation).
public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case constant, step, cosine, plateau }

/// A NaN or infinite loss: stop naming the step, or skip the batch and halve the learning rate.
public enum NaNPolicy: String, Codable, Sendable, CaseIterable { case stop, skip }

/// Parts of a model `training.freeze` keeps fixed for the first `training.freeze_epochs`.
public enum FrozenPart: String, Codable, Sendable, CaseIterable {
    case embedding, encoder
    case charEncoder = "char_encoder"

    /// The parameter-name prefix of the part.
    package var prefix: String {
        switch self {
        case .embedding: return "embedding."
        case .encoder: return "encoder."
        case .charEncoder: return "chars."
        }
    }
}

extension TrainingOptions {
    /// The task's loss settings, which the recipe keeps in its training section.
    public var lossOptions: LossOptions {
        var o = LossOptions()
        o.labelSmoothing = labelSmoothing
        o.classWeights = classWeights
        o.ctcZeroInfinity = ctcZeroInfinity
        o.intentWeight = intentWeight
        return o
    }
}
