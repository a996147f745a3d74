import GrusCore

/// Settings of the CTC transcriber: a per-step tagger whose classes are the blank (0) and the
/// output tokens, over features stacked `stackFrames` at a time.
public struct TranscriberConfig: Codable, Equatable, Sendable {
    public var tagger: TaggerConfig
    /// Consecutive feature frames concatenated into one encoder step (1: none). Stacking 3
    /// 10 ms frames gives 30 ms steps: a third of the recurrence, and a shorter path to align.
    public var stackFrames: Int
    /// Decoding: 0 or 1 greedy, more a prefix beam search of this width.
    public var beamWidth: Int

    public init(tagger: TaggerConfig, stackFrames: Int = 1, beamWidth: Int = 0) {
        self.tagger = tagger
        self.stackFrames = stackFrames
        self.beamWidth = beamWidth
    }

    /// Encoder steps for an input of `frames` frames.
    public func steps(_ frames: Int) -> Int { (frames + stackFrames - 1) / max(stackFrames, 1) }
}

/// Audio (or text) to a label string with CTC: frames stacked, a GRU encoder, a linear layer per
/// step to the blank and the tokens. Parameter names are the tagger's.
public final class Transcriber: Module {
    public let config: TranscriberConfig
    public let tagger: SequenceTagger

    public init(_ config: TranscriberConfig, rng: inout RNG) {
        self.config = config
        tagger = SequenceTagger(config.tagger, rng: &rng)
    }

    public var parameters: [Parameter] { tagger.parameters }
    public var encoder: GRUEncoder { tagger.encoder }
    public var embedding: Embedding? { tagger.embedding }

    /// Per-step scores [T'·B, C] and the steps of each sequence (T' = ⌈T / stack⌉).
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> (logits: Tensor, lengths: [Int]) {
        let k = config.stackFrames
        guard k > 1, let x = batch.features else { return (tagger.forward(batch, training: training, keepForBackward: keepForBackward, rng: &rng), batch.lengths) }
        let stacked = Transcriber.stack(x, k)
        let lengths = batch.lengths.map(config.steps)
        let logits = tagger.forward(SequenceBatch(features: stacked, lengths: lengths), training: training, keepForBackward: keepForBackward, rng: &rng)
        return (logits, lengths)
    }

    public func backward(_ dLogits: Tensor) { tagger.backward(dLogits) }

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

    /// Streaming, one sequence: encoder steps x [S, 1, k·F] (stacked already), the encoder's state
    /// after the previous call (nil at the start). Returns the scores [S, C] and the new state
    /// [layers, 1, H]. The same arithmetic as `forward` on the whole sequence; the encoder must be
    /// unidirectional.
    public func step(_ x: Tensor, state: Tensor?) -> (logits: Tensor, state: Tensor) {
        precondition(!config.tagger.encoder.bidirectional, "Transcriber.step: a bidirectional encoder cannot stream")
        var rng = RNG(seed: 0)
        let (out, hN) = tagger.encoder.forward(x, lengths: [x.shape[0]], h0: state, training: false, keepForBackward: false, rng: &rng)
        return (tagger.head.forwardRows(out.reshaped([x.shape[0], config.tagger.encoder.outputSize])), hN)
    }

    /// Token strings (without the blank) for per-step scores, greedy or by beam search.
    public func decode(_ logits: Tensor, lengths: [Int]) -> [[Int]] {
        config.beamWidth > 1 ? CTCDecoder.beam(logits, lengths: lengths, width: config.beamWidth) : CTCDecoder.greedy(logits, lengths: lengths)
    }
}
