import GrusCore

/// Appends regression deltas (and delta-deltas with order 2) to [frames, dim] features:
/// d_t = Σ_{n=1..N} n (c_{t+n} − c_{t−n}) / (2 Σ n²), edge frames repeated (Kaldi, torchaudio).
public func appendDeltas(_ x: Tensor, order: Int, window n: Int = 2) -> Tensor {
    precondition(x.rank == 2 && order >= 0 && n >= 1, "deltas: [frames, dim] input, order >= 0, window >= 1")
    let frames = x.shape[0], dim = x.shape[1]
    var blocks = [x]
    for _ in 0..<order { blocks.append(delta(blocks.last!, window: n)) }
    var out = Tensor(zeros: [frames, dim * (order + 1)])
    for t in 0..<frames {
        for (bi, blk) in blocks.enumerated() {
            for j in 0..<dim { out.data[t * dim * (order + 1) + bi * dim + j] = blk.data[t * dim + j] }
        }
    }
    return out
}

func delta(_ x: Tensor, window n: Int) -> Tensor {
    let frames = x.shape[0], dim = x.shape[1]
    var out = Tensor(zeros: [frames, dim])
    if frames == 0 { return out }
    let denom = Float(2 * (1...n).reduce(0) { $0 + $1 * $1 })
    for t in 0..<frames {
        for k in 1...n {
            let a = min(t + k, frames - 1), b = max(t - k, 0)
            for j in 0..<dim { out.data[t * dim + j] += Float(k) * (x.data[a * dim + j] - x.data[b * dim + j]) }
        }
        for j in 0..<dim { out.data[t * dim + j] /= denom }
    }
    return out
}

/// Cepstral mean (and variance) normalisation.
public enum CMVN {
    /// Normalises each dimension over the utterance's own frames.
    public static func utterance(_ x: Tensor, normalizeVariance: Bool = true) -> Tensor {
        var stats = CMVNStats(dimension: x.shape[1])
        stats.add(x)
        return stats.apply(x, normalizeVariance: normalizeVariance)
    }
}

/// Sliding-window CMVN, causal: each frame is normalised by the mean (and standard deviation)
/// of the last `window` frames, itself included, with running sums in Double. Offline and
/// streaming feed the same frames in the same order through the same state, so they agree bit
/// for bit.
public struct SlidingCMVN: Sendable {
    public let window: Int, dimension: Int, normalizeVariance: Bool
    var history: [Float] = []          // the last `window` frames, oldest first
    var sum: [Double], sumSquares: [Double]

    public init(window: Int, dimension: Int, normalizeVariance: Bool) {
        self.window = max(1, window)
        self.dimension = dimension
        self.normalizeVariance = normalizeVariance
        sum = [Double](repeating: 0, count: dimension)
        sumSquares = [Double](repeating: 0, count: dimension)
    }

    /// The next frames [n, dimension], normalised.
    public mutating func apply(_ x: Tensor) -> Tensor {
        let d = dimension
        precondition(x.rank == 2 && x.shape[1] == d, "SlidingCMVN: frames must be [n, \(d)], got \(x.shape)")
        var out = x
        for t in 0..<x.shape[0] {
            let row = Array(x.data[(t * d)..<((t + 1) * d)])
            for j in 0..<d { sum[j] += Double(row[j]); sumSquares[j] += Double(row[j]) * Double(row[j]) }
            history += row
            if history.count > window * d {
                for j in 0..<d { let old = Double(history[j]); sum[j] -= old; sumSquares[j] -= old * old }
                history.removeFirst(d)
            }
            let n = Double(history.count / d)
            for j in 0..<d {
                let mean = sum[j] / n
                var v = Double(row[j]) - mean
                if normalizeVariance { v /= max(sumSquares[j] / n - mean * mean, 1e-10).squareRoot() }
                out.data[t * d + j] = Float(v)
            }
        }
        return out
    }
}

/// Per-dimension running sums for global CMVN, accumulated over the training set and
/// saved with the model.
public struct CMVNStats: Codable, Equatable, Sendable {
    public var count: Double = 0
    public var sum: [Double]
    public var sumSquares: [Double]
    /// No dimension's standard deviation is taken below this share of the median one, so a
    /// near-constant dimension (mel bins above a recording's bandwidth hold only resampler
    /// noise, std ~1e-5) is not multiplied by 1e5. nil (statistics saved before this existed):
    /// only the absolute floor of 1e-5.
    public var relativeFloor: Double? = nil

    public init(dimension: Int) {
        sum = [Double](repeating: 0, count: dimension)
        sumSquares = sum
    }

    public var dimension: Int { sum.count }

    public mutating func add(_ x: Tensor) {
        precondition(x.rank == 2 && x.shape[1] == dimension, "CMVNStats: [frames, \(dimension)] input, got \(x.shape)")
        let d = dimension
        for t in 0..<x.shape[0] {
            for j in 0..<d {
                let v = Double(x.data[t * d + j])
                sum[j] += v
                sumSquares[j] += v * v
            }
        }
        count += Double(x.shape[0])
    }

    public mutating func merge(_ other: CMVNStats) {
        precondition(other.dimension == dimension)
        count += other.count
        for j in 0..<dimension { sum[j] += other.sum[j]; sumSquares[j] += other.sumSquares[j] }
    }

    public var mean: [Float] { sum.map { Float(count > 0 ? $0 / count : 0) } }

    /// Standard deviations, floored at 1e-5 and at `relativeFloor` × the median.
    public var std: [Float] {
        let raw = (0..<dimension).map { j -> Float in
            guard count > 0 else { return 1 }
            let m = sum[j] / count
            return Float(max(sumSquares[j] / count - m * m, 1e-10).squareRoot())
        }
        var floor: Float = 1e-5
        if let r = relativeFloor, !raw.isEmpty {
            let sorted = raw.sorted()
            floor = max(floor, Float(r) * sorted[sorted.count / 2])
        }
        return raw.map { max($0, floor) }
    }

    public func apply(_ x: Tensor, normalizeVariance: Bool = true) -> Tensor {
        let d = dimension, m = mean, s = std
        var out = x
        for t in 0..<x.shape[0] {
            for j in 0..<d {
                var v = x.data[t * d + j] - m[j]
                if normalizeVariance { v /= s[j] }
                out.data[t * d + j] = v
            }
        }
        return out
    }
}
