import GrusCore

/// The body every model shares, as NCRF++'s WordSequence is: the input — token embeddings (with
/// a character vector beside each when asked) or audio frames (joined `stack` at a time) — and the
/// GRU or LSTM stack. Heads read its output; no model reads another's internals.
/// Parameter names: `embedding.weight`, `chars.*`, `encoder.weight_ih_l0` ….
///
/// Shapes: T steps, B sequences, E word embedding, 2Hc character vector, F features per frame,
/// k frames per step, D directions, H hidden units; T' = ⌈T / k⌉.
public final class SequenceEncoder {
    public let embedding: Embedding?
    public let chars: CharEncoder?
    public let rnn: GRUEncoder
    /// Audio frames joined into one encoder step (1: none).
    public let stack: Int

    /// Draws the embedding, the character encoder and the recurrent stack, in that order.
    public init(vocabSize: Int?, paddingIndex: Int, embeddingDim: Int, chars: CharEncoderConfig?, encoder: GRUConfig,
                stack: Int = 1, rng: inout RNG) {
        embedding = vocabSize.map { Embedding(vocabSize: $0, dim: embeddingDim, paddingIndex: paddingIndex, name: "embedding", rng: &rng) }
        self.chars = chars.map { CharEncoder($0, rng: &rng) }
        rnn = GRUEncoder(encoder, rng: &rng)
        rnn.computeInputGradient = embedding != nil
        for p in rnn.parameters { p.name = "encoder." + p.name }
        self.stack = stack
    }

    public var parameters: [Parameter] { (embedding?.parameters ?? []) + (chars?.parameters ?? []) + rnn.parameters }

    /// out [T', B, D·H] and each sequence's steps.
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> (out: Tensor, lengths: [Int]) {
        var x: Tensor, lengths = batch.lengths
        if let e = embedding {
            guard let ids = batch.tokens else { preconditionFailure("SequenceEncoder: a text model needs token ids") }
            let words = e.forward(ids, shape: [batch.steps, batch.size])                       // [T, B, E]
            if let c = chars {
                guard let characters = batch.characters else { preconditionFailure("SequenceEncoder: the character encoder needs characters") }
                // x [T, B, E + 2Hc] = concat(words [T, B, E], chars [T·B, 2Hc])
                x = concatLast(words, c.forward(characters, training: training, keepForBackward: keepForBackward, rng: &rng))
            } else {
                x = words
            }
        } else {
            guard let f = batch.features else { preconditionFailure("SequenceEncoder: an audio model needs features") }
            x = f                                                                                // [T, B, F]
            if stack > 1 {
                x = SequenceEncoder.stack(f, stack)                                              // [T', B, k·F]
                lengths = lengths.map { ($0 + stack - 1) / stack }
            }
        }
        let (out, _) = rnn.forward(x, lengths: lengths, training: training, keepForBackward: keepForBackward, rng: &rng)
        return (out, lengths)
    }

    /// Accumulates the gradients of the embedding, characters and recurrent stack from dOut [T', B, D·H].
    public func backward(_ dOut: Tensor) {
        let dx = rnn.backward(dOut).dInput
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

    /// x [T, B, F] → [⌈T/k⌉, B, k·F]: step s holds frames k·s ... k·s + k − 1 (zeros past the end).
    public static func stack(_ x: Tensor, _ k: Int) -> Tensor {
        let t = x.shape[0], b = x.shape[1], f = x.shape[2], steps = (t + k - 1) / k
        var stacked = Tensor(zeros: [steps, b, k * f])
        for s in 0..<steps {
            for j in 0..<k where s * k + j < t {
                for n in 0..<b {
                    let src = ((s * k + j) * b + n) * f, dst = (s * b + n) * k * f + j * f
                    for q in 0..<f { stacked.data[dst + q] = x.data[src + q] }
                }
            }
        }
        return stacked
    }
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
