import GrusCore

/// A label per sequence: pooling over the valid steps → dropout → linear. Parameters
/// `NAME.weight`, `NAME.bias` ("head" for a classifier, "intent" for the joint model).
public final class PooledHead {
    public let pooling: Pooling
    public let dropout: Dropout
    public let linear: Linear

    public init(_ kind: Pooling.Kind, window: Int? = nil, encoder: GRUConfig, classes: Int, dropout p: Float, name: String, rng: inout RNG) {
        pooling = Pooling(kind, directions: encoder.directions, window: window)
        dropout = Dropout(p)
        linear = Linear(encoder.outputSize, classes, name: name, rng: &rng)
    }

    public var parameters: [Parameter] { linear.parameters }

    /// Logits [B, classes] from the encoder's output [T, B, D·H].
    public func forward(_ out: Tensor, lengths: [Int], training: Bool, rng: inout RNG) -> Tensor {
        linear.forward(dropout.forward(pooling.forward(out, lengths: lengths), training: training, rng: &rng))
    }

    /// dLoss/dOut [T, B, D·H] from dLoss/dLogits, accumulating the linear layer's gradients.
    public func backward(_ dLogits: Tensor) -> Tensor { pooling.backward(dropout.backward(linear.backward(dLogits))) }
}

/// A label per step: dropout → linear at every step (`head.*`), optionally a linear-chain CRF over
/// the scores (`crf.*`). Logits come for every row of the padded batch, [T·B, C] (row t·B + b is
/// step t of sequence b); losses read the valid rows only.
public final class StepHead {
    public let dropout: Dropout
    public let linear: Linear
    public let crf: CRF?
    private var steps = 0, size = 0

    public init(encoder: GRUConfig, tags: Int, dropout p: Float, crf: Bool, allowed: [Bool]?, allowedStart: [Bool]?, allowedEnd: [Bool]?,
                rng: inout RNG) {
        dropout = Dropout(p)
        linear = Linear(encoder.outputSize, tags, name: "head", rng: &rng)
        if crf {
            let c = CRF(tags: tags, rng: &rng)
            c.allowed = allowed
            c.allowedStart = allowedStart
            c.allowedEnd = allowedEnd
            self.crf = c
        } else {
            self.crf = nil
        }
    }

    public var parameters: [Parameter] { linear.parameters + (crf?.parameters ?? []) }

    /// Logits [T·B, C] from the encoder's output [T, B, D·H].
    public func forward(_ out: Tensor, training: Bool, keepForBackward: Bool, rng: inout RNG) -> Tensor {
        steps = out.shape[0]
        size = out.shape[1]
        let rows = out.reshaped([steps * size, out.shape[2]])
        // Inference: each row's scores the same arithmetic whatever the batch (streaming = offline).
        if !keepForBackward && !training { return linear.forwardRows(rows) }
        return linear.forward(dropout.forward(rows, training: training, rng: &rng))
    }

    /// dLoss/dOut [T, B, D·H] from dLoss/dLogits [T·B, C] (zero on padded rows).
    public func backward(_ dLogits: Tensor) -> Tensor {
        let dRows = dropout.backward(linear.backward(dLogits))
        return dRows.reshaped([steps, size, dRows.shape[1]])
    }
}
