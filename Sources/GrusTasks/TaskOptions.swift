import GrusNN

// The settings a task reads, as its own types: the recipe module fills them from its keys
// (model.head.*, model.char_encoder.*, training.*), and a program using Grus as a library fills
// them directly. No task sees the whole recipe.

/// How a task's model ends: pooling for a label per sequence, a CRF for tags, frames per step
/// for transcripts.
public struct HeadOptions: Equatable, Sendable {
    /// Classification: how the steps become one vector (over valid steps only).
    public var pooling: Pooling.Kind = .mean
    /// Classification: pool over the last this many steps only (0: all).
    public var poolWindow = 0
    /// Before the output layer, training only.
    public var dropout = 0.0
    /// Tagging: a linear-chain CRF over the per-step scores.
    public var crf = false
    /// Tagging with a CRF: the scheme whose invalid transitions are forbidden.
    public var transitionMask: TransitionMask = .none
    /// Tagging: the span scheme the model learns.
    public var tagScheme: TagSchemeChoice = .asRead
    /// Tagging, text: a BiGRU over each token's characters with this embedding size (0: off) and
    /// `charHidden` units per direction.
    public var charDim = 0
    public var charHidden = 32
    /// Transcription, audio: consecutive frames joined into one encoder step.
    public var stackFrames = 1

    public init() {}

    /// The settings a task's model may read (`TaskInfo.reads`).
    public enum Part: String, Sendable, CaseIterable { case pooling, poolWindow, crf, transitionMask, tagScheme, characters, stackFrames }
}

/// How a task's loss is computed.
public struct LossOptions: Equatable, Sendable {
    /// Mix the one-hot target with the uniform distribution.
    public var labelSmoothing = 0.0
    public var classWeights: ClassWeighting = .none
    /// Transcription: a transcript its audio is too short for counts as zero loss.
    public var ctcZeroInfinity = true
    /// Joint: the intent loss's share; the slot loss gets the rest.
    public var intentWeight = 0.5

    public init() {}
}

public enum ClassWeighting: String, Codable, Sendable, CaseIterable { case none, balanced }

/// With a CRF: the tag scheme whose invalid transitions (O → I-X in BIO, ...) are forbidden;
/// `auto`: the scheme of the tags the model learns (model.head.tag_scheme, or as detected).
public enum TransitionMask: String, Codable, Sendable, CaseIterable {
    case none, auto, iob1, iob2, iobes
    public var scheme: TagScheme? { TagScheme(rawValue: rawValue) }
}

/// The span scheme a tagger learns: the corpus's tags as read, or converted to IOB1, IOB2 or IOBES.
public enum TagSchemeChoice: String, Codable, Sendable, CaseIterable {
    case asRead = "as_read", iob1, iob2, iobes
    public var scheme: TagScheme? { TagScheme(rawValue: rawValue) }
}
