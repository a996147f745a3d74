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

/// One label per step (part-of-speech tags, entity and slot spans). Logits come for every row of
/// the padded time-major batch, [T·B, tags] (row t·B + b is step t of sequence b); losses read
/// the valid rows only (`validRows`), so padding never contributes. Parameter names:
/// `embedding.weight`, `encoder.weight_ih_l0` …, `head.weight`, `head.bias`.
public final class SequenceTagger: Module {
    public let config: TaggerConfig
    public let embedding: Embedding?
    public let encoder: GRUEncoder
    public let dropout: Dropout
    public let head: Linear
    /// The CRF output layer, when the config asks for one (parameters `crf.transitions`, ...).
    public let crf: CRF?
    /// The character encoder, when the config asks for one.
    public let chars: CharEncoder?
    private var steps = 0, size = 0
    /// The encoder's output of the last forward, [T, B, D·H] (the joint model pools it).
    public private(set) var lastEncoderOutput = Tensor(zeros: [0, 0, 0])

    public init(_ config: TaggerConfig, rng: inout RNG) {
        self.config = config
        if let v = config.vocabSize {
            embedding = Embedding(vocabSize: v, dim: config.embeddingDim, paddingIndex: config.paddingIndex, name: "embedding", rng: &rng)
        } else {
            embedding = nil
        }
        chars = config.chars.map { CharEncoder($0, rng: &rng) }
        encoder = GRUEncoder(config.encoder, rng: &rng)
        encoder.computeInputGradient = embedding != nil
        for p in encoder.parameters { p.name = "encoder." + p.name }
        dropout = Dropout(config.dropout)
        head = Linear(config.encoder.outputSize, config.numTags, name: "head", rng: &rng)
        if config.crf == true {
            let c = CRF(tags: config.numTags, rng: &rng)
            c.allowed = config.allowed
            c.allowedStart = config.allowedStart
            c.allowedEnd = config.allowedEnd
            crf = c
        } else {
            crf = nil
        }
    }

    public var parameters: [Parameter] {
        (embedding?.parameters ?? []) + (chars?.parameters ?? []) + encoder.parameters + head.parameters + (crf?.parameters ?? [])
    }

    /// Logits [T·B, tags] for every row of the padded batch.
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> Tensor {
        let x: Tensor
        if let e = embedding {
            guard let ids = batch.tokens else { preconditionFailure("SequenceTagger: text model needs token ids") }
            let words = e.forward(ids, shape: [batch.steps, batch.size])
            if let c = chars {
                guard let characters = batch.characters else { preconditionFailure("SequenceTagger: the character encoder needs characters") }
                // x [T, B, E + 2Hc] = concat(words [T, B, E], chars [T·B, 2Hc])
                x = concatLast(words, c.forward(characters, training: training, keepForBackward: keepForBackward, rng: &rng))
            } else {
                x = words
            }
        } else {
            guard let f = batch.features else { preconditionFailure("SequenceTagger: audio model needs features") }
            x = f
        }
        steps = batch.steps
        size = batch.size
        // out: [T, B, D·H] → rows [T·B, D·H] → logits [T·B, tags]
        let (out, _) = encoder.forward(x, lengths: batch.lengths, training: training, keepForBackward: keepForBackward, rng: &rng)
        lastEncoderOutput = out
        let rows = out.reshaped([steps * size, config.encoder.outputSize])
        // Inference: each row's scores the same arithmetic whatever the batch (streaming = offline).
        if !keepForBackward && !training { return head.forwardRows(rows) }
        return head.forward(dropout.forward(rows, training: training, rng: &rng))
    }

    /// Accumulates every parameter's gradient from dLoss/dLogits [T·B, tags] (zero on padded rows).
    /// `extraOutputGradient` [T, B, D·H] is added to the encoder output's gradient (another head's).
    public func backward(_ dLogits: Tensor, extraOutputGradient: Tensor? = nil) {
        // backward of: logits = head(dropout(rows))
        let dRows = dropout.backward(head.backward(dLogits))
        // backward of: rows = out.reshaped([T·B, D·H])
        var dOut = dRows.reshaped([steps, size, config.encoder.outputSize])
        if let extra = extraOutputGradient {
            precondition(extra.shape == dOut.shape, "SequenceTagger: extra gradient \(extra.shape) for \(dOut.shape)")
            for i in dOut.data.indices { dOut.data[i] += extra.data[i] }
        }
        let dx = encoder.backward(dOut).dInput
        guard let e = embedding else { return }
        if let c = chars {
            // backward of: x = concat(words, chars)
            let (dWords, dChars) = splitLast(dx, first: e.dim)
            e.backward(dWords)
            c.backward(dChars)
        } else {
            e.backward(dx)
        }
    }

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

/// [T, B, A] and [T·B, C] side by side: [T, B, A + C].
func concatLast(_ a: Tensor, _ b: Tensor) -> Tensor {
    let rows = a.shape[0] * a.shape[1], n = a.shape[2], m = b.shape[1]
    precondition(b.shape[0] == rows, "concatLast: \(a.shape) and \(b.shape)")
    var out = Tensor(zeros: [a.shape[0], a.shape[1], n + m])
    for r in 0..<rows {
        for j in 0..<n { out.data[r * (n + m) + j] = a.data[r * n + j] }
        for j in 0..<m { out.data[r * (n + m) + n + j] = b.data[r * m + j] }
    }
    return out
}

/// The inverse of `concatLast` for gradients: [T, B, A + C] → ([T, B, A], [T·B, C]).
func splitLast(_ x: Tensor, first n: Int) -> (Tensor, Tensor) {
    let rows = x.shape[0] * x.shape[1], width = x.shape[2], m = width - n
    var a = Tensor(zeros: [x.shape[0], x.shape[1], n]), b = Tensor(zeros: [rows, m])
    for r in 0..<rows {
        for j in 0..<n { a.data[r * n + j] = x.data[r * width + j] }
        for j in 0..<m { b.data[r * m + j] = x.data[r * width + n + j] }
    }
    return (a, b)
}
