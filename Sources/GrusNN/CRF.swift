import Foundation
import GrusCore

/// A linear-chain conditional random field over per-step emission scores, as pytorch-crf's
/// `CRF` (same parameter names and meaning): `transitions[i, j]` scores tag i followed by tag j,
/// `start_transitions[j]` and `end_transitions[j]` the first and last tag. The loss is the
/// negative log-likelihood from the forward algorithm in log space, averaged over sequences;
/// its gradients are the marginals from forward-backward, written out; decoding is Viterbi.
/// An optional mask of allowed transitions (e.g. no O → I-X in BIO) fixes the forbidden ones at
/// −∞: they are never decoded and never learnt.
///
/// Letters: T steps, B sequences, C tags. Emissions come as the tagger's logits, [T·B, C]
/// time-major (row t·B + b), with per-sequence lengths; padded rows are ignored.
public final class CRF: Module {
    public let tags: Int
    public let transitions: Parameter        // [C, C]
    public let start: Parameter              // [C]
    public let end: Parameter                // [C]
    /// allowed[i·C + j]: may tag j follow tag i; allowedStart / allowedEnd likewise. nil: all.
    public var allowed: [Bool]?, allowedStart: [Bool]?, allowedEnd: [Bool]?

    public init(tags: Int, name: String = "crf", rng: inout RNG) {
        self.tags = tags
        let p = name.isEmpty ? "" : name + "."
        // pytorch-crf: uniform(-0.1, 0.1)
        transitions = Parameter(p + "transitions", Init.uniform([tags, tags], bound: 0.1, rng: &rng))
        start = Parameter(p + "start_transitions", Init.uniform([tags], bound: 0.1, rng: &rng))
        end = Parameter(p + "end_transitions", Init.uniform([tags], bound: 0.1, rng: &rng))
    }

    public var parameters: [Parameter] { [transitions, start, end] }

    // Scores with the mask applied, in Double.
    func trans(_ i: Int, _ j: Int) -> Double { allowed.map { $0[i * tags + j] } ?? true ? Double(transitions.value.data[i * tags + j]) : -.infinity }
    func first(_ j: Int) -> Double { allowedStart.map { $0[j] } ?? true ? Double(start.value.data[j]) : -.infinity }
    func last(_ j: Int) -> Double { allowedEnd.map { $0[j] } ?? true ? Double(end.value.data[j]) : -.infinity }

    static func logSumExp(_ xs: [Double]) -> Double {
        guard let m = xs.max(), m > -.infinity else { return -.infinity }
        return m + log(xs.reduce(0) { $0 + exp($1 - m) })
    }

    /// The masked scores in Double: transitions [C·C], start [C], end [C] (−∞ where forbidden).
    func maskedScores() -> (trans: [Double], start: [Double], end: [Double]) {
        let c = tags
        return ((0..<(c * c)).map { trans($0 / c, $0 % c) }, (0..<c).map(first), (0..<c).map(last))
    }

