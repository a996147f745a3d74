import GrusCore

/// Settings of the joint intent + slot model: one encoder, a sequence head (pooling → linear) for
/// the intent and a step head (linear at every step, optionally a CRF) for the slots.
public struct JointConfig: Codable, Equatable, Sendable {
    public var tagger: TaggerConfig
    public var pooling: Pooling.Kind = .max
    public var numIntents: Int

    public init(tagger: TaggerConfig, pooling: Pooling.Kind = .max, numIntents: Int) {
        self.tagger = tagger
        self.pooling = pooling
        self.numIntents = numIntents
    }
}

/// Joint intent detection and slot filling: the shared encoder, a step head for the slots and a
/// pooled head for the intent. Parameter names: `embedding.weight`, `chars.*`, `encoder.*`,
/// `head.*` (slots), `crf.*`, `intent.*`.
public final class JointModel: Module {
    public let config: JointConfig
    public let body: SequenceEncoder
    public let slots: StepHead
    public let intent: PooledHead

    public init(_ config: JointConfig, rng: inout RNG) {
        self.config = config
        let t = config.tagger
        body = SequenceEncoder(vocabSize: t.vocabSize, paddingIndex: t.paddingIndex, embeddingDim: t.embeddingDim, chars: t.chars,
                               encoder: t.encoder, rng: &rng)
        slots = StepHead(encoder: t.encoder, tags: t.numTags, dropout: t.dropout, crf: t.crf == true,
                         allowed: t.allowed, allowedStart: t.allowedStart, allowedEnd: t.allowedEnd, rng: &rng)
        intent = PooledHead(config.pooling, encoder: t.encoder, classes: config.numIntents, dropout: t.dropout, name: "intent", rng: &rng)
    }

    public var encoder: GRUEncoder { body.rnn }
    public var embedding: Embedding? { body.embedding }
    public var parameters: [Parameter] { body.parameters + slots.parameters + intent.parameters }

    /// Intent logits [B, intents] and slot logits [T·B, tags].
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> (intent: Tensor, slots: Tensor) {
        let (out, lengths) = body.forward(batch, training: training, keepForBackward: keepForBackward, rng: &rng)
        let slotLogits = slots.forward(out, training: training, keepForBackward: keepForBackward, rng: &rng)
        return (intent.forward(out, lengths: lengths, training: training, rng: &rng), slotLogits)
    }

    /// Accumulates every parameter's gradient from dLoss/dIntentLogits and dLoss/dSlotLogits.
    public func backward(intent dIntent: Tensor, slots dSlots: Tensor) {
        // Each head's share of dLoss/dOut, summed.
        let dOutIntent = intent.backward(dIntent)
        var dOut = slots.backward(dSlots)
        precondition(dOutIntent.shape == dOut.shape, "JointModel: intent gradient \(dOutIntent.shape) for \(dOut.shape)")
        for i in dOut.data.indices { dOut.data[i] += dOutIntent.data[i] }
        body.backward(dOut)
    }
}
