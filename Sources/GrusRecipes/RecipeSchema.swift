import GrusAudio
import GrusCore
import GrusData
import GrusNN
import GrusTasks
import GrusText
import GrusTrain

/// Every key a recipe may hold, declared once: name, type, range, default and help. The loader
/// validates against it, `grus check` reports by it, `grus recipe-keys` prints it, and the flags
/// of `grus features` take their help and ranges from it. Choices are the enums the code
/// switches over (their cases are the options). `Recipe` is the typed view of a validated tree.
public enum RecipeSchema {
    /// The help line of a key (for CLI flags that set the same option).
    public static func help(_ keyPath: String) -> String {
        guard let f = root.field(at: keyPath) else { preconditionFailure("RecipeSchema: no key \(keyPath)") }
        return f.help + " (\(f.typeDescription); recipe key \(keyPath))"
    }

    public static let root = Field.section([
        "task": Field(.choice(Tasks.names), default: Tasks.names[0], "what is labelled: " + Tasks.summary),
        "experiment": .section([
            "name": Field(.string, default: "", "experiment name; defaults to the recipe's file name"),
            "out": Field(.path, default: "", "experiment folder; defaults to experiments/<name>"),
            "seed": Field.int(1, min: 0, "seed for initialisation, shuffling, dropout and augmentation"),
            "cache_dir": Field(.path, default: "", "shared feature cache; '' = $GRUS_CACHE_DIR, else $XDG_CACHE_HOME/grus, else ~/.cache/grus"),
        ]),
        "corpus": .section(CorpusFormats.keys),
        "frontend": .section([
            "type": Field(Field.choices(FrontEndType.self), required: true, "audio or text"),
            "audio": .section(FeatureOptions.recipeKeys),
            "text": .section(TextEncoder.Settings.recipeKeys),
        ]),
        "model": .section([
            "init_from": Field(.path, default: "", "an experiment folder whose weights start this model: its encoders, its head when the task and labels are the same (else a new head), and (init_embedding) the embedding rows of the tokens both vocabularies share ('' = random initialisation)"),
            "init_embedding": Field.bool(true, "with init_from, text: copy the embedding rows of shared tokens"),
            "embedding_dim": Field.int(128, min: 1, max: 4096, "text models: embedding size (pretrained vectors set it)"),
            "stack_frames": Field.int(1, min: 1, max: 16, "transcribe: consecutive feature frames joined into one encoder step (3 × 10 ms frames: 30 ms steps)"),
            "char_encoder": .section(HeadOptions.characterKeys),
            "encoder": .section(GRUConfig.recipeKeys),
            "head": .section(HeadOptions.recipeKeys),
        ]),
        "training": .section(TrainingOptions.recipeKeys),
        "evaluation": .section([
            "top_k": Field.int(3, min: 1, max: 1000, "classification: top-k accuracy's k"),
            "beam_width": Field.int(0, min: 0, max: 256, "transcribe: CTC decoding, 0 or 1 greedy, more a prefix beam search of this width"),
            "splits": Field(.list(.choice(["dev", "test"])), default: ["dev", "test"], "splits evaluated at the end; metrics.json describes the last one present. Without test, the test split is never read (no test file opened, no test audio touched)"),
        ]),
        "tune": .section(TuneOptions.recipeKeys),
    ])
}

extension RecipeSchema {
    public struct Row { public var key: String, type: String, defaultValue: String, help: String }

    /// Every key under `field`, sorted, as `grus recipe-keys` prints them.
    public static func rows(_ field: Field, prefix: String) -> [Row] {
        guard case let .section(fields) = field.type else {
            return [Row(key: prefix, type: field.typeDescription, defaultValue: field.defaultDescription, help: field.help)]
        }
        return fields.sorted { $0.key < $1.key }.flatMap { rows($0.value, prefix: prefix.isEmpty ? $0.key : prefix + "." + $0.key) }
    }
}