    /// Mean negative log-likelihood of the gold tags over the batch, and dLoss/dEmissions
    /// [T·B, C] (zero on padded rows). Accumulates the parameters' gradients.
    ///
    /// The forward-backward runs for the whole batch at once in scaled probability space
    /// (Rabiner's scaling): each step is one [B, C]·[C, C] product and a renormalisation, and the
    /// log of each step's scale goes into log Z. A sequence whose scaled values underflow (scores
    /// hundreds of nats apart) is redone exactly in log space (`exactLoss`).
    /// `denominator`: divide by this instead of the batch size (a data-parallel share divides by
    /// the whole batch's). `weight` scales the gradients only (dEmissions and the transitions'),
    /// for a loss that is one weighted term of a larger one.
    public func loss(_ emissions: Tensor, lengths: [Int], targets: [[Int]], denominator: Double? = nil,
                     weight: Double = 1) -> (loss: Float, dEmissions: Tensor) {
        let c = tags, b = lengths.count, steps = lengths.max() ?? 0
        precondition(emissions.rank == 2 && emissions.shape[1] == c && targets.count == b && emissions.shape[0] >= steps * b,
                     "CRF: emissions [T·B, \(c)] and a target per sequence")
        for s in 0..<b { precondition(targets[s].count == lengths[s], "CRF: \(targets[s].count) targets for \(lengths[s]) steps") }
        var dE = Tensor(zeros: emissions.shape)
        if steps == 0 { return (0, dE) }
        let den = denominator ?? Double(b)
        let scale = weight / den, rows = steps * b
        let (tr, st, en) = maskedScores()
        // Shifted exponentials: et [C, C] = exp(trans − mT); es, ee [C] likewise for start and end.
        let mT = tr.filter(\.isFinite).max() ?? 0, mS = st.filter(\.isFinite).max() ?? 0, mE = en.filter(\.isFinite).max() ?? 0
        let et = tr.map { exp($0 - mT) }, es = st.map { exp($0 - mS) }, ee = en.map { exp($0 - mE) }
        // x [T, B, C] = exp(emission − rowMax), rowMax [T, B]; zero on padded rows.
        var x = [Double](repeating: 0, count: rows * c), rowMax = [Double](repeating: 0, count: rows)
        for t in 0..<steps { for s in 0..<b where t < lengths[s] {
            let r = t * b + s
            var m = -Double.infinity
            for j in 0..<c { m = max(m, Double(emissions.data[r * c + j])) }
            rowMax[r] = m
            for j in 0..<c { x[r * c + j] = exp(Double(emissions.data[r * c + j]) - m) }
        } }
        // Forward. ah [T, B, C]: scaled alphas (each valid row sums to 1); norm [T, B]: the scales.
        //   a_0 = es ⊙ x_0;  a_t = (ah_{t−1} · et) ⊙ x_t;  norm_t = Σ_j a_t;  ah_t = a_t / norm_t
        //   log Z = Σ_t (log norm_t + rowMax_t + shift_t) + log Σ_j ah_{n−1} ⊙ ee + mE
        var ah = [Double](repeating: 0, count: rows * c), norm = [Double](repeating: 1, count: rows)
        var logZ = [Double](repeating: 0, count: b), endSum = [Double](repeating: 1, count: b)
        var exact = [Bool](repeating: false, count: b)
        ah.withUnsafeMutableBufferPointer { a in
            for t in 0..<steps {
                let cur = a.baseAddress! + t * b * c
                if t == 0 {
                    for s in 0..<b { for j in 0..<c { cur[s * c + j] = es[j] * x[s * c + j] } }
                } else {
                    et.withUnsafeBufferPointer { e in
                        BLAS.dgemm(transA: false, transB: false, m: b, n: c, k: c, cur - b * c, lda: c, e.baseAddress!, ldb: c, cur, ldc: c)
                    }
                }
                for s in 0..<b {
                    let r = t * b + s
                    guard t < lengths[s] else { for j in 0..<c { cur[s * c + j] = 0 }; continue }
                    var sum = 0.0
                    for j in 0..<c { cur[s * c + j] *= (t == 0 ? 1 : x[r * c + j]); sum += cur[s * c + j] }
                    if !(sum > 0 && sum.isFinite) { exact[s] = true; sum = 1 }
                    norm[r] = sum
                    for j in 0..<c { cur[s * c + j] /= sum }
                    logZ[s] += log(sum) + rowMax[r] + (t == 0 ? mS : mT)
                }
            }
        }
        for s in 0..<b where lengths[s] > 0 {
            let r = (lengths[s] - 1) * b + s
            var sum = 0.0
            for j in 0..<c { sum += ah[r * c + j] * ee[j] }
            if !(sum > 0 && sum.isFinite) { exact[s] = true; sum = 1 }
            endSum[s] = sum
            logZ[s] += log(sum) + mE
        }
        // Backward. bh [T, B, C]: scaled betas, so that ah_t ⊙ bh_t is step t's marginal.
        //   bh_{n−1} = ee / endSum;  bh_t = w_{t+1} · etᵀ,  w_t = x_t ⊙ bh_t / norm_t  (w [T, B, C], zero past n)
        var bh = [Double](repeating: 0, count: rows * c), w = [Double](repeating: 0, count: rows * c)
        bh.withUnsafeMutableBufferPointer { bp in
            w.withUnsafeMutableBufferPointer { wp in
                for t in stride(from: steps - 1, through: 0, by: -1) {
                    let cur = bp.baseAddress! + t * b * c
                    if t + 1 < steps {
                        et.withUnsafeBufferPointer { e in
                            BLAS.dgemm(transA: false, transB: true, m: b, n: c, k: c, wp.baseAddress! + (t + 1) * b * c, lda: c,
                                       e.baseAddress!, ldb: c, cur, ldc: c)
                        }
                    }
                    for s in 0..<b {
                        let r = t * b + s
                        if t == lengths[s] - 1 { for j in 0..<c { cur[s * c + j] = ee[j] / endSum[s] } }
                        guard t < lengths[s], !exact[s] else { continue }
                        for j in 0..<c { wp[r * c + j] = x[r * c + j] * cur[s * c + j] / norm[r] }
                    }
                }
            }
        }
        // Marginals minus gold indicators: dE, dStart, dEnd. Pairwise: dTrans = et ⊙ Σ_t ah_{t−1}ᵀ · w_t − gold counts.
        var total = 0.0
        var dTrans = [Double](repeating: 0, count: c * c), dStart = [Double](repeating: 0, count: c), dEnd = [Double](repeating: 0, count: c)
        for s in 0..<b where exact[s] { for t in 0..<lengths[s] { for j in 0..<c { ah[(t * b + s) * c + j] = 0 } } }
        if steps > 1 {
            ah.withUnsafeBufferPointer { a in
                w.withUnsafeBufferPointer { wp in
                    dTrans.withUnsafeMutableBufferPointer { d in
                        BLAS.dgemm(transA: true, transB: false, m: c, n: c, k: (steps - 1) * b, a.baseAddress!, lda: c,
                                   wp.baseAddress! + b * c, ldb: c, d.baseAddress!, ldc: c)
                    }
                }
            }
            for k in 0..<(c * c) { dTrans[k] *= et[k] }
        }
        for s in 0..<b where lengths[s] > 0 {
            let n = lengths[s], y = targets[s]
            if exact[s] {
                // Left out of the batched sums above (its rows of ah and w are zero): redo it exactly.
                total += exactLoss(emissions, sequence: s, lengths: lengths, targets: y, scale: scale, dE: &dE, dTrans: &dTrans, dStart: &dStart, dEnd: &dEnd)
                continue
            }
            var gold = st[y[0]] + en[y[n - 1]]
            for t in 0..<n { gold += Double(emissions.data[(t * b + s) * c + y[t]]) }
            for t in 1..<max(n, 1) where t < n { gold += tr[y[t - 1] * c + y[t]]; dTrans[y[t - 1] * c + y[t]] -= 1 }
            total += logZ[s] - gold
            for t in 0..<n {
                let r = t * b + s
                for j in 0..<c {
                    let p = ah[r * c + j] * bh[r * c + j]
                    dE.data[r * c + j] = Float(scale * (p - (y[t] == j ? 1 : 0)))
                    if t == 0 { dStart[j] += p }
                    if t == n - 1 { dEnd[j] += p }
                }
            }
            dStart[y[0]] -= 1
            dEnd[y[n - 1]] -= 1
        }
        for k in 0..<(c * c) { transitions.grad.data[k] += Float(scale * dTrans[k]) }
        for j in 0..<c { start.grad.data[j] += Float(scale * dStart[j]); end.grad.data[j] += Float(scale * dEnd[j]) }
        return (Float(total / den), dE)
    }

