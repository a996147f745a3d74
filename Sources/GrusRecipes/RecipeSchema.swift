/// Every key a recipe may hold, with its type, range and default. `grus recipe-keys` prints it.
public enum RecipeSchema {
    static func int(_ d: Int, min: Int? = nil, max: Int? = nil, _ help: String = "") -> Field {
        Field(.int(min: min, max: max), default: d, help)
    }
    static func number(_ d: Double, min: Double? = nil, max: Double? = nil, exclusive: Bool = false, _ help: String = "") -> Field {
        Field(.number(min: min, max: max, exclusiveMin: exclusive), default: d, help)
    }
    static func choice(_ d: String, _ options: [String], _ help: String = "") -> Field { Field(.choice(options), default: d, help) }
    static func bool(_ d: Bool, _ help: String = "") -> Field { Field(.bool, default: d, help) }

    public static let corpusFormats = ["synthetic_speech_commands", "speech_commands", "fsdd", "manifest",
                                       "text_tsv", "text_pairs", "fasttext", "trec"]

    public static let root = Field.section([
        "experiment": .section([
            "name": Field(.string, default: "", "experiment name; defaults to the recipe's file name"),
            "out": Field(.path, default: "", "experiment folder; defaults to experiments/<name>"),
            "seed": int(1, min: 0, "seed for initialisation, shuffling, dropout and augmentation"),
        ]),
        "corpus": .section([
            "format": Field(.choice(corpusFormats), required: true, "how the corpus is laid out"),
            "path": Field(.path, required: true, "corpus folder, or the manifest file (.csv, .tsv, .jsonl)"),
            "train": Field(.string, default: "train.tsv", "text corpora: training file inside path"),
            "dev": Field(.string, default: "dev.tsv", "text corpora: development file ('' = carve from train)"),
            "test": Field(.string, default: "", "text corpora: test file ('' = none)"),
            "dev_fraction": number(0.1, min: 0, max: 0.5, "share of training data held out when there is no dev split"),
            "text_column": Field(.string, default: "sentence", "TSV/manifest column with the text"),
            "path_column": Field(.string, default: "path", "manifest column with the audio path (relative to the manifest)"),
            "label_column": Field(.string, default: "label", "TSV/manifest column with the label"),
            "split_column": Field(.string, default: "split", "manifest column with train/dev/test (optional)"),
            "order": choice("text_label", ["text_label", "label_text"], "headerless text pairs: column order"),
            "trec_label": choice("coarse", ["coarse", "fine"], "TREC: coarse or fine labels"),
            "split": choice("official", ["official", "speaker"], "FSDD: official split (index 0-4 test) or a held-out speaker"),
            "test_speaker": Field(.string, default: "", "FSDD with split: speaker, the speaker held out for testing"),
            "twelve_class": bool(false, "Speech Commands: the 12-class protocol (words + _unknown_ + _silence_ cut from _background_noise_)"),
            "words": Field(.list(.string), default: ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"],
                           "Speech Commands 12-class protocol: the command words"),
            "on_bad_input": choice("fail", ["fail", "skip"], "stop on the first bad file or line, or skip and list it"),
            "on_invalid_utf8": choice("fail", ["fail", "replace", "skip"], "text lines that are not UTF-8"),
            "max_seconds": number(0, min: 0, "longer audio is cropped or split (0 = no limit)"),
            "long_audio": choice("crop", ["crop", "split"], "audio longer than max_seconds: keep the start, or split it into max_seconds examples"),
        ]),
        "frontend": .section([
            "type": Field(.choice(["audio", "text"]), required: true, "audio or text"),
            "audio": .section([
                "preset": choice("kaldi", ["kaldi", "librosa"], "feature settings to start from"),
                "kind": choice("fbank", ["fbank", "mfcc", "spectrogram"], "feature type"),
                "bins": int(40, min: 1, max: 512, "mel bands"),
                "ceps": int(13, min: 1, max: 512, "MFCC cepstra"),
                "sample_rate": int(16000, min: 1000, max: 192_000, "rate features are computed at"),
                "frame_length_ms": number(25, min: 1, max: 1000, exclusive: false, "window length"),
                "frame_shift_ms": number(10, min: 1, max: 1000, exclusive: false, "hop"),
                "n_fft": int(0, min: 0, max: 65536, "FFT size (0 = next power of two)"),
                "deltas": int(0, min: 0, max: 2, "append deltas (1) or deltas and delta-deltas (2)"),
                "cmvn": choice("global", ["none", "utterance", "global"], "mean/variance normalisation"),
                "augment": .section([
                    "spec_augment": bool(false, "SpecAugment time and frequency masks"),
                    "time_masks": int(2, min: 0, max: 20),
                    "max_time_width": int(20, min: 0, max: 1000),
                    "freq_masks": int(2, min: 0, max: 20),
                    "max_freq_width": int(8, min: 0, max: 512),
                    "noise": choice("none", ["none", "white", "pink", "folder"], "additive noise source"),
                    "noise_folder": Field(.path, default: "", "folder of noise clips for noise: folder"),
                    "min_snr": number(5, min: -20, max: 100),
                    "max_snr": number(20, min: -20, max: 100),
                    "noise_probability": number(0.5, min: 0, max: 1),
                    "max_shift_ms": number(0, min: 0, max: 10_000, "random time shift either way (0 = off)"),
                    "speeds": Field(.list(.number(min: 0.5, max: 2, exclusiveMin: false)), default: [Double](),
                                    "speed perturbation factors, e.g. [0.9, 1.0, 1.1]"),
                ]),
            ]),
            "text": .section([
                "tokenizer": choice("word", ["word", "character", "bpe"]),
                "unicode": choice("nfkc", ["none", "nfc", "nfkc"]),
                "case_fold": bool(true),
                "split_punctuation": bool(true),
                "pattern": Field(.string, default: "", "regex whose matches are the tokens (word tokenizer)"),
                "bpe_vocabulary": int(8000, min: 2, max: 1_000_000),
                "bpe_min_frequency": int(2, min: 1),
                "min_count": int(1, min: 1),
                "max_vocabulary": int(0, min: 0, "0 = no limit"),
                "max_length": int(0, min: 0, "tokens per text (0 = no limit)"),
                "truncation": choice("keep_start", ["keep_start", "keep_end"]),
                "pretrained_vectors": Field(.path, default: "", "GloVe / word2vec / fastText .vec file"),
                "freeze_embeddings": bool(false),
            ]),
        ]),
        "model": .section([
            "embedding_dim": int(128, min: 1, max: 4096, "text models: embedding size (pretrained vectors set it)"),
            "encoder": .section([
                "hidden": int(128, min: 1, max: 4096),
                "layers": int(2, min: 1, max: 16),
                "bidirectional": bool(true),
                "dropout": number(0, min: 0, max: 0.95, "between GRU layers, training only"),
                "form": choice("pytorch", ["pytorch", "cho2014"]),
                "recurrent_init": choice("uniform", ["uniform", "orthogonal"]),
            ]),
            "head": .section([
                "pooling": choice("mean", ["mean", "max", "last"]),
                "dropout": number(0, min: 0, max: 0.95),
            ]),
        ]),
        "training": .section([
            "epochs": int(20, min: 1, max: 100_000),
            "batch_size": int(32, min: 1, max: 65536),
            "optimizer": choice("adam", ["adam", "adamw", "sgd"]),
            "lr": number(0.001, min: 0, exclusive: true, "learning rate"),
            "momentum": number(0.9, min: 0, max: 0.9999, "SGD momentum"),
            "weight_decay": number(0, min: 0),
            "clip_norm": number(5, min: 0, "global gradient-norm limit (0 = off)"),
            "label_smoothing": number(0, min: 0, max: 0.99),
            "class_weights": choice("none", ["none", "balanced"]),
            "lazy_embedding_updates": bool(false, "update only the embedding rows each batch uses (as PyTorch's SparseAdam); much faster with large vocabularies"),
            "schedule": .section([
                "type": choice("constant", ["constant", "step", "cosine", "plateau"]),
                "warmup_steps": int(0, min: 0),
                "step_epochs": int(10, min: 1, "step: epochs between decays"),
                "gamma": number(0.5, min: 0, max: 1, exclusive: true, "step/plateau: decay factor"),
                "patience": int(2, min: 0, "plateau: epochs without improvement before decaying"),
                "min_lr": number(0, min: 0),
            ]),
            "early_stopping": .section([
                "metric": choice("accuracy", ["accuracy", "macro_f1", "loss"], "dev metric that picks the best checkpoint"),
                "patience": int(0, min: 0, "epochs without improvement before stopping (0 = never)"),
            ]),
            "bucket": bool(true, "batch utterances of similar length"),
            "threads": int(0, min: 0, max: 256, "0 = all cores"),
            "log_every": int(50, min: 1, "steps between log lines without a terminal"),
            "on_nan": choice("stop", ["stop", "skip"], "a NaN/Inf loss stops the run, or skips the batch and halves the learning rate"),
        ]),
        "evaluation": .section([
            "top_k": int(3, min: 1, max: 1000),
            "splits": Field(.list(.choice(["dev", "test"])), default: ["dev", "test"]),
        ]),
    ])
}
