import GrusCore

/// Settings of the per-step tagger: [embedding] → GRU encoder → dropout → linear at every step.
public struct TaggerConfig: Codable, Equatable, Sendable {
    /// Token vocabulary for text input; nil for dense (audio) features.
    public var vocabSize: Int?
    public var paddingIndex: Int = 0
    public var encoder: GRUConfig
    public var dropout: Float = 0
    public var numTags: Int
    /// A CRF output layer over the per-step scores (nil or false: independent softmax per step).
    public var crf: Bool?
    /// With the CRF: which transitions are allowed ([tags × tags], then start and end), or nil for all.
    public var allowed: [Bool]?, allowedStart: [Bool]?, allowedEnd: [Bool]?
    /// A character encoder whose token vectors are concatenated to the word embeddings (text
    /// only); the encoder's input size is then the embedding size plus its output size.
    public var chars: CharEncoderConfig?
    /// The word embedding's size: the encoder's input less the character encoder's output.
    public var embeddingDim: Int { encoder.inputSize - (chars?.outputSize ?? 0) }

    public init(vocabSize: Int? = nil, paddingIndex: Int = 0, encoder: GRUConfig, dropout: Float = 0, numTags: Int, crf: Bool = false) {
        self.vocabSize = vocabSize
        self.paddingIndex = paddingIndex
        self.encoder = encoder
        self.dropout = dropout
        self.numTags = numTags
        self.crf = crf
    }
}

/// One label per step (part-of-speech tags, entity and slot spans): the shared encoder and a step
/// head, with a CRF when the config asks. Parameter names: `embedding.weight`, `chars.*`,
/// `encoder.weight_ih_l0` …, `head.weight`, `head.bias`, `crf.*`.
public final class SequenceTagger: Module {
    public let config: TaggerConfig
    public let body: SequenceEncoder
    public let output: StepHead

    public init(_ config: TaggerConfig, rng: inout RNG) {
        self.config = config
        body = SequenceEncoder(vocabSize: config.vocabSize, paddingIndex: config.paddingIndex, embeddingDim: config.embeddingDim,
                               chars: config.chars, encoder: config.encoder, rng: &rng)
        output = StepHead(encoder: config.encoder, tags: config.numTags, dropout: config.dropout, crf: config.crf == true,
                          allowed: config.allowed, allowedStart: config.allowedStart, allowedEnd: config.allowedEnd, rng: &rng)
    }

    public var embedding: Embedding? { body.embedding }
    public var encoder: GRUEncoder { body.rnn }
    public var crf: CRF? { output.crf }
    public var parameters: [Parameter] { body.parameters + output.parameters }

    /// Logits [T·B, tags] for every row of the padded batch.
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> Tensor {
        let (out, _) = body.forward(batch, training: training, keepForBackward: keepForBackward, rng: &rng)
        return output.forward(out, training: training, keepForBackward: keepForBackward, rng: &rng)
    }

    /// Accumulates every parameter's gradient from dLoss/dLogits [T·B, tags] (zero on padded rows).
    public func backward(_ dLogits: Tensor) { body.backward(output.backward(dLogits)) }

    /// Row indices (t·B + b) of the valid steps, sequence by sequence.
    public static func validRows(lengths: [Int]) -> [Int] {
        let b = lengths.count
        return lengths.enumerated().flatMap { j, n in (0..<n).map { t in t * b + j } }
    }
}

/// Softmax cross-entropy over the valid rows of per-step logits [T·B, C]: `targets[k]` is the tag
/// of row `rows[k]`. The loss is the mean over valid steps (PyTorch's `ignore_index` semantics);
/// the gradient is zero on every other row.
public func stepCrossEntropy(_ logits: Tensor, rows: [Int], targets: [Int], loss: CrossEntropy = CrossEntropy(),
                             denominator: Double? = nil) -> (loss: Float, grad: Tensor) {
    precondition(rows.count == targets.count, "stepCrossEntropy: a target per valid row")
    let c = logits.shape[1]
    // gather: valid [N, C] = logits[rows]
    var valid = Tensor(zeros: [rows.count, c])
    for (k, r) in rows.enumerated() { for j in 0..<c { valid.data[k * c + j] = logits.data[r * c + j] } }
    let (l, g, _) = loss(valid, targets: targets, denominator: denominator)
    // backward of the gather: scatter the rows back, zeros elsewhere
    var grad = Tensor(zeros: logits.shape)
    for (k, r) in rows.enumerated() { for j in 0..<c { grad.data[r * c + j] = g.data[k * c + j] } }
    return (l, grad)
}
