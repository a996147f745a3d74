import GrusCore

/// Reduces a padded time-major sequence [T, B, F] to [B, F] over each sequence's valid frames.
public final class Pooling {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Mean over valid frames.
        case mean
        /// Elementwise maximum over valid frames.
        case max
        /// The encoder's final states: the forward half at the last valid frame, the reverse half
        /// (when bidirectional) at frame 0 — the same values as the top layer of `h_n`.
        case last
    }

    public let kind: Kind
    /// Number of directions packed along F (the reverse half is read at frame 0 by `last`).
    public let directions: Int
    private var shape: [Int] = []
    private var lengths: [Int] = []
    private var argmax: [Int32] = []

    public init(_ kind: Kind, directions: Int = 1) {
        self.kind = kind
        self.directions = directions
    }

    public func forward(_ x: Tensor, lengths: [Int]) -> Tensor {
        precondition(x.rank == 3 && lengths.count == x.shape[1], "Pooling: input [T, B, F] with B lengths")
        let b = x.shape[1], f = x.shape[2]
        shape = x.shape
        self.lengths = lengths
        var out = Tensor(zeros: [b, f])
        x.data.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { o in
                switch kind {
                case .mean:
                    for bi in 0..<b {
                        let inv = 1 / Float(lengths[bi])
                        for s in 0..<lengths[bi] { for j in 0..<f { o[bi * f + j] += xp[(s * b + bi) * f + j] } }
                        for j in 0..<f { o[bi * f + j] *= inv }
                    }
                case .max:
                    argmax = [Int32](repeating: 0, count: b * f)
                    argmax.withUnsafeMutableBufferPointer { am in
                        let x = xp.baseAddress!, out = o.baseAddress!, arg = am.baseAddress!
                        for bi in 0..<b {
                            // Eight features at a time; the first maximum wins, as in the scalar tail.
                            var j = 0
                            while j + 8 <= f {
                                var best = load8(x + bi * f + j), at = SIMD8<Int32>(repeating: 0)
                                for s in 1..<max(1, lengths[bi]) {
                                    let v = load8(x + (s * b + bi) * f + j), better = v .> best
                                    best.replace(with: v, where: better)
                                    at.replace(with: SIMD8<Int32>(repeating: Int32(s)), where: better)
                                }
                                store8(best, out + bi * f + j)
                                UnsafeMutableRawPointer(arg + bi * f + j).storeBytes(of: at, as: SIMD8<Int32>.self)
                                j += 8
                            }
                            while j < f {
                                out[bi * f + j] = x[bi * f + j]
                                for s in 1..<max(1, lengths[bi]) where x[(s * b + bi) * f + j] > out[bi * f + j] {
                                    out[bi * f + j] = x[(s * b + bi) * f + j]
                                    arg[bi * f + j] = Int32(s)
                                }
                                j += 1
                            }
                        }
                    }
                case .last:
                    let half = f / directions
                    for bi in 0..<b {
                        for j in 0..<f {
                            let s = j < half ? lengths[bi] - 1 : 0
                            o[bi * f + j] = xp[(s * b + bi) * f + j]
                        }
                    }
                }
            }
        }
        return out
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let t = shape[0], b = shape[1], f = shape[2]
        precondition(dy.shape == [b, f], "Pooling backward: gradient shape \(dy.shape)")
        var dx = Tensor(zeros: [t, b, f])
        dy.data.withUnsafeBufferPointer { g in
            dx.data.withUnsafeMutableBufferPointer { d in
                switch kind {
                case .mean:
                    for bi in 0..<b {
                        let inv = 1 / Float(lengths[bi])
                        for s in 0..<lengths[bi] { for j in 0..<f { d[(s * b + bi) * f + j] = g[bi * f + j] * inv } }
                    }
                case .max:
                    for bi in 0..<b { for j in 0..<f { d[(Int(argmax[bi * f + j]) * b + bi) * f + j] = g[bi * f + j] } }
                case .last:
                    let half = f / directions
                    for bi in 0..<b {
                        for j in 0..<f {
                            let s = j < half ? lengths[bi] - 1 : 0
                            d[(s * b + bi) * f + j] = g[bi * f + j]
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Inverted dropout: in training, zeroes each value with probability p and scales the rest by 1/(1-p).
public final class Dropout {
    public let p: Float
    private var mask: [Float] = []
    private var active = false

    public init(_ p: Float) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1)")
        self.p = p
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout RNG) -> Tensor {
        active = training && p > 0
        if !active { return x }
        let keep = 1 - p, scale = 1 / keep
        mask = (0..<x.count).map { _ in rng.uniform() < keep ? scale : 0 }
        var y = x
        for i in y.data.indices { y.data[i] *= mask[i] }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if !active { return dy }
        var dx = dy
        for i in dx.data.indices { dx.data[i] *= mask[i] }
        return dx
    }
}
