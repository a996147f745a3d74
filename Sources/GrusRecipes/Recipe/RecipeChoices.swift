import GrusInference
import GrusTasks
import GrusData

// The recipe's choices that belong to the pipeline itself. Choices that belong to a module are
// that module's own enums (GRUForm, Pooling.Kind, FeatureKind, CMVNMode, OptimizerKind, ...);
// the schema lists the cases of each, so a recipe, `grus check` and `grus recipe-keys` always
// offer exactly what the code handles.

/// How a corpus is laid out (`corpus.format`).
public enum CorpusFormat: String, Codable, Sendable, CaseIterable {
    case syntheticSpeechCommands = "synthetic_speech_commands"
    /// Connected digits spoken by espeak-ng voices, made in corpus.path on first use (transcripts).
    case syntheticDigits = "synthetic_digits"
    /// Connected digits joined from FSDD recordings (corpus.source) into corpus.path on first use.
    case fsddDigits = "fsdd_digits"
    case speechCommands = "speech_commands"
    case fsdd, manifest
    case textTSV = "text_tsv", textPairs = "text_pairs", fasttext, trec
    /// Tagging corpora: a tag per token.
    case conllu, conll, seqIn = "seq_in", taggedJSONL = "tagged_jsonl"

    /// Formats Grus makes in corpus.path on first use.
    public static let generated: [CorpusFormat] = [.syntheticSpeechCommands, .syntheticDigits, .fsddDigits]

    /// Whether the format gives a tag per token.
    public var tagged: Bool { [.conllu, .conll, .seqIn, .taggedJSONL].contains(self) }

    /// The text-file layout, for the text formats.
    public var textFormat: TextFormat? { TextFormat(rawValue: rawValue) }

    /// The front end the format's inputs need (nil: either, as a manifest names its column).
    public var frontEnd: FrontEndType? {
        switch self {
        case .syntheticSpeechCommands, .syntheticDigits, .fsddDigits, .speechCommands, .fsdd: return .audio
        case .manifest: return nil
        case .textTSV, .textPairs, .fasttext, .trec, .conllu, .conll, .seqIn, .taggedJSONL: return .text
        }
    }
}

public enum FrontEndType: String, Codable, Sendable, CaseIterable { case audio, text }

/// FSDD's split: the official one (index 0-4 is test) or one speaker held out.
public enum FSDDSplit: String, Codable, Sendable, CaseIterable { case official, speaker }


/// What happens to an input that cannot be read or used.
public enum BadInputPolicy: String, Codable, Sendable, CaseIterable { case fail, skip }

/// Audio longer than `corpus.max_seconds`: keep the start, or split it into examples.
public enum LongAudioPolicy: String, Codable, Sendable, CaseIterable { case crop, split }

/// Additive noise for augmentation.
public enum NoiseKind: String, Codable, Sendable, CaseIterable { case none, white, pink, folder }


/// Learning-rate schedules (reduce-on-plateau acts after each dev evaluation).
public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case constant, step, cosine, plateau }



/// A NaN or infinite loss: stop naming the step, or skip the batch and halve the learning rate.
public enum NaNPolicy: String, Codable, Sendable, CaseIterable { case stop, skip }

/// Parts of a model `training.freeze` keeps fixed for the first `training.freeze_epochs`.
public enum FrozenPart: String, Codable, Sendable, CaseIterable {
    case embedding, encoder
    case charEncoder = "char_encoder"

    /// The parameter-name prefix of the part.
    var prefix: String {
        switch self {
        case .embedding: return "embedding."
        case .encoder: return "encoder."
        case .charEncoder: return "chars."
        }
    }
}
