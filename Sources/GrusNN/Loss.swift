import GrusCore

/// Softmax cross-entropy over logits [B, C] with integer targets, averaged as PyTorch's
/// `cross_entropy(reduction="mean")`: with class weights w the sum is divided by Σ_i w[y_i];
/// label smoothing ε mixes the one-hot target with the uniform distribution.
public struct CrossEntropy {
    public var labelSmoothing: Float
    public var classWeights: [Float]?

    public init(labelSmoothing: Float = 0, classWeights: [Float]? = nil) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "CrossEntropy: label smoothing must be in [0, 1]")
        self.labelSmoothing = labelSmoothing
        self.classWeights = classWeights
    }

    /// Returns the loss, the gradient w.r.t. the logits, and the softmax probabilities.
    /// The mean's denominator over these targets: Σ_i w[y_i] (the count without class weights).
    public func denominator(targets: [Int]) -> Double {
        guard let w = classWeights else { return Double(targets.count) }
        return targets.reduce(0) { $0 + Double(w[$1]) }
    }

    /// `denominator`: divide the sum by this instead of this batch's own (a data-parallel share
    /// divides by the whole batch's, so the shares' gradients sum to the batch's).
    public func callAsFunction(_ logits: Tensor, targets: [Int], denominator: Double? = nil) -> (loss: Float, grad: Tensor, probs: Tensor) {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count, "CrossEntropy: logits [B, C] and B targets")
        let b = logits.shape[0], c = logits.shape[1]
        let w = classWeights ?? [Float](repeating: 1, count: c)
        precondition(w.count == c, "CrossEntropy: \(w.count) class weights for \(c) classes")
        let eps = Double(labelSmoothing)
        let wSum = w.reduce(0, +)
        let probs = softmax(logits)
        var grad = Tensor(zeros: [b, c])
        var denom = 0.0, total = 0.0
        for i in 0..<b {
            let y = targets[i]
            precondition(y >= 0 && y < c, "CrossEntropy: target \(y) outside 0..<\(c)")
            denom += Double(w[y])
            // Log-probabilities from the logits directly, for accuracy.
            var m = -Float.infinity
            for k in 0..<c { m = max(m, logits[i, k]) }
            var z = 0.0
            for k in 0..<c { z += exp(Double(logits[i, k] - m)) }
            let logZ = Double(m) + log(z)
            var smooth = 0.0
            for k in 0..<c { smooth -= Double(w[k]) * (Double(logits[i, k]) - logZ) }
            let nll = -Double(w[y]) * (Double(logits[i, y]) - logZ)
            total += (1 - eps) * nll + eps / Double(c) * smooth
            for k in 0..<c {
                let p = Double(probs[i, k])
                let g = (1 - eps) * Double(w[y]) * (p - (k == y ? 1 : 0)) + eps / Double(c) * (p * Double(wSum) - Double(w[k]))
                grad[i, k] = Float(g)
            }
        }
        let d = denominator ?? denom
        let scale = d > 0 ? 1 / d : 0
        for i in grad.data.indices { grad.data[i] = Float(Double(grad.data[i]) * scale) }
        return (Float(total * scale), grad, probs)
    }
}

/// Row-wise softmax of [B, C].
public func softmax(_ logits: Tensor) -> Tensor {
    precondition(logits.rank == 2, "softmax: rank-2 input")
    let b = logits.shape[0], c = logits.shape[1]
    var out = logits
    for i in 0..<b {
        var m = -Float.infinity
        for k in 0..<c { m = max(m, out.data[i * c + k]) }
        var s: Float = 0
        for k in 0..<c { let e = Foundation.exp(out.data[i * c + k] - m); out.data[i * c + k] = e; s += e }
        for k in 0..<c { out.data[i * c + k] /= s }
    }
    return out
}

import Foundation