    /// One sequence's negative log-likelihood and gradients in log space, with no scaling: the
    /// reference the batched loss falls back to. Writes its rows of dE, adds to the unscaled sums.
    func exactLoss(_ emissions: Tensor, sequence s: Int, lengths: [Int], targets y: [Int], scale: Double,
                   dE: inout Tensor, dTrans: inout [Double], dStart: inout [Double], dEnd: inout [Double]) -> Double {
        let c = tags, b = lengths.count, n = lengths[s]
        func e(_ t: Int, _ j: Int) -> Double { Double(emissions.data[(t * b + s) * c + j]) }
        // forward: alpha[t][j] = logsumexp_i(alpha[t-1][i] + trans(i, j)) + e(t, j)
        var alpha = [[Double]](repeating: [Double](repeating: 0, count: c), count: n)
        for j in 0..<c { alpha[0][j] = first(j) + e(0, j) }
        for t in 1..<max(n, 1) where t < n {
            for j in 0..<c { alpha[t][j] = CRF.logSumExp((0..<c).map { alpha[t - 1][$0] + trans($0, j) }) + e(t, j) }
        }
        let logZ = CRF.logSumExp((0..<c).map { alpha[n - 1][$0] + last($0) })
        // backward: beta[t][i] = logsumexp_j(trans(i, j) + e(t+1, j) + beta[t+1][j]); beta[n-1][i] = last(i)
        var beta = [[Double]](repeating: [Double](repeating: 0, count: c), count: n)
        for i in 0..<c { beta[n - 1][i] = last(i) }
        for t in stride(from: n - 2, through: 0, by: -1) {
            for i in 0..<c { beta[t][i] = CRF.logSumExp((0..<c).map { trans(i, $0) + e(t + 1, $0) + beta[t + 1][$0] }) }
        }
        // gold score: first(y0) + Σ e(t, y_t) + Σ trans(y_{t-1}, y_t) + last(y_{n-1})
        var gold = first(y[0]) + last(y[n - 1])
        for t in 0..<n { gold += e(t, y[t]) }
        for t in 1..<max(n, 1) where t < n { gold += trans(y[t - 1], y[t]) }
        // backward of NLL = logZ − gold: marginals minus gold indicators
        for t in 0..<n {
            for j in 0..<c {
                let p = exp(alpha[t][j] + beta[t][j] - logZ)
                dE.data[(t * b + s) * c + j] = Float(scale * (p - (y[t] == j ? 1 : 0)))
            }
        }
        for j in 0..<c {
            dStart[j] += exp(alpha[0][j] + beta[0][j] - logZ) - (y[0] == j ? 1 : 0)
            dEnd[j] += exp(alpha[n - 1][j] + beta[n - 1][j] - logZ) - (y[n - 1] == j ? 1 : 0)
        }
        for t in 1..<max(n, 1) where t < n {
            for i in 0..<c where alpha[t - 1][i] > -.infinity {
                for j in 0..<c {
                    let tr = trans(i, j)
                    if tr == -.infinity { continue }
                    dTrans[i * c + j] += exp(alpha[t - 1][i] + tr + e(t, j) + beta[t][j] - logZ)
                }
            }
            dTrans[y[t - 1] * c + y[t]] -= 1
        }
        return logZ - gold
    }

