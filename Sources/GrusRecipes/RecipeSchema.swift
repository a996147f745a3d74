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
            "audio": .section([
                "preset": Field.choice(FeaturePreset.kaldi, "feature settings to start from"),
                "kind": Field.choice(FeatureKind.fbank, "feature type"),
                "bins": Field.int(40, min: 1, max: 512, "mel bands"),
                "ceps": Field.int(13, min: 1, max: 512, "MFCC cepstra"),
                "sample_rate": Field(.int(min: 1000, max: 192_000, names: ["native": 0]), default: 0,
                                     "rate features are computed at; native: the training audio's own rate (never upsample)"),
                "frame_length_ms": Field.number(25, min: 1, max: 1000, exclusive: false, "window length"),
                "frame_shift_ms": Field.number(10, min: 1, max: 1000, exclusive: false, "hop"),
                "n_fft": Field.int(0, min: 0, max: 65536, "FFT size (0 = next power of two)"),
                "deltas": Field.int(0, min: 0, max: 2, "append deltas (1) or deltas and delta-deltas (2)"),
                "cmvn": Field.choice(CMVNMode.global, "mean/variance normalisation: none, per utterance, training-set statistics, sliding over the last cmvn_window frames (streamable), or per speaker (each speaker's own statistics, also for speakers never heard; the corpus must name speakers)"),
                "cmvn_window": Field.int(300, min: 10, max: 100_000, "sliding CMVN: frames in the window (300 = 3 s at a 10 ms shift)"),
                "augment": .section([
                    "spec_augment": Field.bool(false, "SpecAugment time and frequency masks"),
                    "time_masks": Field.int(2, min: 0, max: 20, "SpecAugment: time masks per utterance"),
                    "max_time_width": Field.int(20, min: 0, max: 1000, "SpecAugment: widest time mask, in frames"),
                    "freq_masks": Field.int(2, min: 0, max: 20, "SpecAugment: frequency masks per utterance"),
                    "max_freq_width": Field.int(8, min: 0, max: 512, "SpecAugment: widest frequency mask, in bins"),
                    "noise": Field.choice(NoiseKind.none, "additive noise source"),
                    "noise_folder": Field(.path, default: "", "folder of noise clips for noise: folder"),
                    "min_snr": Field.number(5, min: -20, max: 100, "noise: lowest signal-to-noise ratio, dB"),
                    "max_snr": Field.number(20, min: -20, max: 100, "noise: highest signal-to-noise ratio, dB"),
                    "noise_probability": Field.number(0.5, min: 0, max: 1, "noise: share of training utterances that get it"),
                    "max_shift_ms": Field.number(0, min: 0, max: 10_000, "random time shift either way (0 = off)"),
                    "speeds": Field(.list(.number(min: 0.5, max: 2, exclusiveMin: false)), default: [Double](),
                                    "speed perturbation factors, e.g. [0.9, 1.0, 1.1]"),
                    "vtlp": Field(.list(.number(min: 0.5, max: 2, exclusiveMin: false)), default: [Double](),
                                  "vocal tract length perturbation: [lowest, highest] stretch of the feature bins per utterance, e.g. [0.9, 1.1] ([] = off)"),
                    "prefix_clips": Field.int(0, min: 0, max: 10, "classify with model.head.pool_window: the encoder first runs over 0 to this many random other training clips, as in a stream whose state ran before the window (grus stream --mode state)"),
                ]),
            ]),
            "text": .section([
                "tokenizer": Field.choice(TextEncoder.Settings.Kind.word, "word (white space, punctuation split off), character (grapheme clusters) or bpe"),
                "unicode": Field.choice(NormalizerOptions.UnicodeForm.nfkc, "Unicode normalisation"),
                "case_fold": Field.bool(true, "full Unicode case folding"),
                "split_punctuation": Field.bool(true, "word tokenizer: punctuation and symbols become tokens of their own"),
                "pattern": Field(.string, default: "", "regex whose matches are the tokens (word tokenizer)"),
                "bpe_vocabulary": Field.int(8000, min: 2, max: 1_000_000, "BPE: target inventory size"),
                "bpe_min_frequency": Field.int(2, min: 1, "BPE: least frequency of a pair to merge"),
                "min_count": Field.int(1, min: 1, "tokens seen fewer times in training become <unk>"),
                "max_vocabulary": Field.int(0, min: 0, "0 = no limit"),
                "max_length": Field.int(512, min: 0, max: 1_000_000, "tokens per text; longer texts are truncated (see truncation) and counted in the log (0 = no limit)"),
                "truncation": Field.choice(TextEncoder.Truncation.keepStart, "which end of a long text to keep"),
                "pretrained_vectors": Field(.path, default: "", "GloVe / word2vec / fastText .vec file"),
                "freeze_embeddings": Field.bool(false, "keep pretrained vectors fixed during training"),
            ]),
        ]),
        "model": .section([
            "init_from": Field(.path, default: "", "an experiment folder whose weights start this model: its encoders, its head when the task and labels are the same (else a new head), and (init_embedding) the embedding rows of the tokens both vocabularies share ('' = random initialisation)"),
            "init_embedding": Field.bool(true, "with init_from, text: copy the embedding rows of shared tokens"),
            "embedding_dim": Field.int(128, min: 1, max: 4096, "text models: embedding size (pretrained vectors set it)"),
            "stack_frames": Field.int(1, min: 1, max: 16, "transcribe: consecutive feature frames joined into one encoder step (3 × 10 ms frames: 30 ms steps)"),
            "char_encoder": .section([
                "dim": Field.int(0, min: 0, max: 1024, "tag, joint: character embedding size of a BiGRU over each token's characters, whose last states join the word embedding (0 = off)"),
                "hidden": Field.int(32, min: 1, max: 1024, "character GRU units per direction"),
            ]),
            "encoder": .section([
                "cell": Field.choice(RecurrentCellKind.gru, "the recurrent cell: gru, or lstm (PyTorch nn.LSTM's weights and gates) for comparison"),
                "hidden": Field.int(128, min: 1, max: 4096, "GRU units per direction"),
                "layers": Field.int(2, min: 1, max: 16, "stacked GRU layers"),
                "bidirectional": Field.bool(true, "a reverse direction beside the forward one"),
                "dropout": Field.number(0, min: 0, max: 0.95, "between GRU layers, training only"),
                "form": Field.choice(GRUForm.pytorch, "pytorch: reset gate after the recurrent product (Keras reset_after=True); cho2014: before it"),
                "recurrent_init": Field.choice(GRUConfig.RecurrentInit.uniform, "recurrent weights: uniform ±1/√H (PyTorch) or orthogonal"),
            ]),
            "head": .section([
                "pooling": Field.choice(Pooling.Kind.mean, "classification: how the steps become one vector (over valid steps only)"),
                "pool_window": Field.int(0, min: 0, max: 100_000, "classification: pool over the last this many steps only (100 = 1 s of 10 ms frames; 0 = all), as grus stream pools its window"),
                "dropout": Field.number(0, min: 0, max: 0.95, "before the output layer, training only"),
                "crf": Field.bool(false, "tag: a linear-chain CRF over the per-step scores (loss from the forward algorithm, Viterbi decoding)"),
                "transition_mask": Field.choice(TransitionMask.none, "tag with crf: forbid the transitions this scheme does not allow (e.g. iob2: no O → I-X); auto: the scheme of the tags learnt. Transitions seen in training stay allowed"),
                "tag_scheme": Field.choice(TagSchemeChoice.asRead, "tag, joint: the span scheme the model learns and predicts; the corpus's tags (any of IOB1, IOB2, IOBES) are converted to it"),
            ]),
        ]),
        "training": .section([
            "epochs": Field.int(20, min: 1, max: 100_000, "passes over the training split"),
            "intent_weight": Field.number(0.5, min: 0, max: 1, "joint: the intent loss's share; the slot loss gets the rest"),
            "batch_size": Field.int(32, min: 1, max: 65536, "sequences per optimiser step"),
            "optimizer": Field.choice(OptimizerKind.adam, "adam, adamw (decoupled weight decay) or sgd"),
            "lr": Field.number(0.001, min: 0, exclusive: true, "learning rate"),
            "momentum": Field.number(0.9, min: 0, max: 0.9999, "SGD momentum"),
            "weight_decay": Field.number(0, min: 0, "L2 penalty (decoupled for adamw)"),
            "clip_norm": Field.number(5, min: 0, "global gradient-norm limit (0 = off)"),
            "label_smoothing": Field.number(0, min: 0, max: 0.99, "mix the one-hot target with the uniform distribution"),
            "ctc_zero_infinity": Field.bool(true, "transcribe: a transcript its (augmented) audio is too short for counts as zero loss; false stops the run"),
            "word_dropout": Field.number(0, min: 0, max: 0.9, "text: each training token becomes <unk> with this probability (its characters stay), so the model learns what to do with unseen words"),
            "class_weights": Field.choice(ClassWeighting.none, "balanced: weight each class by n / (classes · count)"),
            "lazy_embedding_updates": Field.bool(false, "update only the embedding rows each batch uses (as PyTorch's SparseAdam); much faster with large vocabularies"),
            "schedule": .section([
                "type": Field.choice(ScheduleKind.constant, "learning rate after warm-up: constant, step decay, cosine to min_lr, or reduce on plateau"),
                "warmup_steps": Field.int(0, min: 0, "linear warm-up, in optimiser steps"),
                "warmup_epochs": Field.number(0, min: 0, "linear warm-up, in epochs (instead of warmup_steps)"),
                "warmup_fraction": Field.number(0, min: 0, max: 0.5, "linear warm-up, as a share of the run's steps (instead of warmup_steps)"),
                "max_warmup_fraction": Field.number(0.1, min: 0, max: 0.5, "warm-up never takes more than this share of the run's steps (0 = no cap)"),
                "step_epochs": Field.int(10, min: 1, "step: epochs between decays"),
                "gamma": Field.number(0.5, min: 0, max: 1, exclusive: true, "step/plateau: decay factor"),
                "patience": Field.int(2, min: 0, "plateau: epochs without improvement before decaying"),
                "min_lr": Field.number(0, min: 0, "cosine/plateau: the floor"),
            ]),
            "early_stopping": .section([
                "metric": Field(.choice([""] + Tasks.devMetrics), default: "", "dev metric that picks the best checkpoint ('' = the task's own: \(Tasks.all.map { "\($0.name) \($0.devMetrics[0])" }.joined(separator: ", ")))"),
                "patience": Field.int(0, min: 0, "epochs without improvement before stopping, warm-up epochs not counted (0 = never)"),
            ]),
            "bucket": Field.bool(true, "batch utterances of similar length"),
            "threads": Field.int(0, min: 0, max: 256, "threads for features, training, evaluation (0 = all cores)"),
            "log_every": Field.int(50, min: 1, "steps between log lines without a terminal"),
            "average_last": Field.int(0, min: 0, max: 1000, "the final model is the mean of the weights after each of the last N epochs run, instead of the best dev epoch's (0 = the best dev epoch)"),
            "freeze": Field(.list(Field.choices(FrozenPart.self)), default: ["encoder", "char_encoder"], "with model.init_from: the transferred parts kept fixed for the first freeze_epochs, so a new head learns before they move"),
            "freeze_epochs": Field.int(0, min: 0, max: 100_000, "epochs at the start that train only what freeze leaves out (0 = none; training.epochs = the whole run, e.g. a new head on a fixed encoder)"),
            "on_nan": Field.choice(NaNPolicy.stop, "a NaN/Inf loss stops the run, or skips the batch and halves the learning rate"),
        ]),
        "evaluation": .section([
            "top_k": Field.int(3, min: 1, max: 1000, "classification: top-k accuracy's k"),
            "beam_width": Field.int(0, min: 0, max: 256, "transcribe: CTC decoding, 0 or 1 greedy, more a prefix beam search of this width"),
            "splits": Field(.list(.choice(["dev", "test"])), default: ["dev", "test"], "splits evaluated at the end; metrics.json describes the last one present"),
        ]),
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
