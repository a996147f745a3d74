import GrusCore

extension TextEncoder.Settings {
    /// The recipe keys of the text front end (frontend.text.*), declared here once.
    public static let recipeKeys: [String: Field] = [
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
    ]
}
