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

/// Joint intent detection and slot filling over a shared GRU encoder. Parameter names:
/// `embedding.weight`, `encoder.*`, `head.*` (slots), `intent.*`, `crf.*`.
public final class JointModel: Module {
    public let config: JointConfig
    public let slots: SequenceTagger
    public let pooling: Pooling
    public let intentDropout: Dropout
    public let intent: Linear
    private var encoderOut = Tensor(zeros: [0, 0, 0])

    public init(_ config: JointConfig, rng: inout RNG) {
        self.config = config
        slots = SequenceTagger(config.tagger, rng: &rng)
        pooling = Pooling(config.pooling, directions: config.tagger.encoder.directions)
        intentDropout = Dropout(config.tagger.dropout)
        intent = Linear(config.tagger.encoder.outputSize, config.numIntents, name: "intent", rng: &rng)
    }

    public var encoder: GRUEncoder { slots.encoder }
    public var embedding: Embedding? { slots.embedding }
    public var parameters: [Parameter] { slots.parameters + intent.parameters }

    /// Intent logits [B, intents] and slot logits [T·B, tags].
    public func forward(_ batch: SequenceBatch, training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> (intent: Tensor, slots: Tensor) {
        let slotLogits = slots.forward(batch, training: training, keepForBackward: keepForBackward, rng: &rng)
        // The tagger keeps the encoder's output for its own backward; the intent head pools it.
        let out = slots.lastEncoderOutput
        let pooled = pooling.forward(out, lengths: batch.lengths)
        return (intent.forward(intentDropout.forward(pooled, training: training, rng: &rng)), slotLogits)
    }

    /// Accumulates every parameter's gradient from dLoss/dIntentLogits and dLoss/dSlotLogits.
    public func backward(intent dIntent: Tensor, slots dSlots: Tensor) {
        // backward of: intent = linear(dropout(pool(out))) — its share of dOut
        let dOutIntent = pooling.backward(intentDropout.backward(intent.backward(dIntent)))
        slots.backward(dSlots, extraOutputGradient: dOutIntent)
    }
}
