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
    /// Pool over each sequence's last `window` valid frames only (nil: all of them), as a
    /// stream pools the window of outputs before the present frame.
    public let window: Int?
    private var shape: [Int] = []
    private var lengths: [Int] = []
    private var argmax: [Int32] = []

    public init(_ kind: Kind, directions: Int = 1, window: Int? = nil) {
        precondition(window.map { $0 > 0 } ?? true, "Pooling: a window of at least one frame")
        self.kind = kind
        self.directions = directions
        self.window = window
    }

    /// The first frame pooled of a sequence of `length` frames.
    func first(_ length: Int) -> Int { window.map { max(0, length - $0) } ?? 0 }

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
                        let start = first(lengths[bi])
                        let inv = 1 / Float(lengths[bi] - start)
                        for s in start..<lengths[bi] { for j in 0..<f { o[bi * f + j] += xp[(s * b + bi) * f + j] } }
                        for j in 0..<f { o[bi * f + j] *= inv }
                    }
                case .max:
                    argmax = [Int32](repeating: 0, count: b * f)
                    argmax.withUnsafeMutableBufferPointer { am in
                        let x = xp.baseAddress!, out = o.baseAddress!, arg = am.baseAddress!
                        for bi in 0..<b {
                            // Eight features at a time; the first maximum wins, as in the scalar tail.
                            let start = first(lengths[bi]), row0 = start * b
                            var j = 0
                            while j + 8 <= f {
                                var best = load8(x + (row0 + bi) * f + j), at = SIMD8<Int32>(repeating: Int32(start))
                                for s in (start + 1)..<max(start + 1, lengths[bi]) {
                                    let v = load8(x + (s * b + bi) * f + j), better = v .> best
                                    best.replace(with: v, where: better)
                                    at.replace(with: SIMD8<Int32>(repeating: Int32(s)), where: better)
                                }
                                store8(best, out + bi * f + j)
                                UnsafeMutableRawPointer(arg + bi * f + j).storeBytes(of: at, as: SIMD8<Int32>.self)
                                j += 8
                            }
                            while j < f {
                                out[bi * f + j] = x[(row0 + bi) * f + j]
                                arg[bi * f + j] = Int32(start)
                                for s in (start + 1)..<max(start + 1, lengths[bi]) where x[(s * b + bi) * f + j] > out[bi * f + j] {
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
                            let s = j < half ? lengths[bi] - 1 : first(lengths[bi])
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
                        let start = first(lengths[bi])
                        let inv = 1 / Float(lengths[bi] - start)
                        for s in start..<lengths[bi] { for j in 0..<f { d[(s * b + bi) * f + j] = g[bi * f + j] * inv } }
                    }
                case .max:
                    for bi in 0..<b { for j in 0..<f { d[(Int(argmax[bi * f + j]) * b + bi) * f + j] = g[bi * f + j] } }
                case .last:
                    let half = f / directions
                    for bi in 0..<b {
                        for j in 0..<f {
                            let s = j < half ? lengths[bi] - 1 : first(lengths[bi])
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