    /// The best tag sequence of each sequence (Viterbi).
    public func decode(_ emissions: Tensor, lengths: [Int]) -> [[Int]] {
        let c = tags, b = lengths.count
        let (tr, st, en) = maskedScores()
        return (0..<b).map { s in
            let n = lengths[s]
            if n == 0 { return [] }
            // score [C]: best path score ending in each tag; back [n, C]: its previous tag
            var score = (0..<c).map { st[$0] + Double(emissions.data[s * c + $0]) }
            var next = [Double](repeating: 0, count: c)
            var back = [Int](repeating: 0, count: n * c)
            for t in 1..<max(n, 1) where t < n {
                let row = (t * b + s) * c
                for j in 0..<c {
                    var best = 0, bestScore = -Double.infinity
                    for i in 0..<c {
                        let v = score[i] + tr[i * c + j]
                        if v > bestScore { bestScore = v; best = i }
                    }
                    next[j] = bestScore + Double(emissions.data[row + j])
                    back[t * c + j] = best
                }
                swap(&score, &next)
            }
            var j = 0
            for k in 1..<c where score[k] + en[k] > score[j] + en[j] { j = k }
            var path = [j]
            for t in stride(from: n - 1, to: 0, by: -1) { j = back[t * c + j]; path.append(j) }
            return path.reversed()
        }
    }
}
