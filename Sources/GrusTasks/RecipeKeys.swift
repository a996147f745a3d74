import GrusCore
import GrusNN

// The recipe keys the tasks read, declared here once: model.head.*, model.char_encoder.*, and
// the loss keys of the training section.

extension HeadOptions {
    /// model.head.*
    public static let recipeKeys: [String: Field] = [
        "pooling": Field.choice(Pooling.Kind.mean, "classification: how the steps become one vector (over valid steps only)"),
        "pool_window": Field.int(0, min: 0, max: 100_000, "classification: pool over the last this many steps only (100 = 1 s of 10 ms frames; 0 = all), as grus stream pools its window"),
        "dropout": Field.number(0, min: 0, max: 0.95, "before the output layer, training only"),
        "crf": Field.bool(false, "tag: a linear-chain CRF over the per-step scores (loss from the forward algorithm, Viterbi decoding)"),
        "transition_mask": Field.choice(TransitionMask.none, "tag with crf: forbid the transitions this scheme does not allow (e.g. iob2: no O → I-X); auto: the scheme of the tags learnt. Transitions seen in training stay allowed"),
        "tag_scheme": Field.choice(TagSchemeChoice.asRead, "tag, joint: the span scheme the model learns and predicts; the corpus's tags (any of IOB1, IOB2, IOBES) are converted to it"),
    ]
    /// model.char_encoder.*
    public static let characterKeys: [String: Field] = [
        "dim": Field.int(0, min: 0, max: 1024, "tag, joint: character embedding size of a BiGRU over each token's characters, whose last states join the word embedding (0 = off)"),
        "hidden": Field.int(32, min: 1, max: 1024, "character GRU units per direction"),
    ]
}

extension LossOptions {
    /// The training section's keys that set a task's loss.
    public static let recipeKeys: [String: Field] = [
        "intent_weight": Field.number(0.5, min: 0, max: 1, "joint: the intent loss's share; the slot loss gets the rest"),
        "label_smoothing": Field.number(0, min: 0, max: 0.99, "mix the one-hot target with the uniform distribution"),
        "ctc_zero_infinity": Field.bool(true, "transcribe: a transcript its (augmented) audio is too short for counts as zero loss; false stops the run"),
        "class_weights": Field.choice(ClassWeighting.none, "balanced: weight each class by n / (classes · count)"),
    ]
}
