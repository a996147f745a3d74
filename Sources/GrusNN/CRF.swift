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

    /// Mean negative log-likelihood of the gold tags over the batch, and dLoss/dEmissions
    /// [T·B, C] (zero on padded rows). Accumulates the parameters' gradients.
    public func loss(_ emissions: Tensor, lengths: [Int], targets: [[Int]]) -> (loss: Float, dEmissions: Tensor) {
        let c = tags, b = lengths.count
        precondition(emissions.rank == 2 && emissions.shape[1] == c && targets.count == b, "CRF: emissions [T·B, \(c)] and a target per sequence")
        var dE = Tensor(zeros: emissions.shape)
        var total = 0.0
        var dTrans = [Double](repeating: 0, count: c * c), dStart = [Double](repeating: 0, count: c), dEnd = [Double](repeating: 0, count: c)
        let scale = 1 / Double(max(b, 1))
        for s in 0..<b {
            let n = lengths[s], y = targets[s]
            precondition(y.count == n, "CRF: \(y.count) targets for \(n) steps")
            if n == 0 { continue }
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
            total += logZ - gold
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
        }
        for k in 0..<(c * c) { transitions.grad.data[k] += Float(scale * dTrans[k]) }
        for j in 0..<c { start.grad.data[j] += Float(scale * dStart[j]); end.grad.data[j] += Float(scale * dEnd[j]) }
        return (Float(total * scale), dE)
    }

    /// The best tag sequence of each sequence (Viterbi).
    public func decode(_ emissions: Tensor, lengths: [Int]) -> [[Int]] {
        let c = tags, b = lengths.count
        return (0..<b).map { s in
            let n = lengths[s]
            if n == 0 { return [] }
            func e(_ t: Int, _ j: Int) -> Double { Double(emissions.data[(t * b + s) * c + j]) }
            var score = (0..<c).map { first($0) + e(0, $0) }
            var back = [[Int]](repeating: [Int](repeating: 0, count: c), count: n)
            for t in 1..<max(n, 1) where t < n {
                var next = [Double](repeating: -.infinity, count: c)
                for j in 0..<c {
                    var best = 0, bestScore = -Double.infinity
                    for i in 0..<c where score[i] + trans(i, j) > bestScore { bestScore = score[i] + trans(i, j); best = i }
                    next[j] = bestScore + e(t, j)
                    back[t][j] = best
                }
                score = next
            }
            var j = (0..<c).max { score[$0] + last($0) < score[$1] + last($1) }!
            var path = [j]
            for t in stride(from: n - 1, to: 0, by: -1) { j = back[t][j]; path.append(j) }
            return path.reversed()
        }
    }
}
