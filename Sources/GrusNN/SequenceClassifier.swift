import GrusCore

/// Settings of the utterance classifier: [embedding] → GRU encoder → pooling → dropout → linear.
public struct ClassifierConfig: Codable, Equatable, Sendable {
    /// Token vocabulary for text input; nil for dense (audio) features.
    public var vocabSize: Int?
    public var paddingIndex: Int = 0
    public var encoder: GRUConfig
    public var pooling: Pooling.Kind = .mean
    /// Pool over the last `poolWindow` steps only (nil: all of them).
    public var poolWindow: Int? = nil
    public var dropout: Float = 0
    public var numClasses: Int

    public init(vocabSize: Int? = nil, paddingIndex: Int = 0, encoder: GRUConfig,
                pooling: Pooling.Kind = .mean, dropout: Float = 0, numClasses: Int) {
        self.vocabSize = vocabSize
        self.paddingIndex = paddingIndex
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = dropout
        self.numClasses = numClasses
    }
}

/// Utterance (sequence) classification: the shared encoder and a pooled head. Parameter names:
/// `embedding.weight`, `encoder.weight_ih_l0` …, `head.weight`, `head.bias`.
public final class SequenceClassifier: Module {
    public let config: ClassifierConfig
    public let body: SequenceEncoder
    public let output: PooledHead

    public init(_ config: ClassifierConfig, rng: inout RNG) {
        self.config = config
        body = SequenceEncoder(vocabSize: config.vocabSize, paddingIndex: config.paddingIndex, embeddingDim: config.encoder.inputSize,
                               chars: nil, encoder: config.encoder, rng: &rng)
        output = PooledHead(config.pooling, window: config.poolWindow, encoder: config.encoder, classes: config.numClasses,
                            dropout: config.dropout, name: "head", rng: &rng)
    }

    public var embedding: Embedding? { body.embedding }
    public var encoder: GRUEncoder { body.rnn }
    /// The output layer (the streaming keyword spotter applies it to pooled windows).
    public var head: Linear { output.linear }
    public var parameters: [Parameter] { body.parameters + output.parameters }

    /// Logits [B, classes].
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> Tensor {
        let (out, lengths) = body.forward(batch, training: training, keepForBackward: keepForBackward, rng: &rng)
        return output.forward(out, lengths: lengths, training: training, rng: &rng)
    }

    /// Accumulates every parameter's gradient from dLoss/dLogits.
    public func backward(_ dLogits: Tensor) { body.backward(output.backward(dLogits)) }

    /// Class probabilities [B, classes] in evaluation mode.
    public func predict(_ batch: SequenceBatch) -> Tensor {
        var rng = RNG(seed: 0)
        return softmax(forward(batch, training: false, keepForBackward: false, rng: &rng))
    }
}

/// One optimisation step on a batch; returns the mean loss and the number of correct predictions.
@discardableResult
public func trainStep(_ model: SequenceClassifier, _ batch: SequenceBatch, loss: CrossEntropy, optimizer: Optimizer,
                      clipNorm: Float? = nil, rng: inout RNG) -> (loss: Float, correct: Int) {
    model.zeroGrad()
    let logits = model.forward(batch, training: true, rng: &rng)
    let (l, grad, probs) = loss(logits, targets: batch.labels)
    model.backward(grad)
    if let c = clipNorm { clipGradNorm(model.parameters, maxNorm: c) }
    optimizer.step()
    return (l, countCorrect(probs, batch.labels))
}

/// How many rows' arg-max equals the label.
public func countCorrect(_ scores: Tensor, _ labels: [Int]) -> Int {
    let c = scores.shape[1]
    var n = 0
    for (i, y) in labels.enumerated() {
        var best = 0
        for k in 1..<c where scores.data[i * c + k] > scores.data[i * c + best] { best = k }
        if best == y { n += 1 }
    }
    return n
}
