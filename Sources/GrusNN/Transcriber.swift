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

/// Audio (or text) to a label string with CTC: the shared encoder over frames stacked
/// `stackFrames` at a time, and a step head to the blank and the tokens (no CRF). Parameter
/// names: `encoder.*`, `head.*` (and `embedding.weight` for text).
public final class Transcriber: Module {
    public let config: TranscriberConfig
    public let body: SequenceEncoder
    public let output: StepHead

    public init(_ config: TranscriberConfig, rng: inout RNG) {
        self.config = config
        let t = config.tagger
        body = SequenceEncoder(vocabSize: t.vocabSize, paddingIndex: t.paddingIndex, embeddingDim: t.embeddingDim, chars: t.chars,
                               encoder: t.encoder, stack: t.vocabSize == nil ? config.stackFrames : 1, rng: &rng)
        output = StepHead(encoder: t.encoder, tags: t.numTags, dropout: t.dropout, crf: false, allowed: nil, allowedStart: nil,
                          allowedEnd: nil, rng: &rng)
    }

    public var parameters: [Parameter] { body.parameters + output.parameters }
    public var encoder: GRUEncoder { body.rnn }
    public var embedding: Embedding? { body.embedding }

    /// Per-step scores [T'·B, C] and the steps of each sequence (T' = ⌈T / stack⌉).
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> (logits: Tensor, lengths: [Int]) {
        let (out, lengths) = body.forward(batch, training: training, keepForBackward: keepForBackward, rng: &rng)
        return (output.forward(out, training: training, keepForBackward: keepForBackward, rng: &rng), lengths)
    }

    public func backward(_ dLogits: Tensor) { body.backward(output.backward(dLogits)) }

    /// x [T, B, F] → [⌈T/k⌉, B, k·F] (`SequenceEncoder.stack`), for a stream's frames.
    public static func stack(_ x: Tensor, _ k: Int) -> Tensor { SequenceEncoder.stack(x, k) }

    /// Streaming, one sequence: encoder steps x [S, 1, k·F] (stacked already), the encoder's state
    /// after the previous call (nil at the start). Returns the scores [S, C] and the new state
    /// [layers, 1, H]. The same arithmetic as `forward` on the whole sequence; the encoder must be
    /// unidirectional.
    public func step(_ x: Tensor, state: Tensor?) -> (logits: Tensor, state: Tensor) {
        precondition(!config.tagger.encoder.bidirectional, "Transcriber.step: a bidirectional encoder cannot stream")
        var rng = RNG(seed: 0)
        let (out, hN) = body.rnn.forward(x, lengths: [x.shape[0]], h0: state, training: false, keepForBackward: false, rng: &rng)
        return (output.linear.forwardRows(out.reshaped([x.shape[0], config.tagger.encoder.outputSize])), hN)
    }

    /// Token strings (without the blank) for per-step scores, greedy or by beam search.
    public func decode(_ logits: Tensor, lengths: [Int]) -> [[Int]] {
        config.beamWidth > 1 ? CTCDecoder.beam(logits, lengths: lengths, width: config.beamWidth) : CTCDecoder.greedy(logits, lengths: lengths)
    }
}
