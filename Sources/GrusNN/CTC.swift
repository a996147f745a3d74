import Foundation
import GrusCore

/// Connectionist temporal classification (Graves et al. 2006): the negative log-probability of a
/// label string summed over every alignment of it to the input steps, with a blank symbol
/// (index 0) between and around the labels. Same definition and reduction as PyTorch's
/// `ctc_loss(log_softmax(logits), ..., blank=0, reduction="mean")`: each sequence's loss is divided
/// by its target length, then averaged over the batch.
///
/// Letters: T steps, B sequences, C classes (blank included), U labels of a sequence, S = 2U + 1
/// states of its blank-extended string l' (blank, l1, blank, l2, ..., lU, blank).
/// Logits come [T·B, C] time-major (row t·B + b), as the tagger gives them; rows past a
/// sequence's length are ignored and get no gradient.
public struct CTCLoss {
    /// A target that cannot be aligned to its input (too long, or repeats that need blanks
    /// between them) has an infinite loss: `zeroInfinity` counts it as 0 with no gradient
    /// (PyTorch's `zero_infinity`), otherwise the loss is +∞.
    public var zeroInfinity: Bool

    public init(zeroInfinity: Bool = false) { self.zeroInfinity = zeroInfinity }

    /// The fewest input steps that can carry `target`: one per label, plus a blank between repeats.
    public static func minimumSteps(_ target: [Int]) -> Int {
        target.count + zip(target, target.dropFirst()).filter { $0 == $1 }.count
    }

    /// Mean loss and dLoss/dLogits [T·B, C]; `infeasible` lists the sequences whose target
    /// could not be aligned.
    /// `denominator`: the batch size to divide by instead of this batch's (a data-parallel share
    /// divides by the whole batch's).
    public func callAsFunction(_ logits: Tensor, lengths: [Int], targets: [[Int]], denominator: Double? = nil) -> (loss: Float, grad: Tensor, infeasible: [Int]) {
        let b = lengths.count, c = logits.shape[1]
        precondition(logits.rank == 2 && targets.count == b, "CTC: logits [T·B, C] and a target per sequence")
        let steps = lengths.max() ?? 0
        precondition(logits.shape[0] >= steps * b, "CTC: \(logits.shape[0]) rows for \(steps) steps × \(b) sequences")
        var grad = Tensor(zeros: logits.shape)
        var losses = [Double](repeating: 0, count: b)
        grad.data.withUnsafeMutableBufferPointer { g in
            let gp = g.baseAddress!
            logits.data.withUnsafeBufferPointer { z in
                let zp = z.baseAddress!
                Threads.forEach(b) { s in
                    losses[s] = CTCLoss.sequence(zp, gp, s: s, batch: b, classes: c, length: lengths[s], target: targets[s])
                }
            }
        }
        var total = 0.0, infeasible: [Int] = []
        for s in 0..<b {
            let scale = 1 / ((denominator ?? Double(b)) * Double(max(targets[s].count, 1)))
            if !losses[s].isFinite {
                infeasible.append(s)
                // No alignment: no gradient either way; the loss is 0 or +∞.
                for t in 0..<lengths[s] { for k in 0..<c { grad.data[(t * b + s) * c + k] = 0 } }
                if !zeroInfinity { total = .infinity }
                continue
            }
            total += losses[s] * scale
            for t in 0..<lengths[s] { for k in 0..<c { grad.data[(t * b + s) * c + k] *= Float(scale) } }
        }
        return (Float(total), grad, infeasible)
    }

    /// One sequence: writes the unscaled dLoss/dLogits of its rows and returns its loss (−ln p),
    /// +∞ when the target cannot be aligned.
    ///
    /// Scaled forward-backward in probability space (Rabiner's scaling, as Graves 2006 §4.1), with
    /// y_t = softmax(z_t) in Double and e_t(s) = y_t(l'_s):
    ///   α_t(s) = e_t(s) · (α̂_{t−1}(s) + α̂_{t−1}(s−1) + [l'_s ≠ blank, l'_s ≠ l'_{s−2}] α̂_{t−1}(s−2)),
    ///   c_t = Σ_s α_t(s), α̂_t = α_t / c_t;   ln p = Σ_t ln c_t + ln(α̂_{T−1}(S−1) + α̂_{T−1}(S−2)).
    ///   β̂_{T−1}(s) = [s ≥ S−2] / (α̂_{T−1}(S−1) + α̂_{T−1}(S−2)),
    ///   β̂_t(s) = (e_{t+1}(s) β̂_{t+1}(s) + e_{t+1}(s+1) β̂_{t+1}(s+1) + [skip] e_{t+1}(s+2) β̂_{t+1}(s+2)) / c_{t+1};
    ///   γ_t(s) = α̂_t(s) β̂_t(s) (occupancy, Σ_s γ_t(s) = 1);   ∂(−ln p)/∂z_t,k = y_t,k − Σ_{s: l'_s = k} γ_t(s).
    /// If a step's scaled sum underflows, the sequence is redone in log space (`logSpace`).
    static func sequence(_ z: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, s: Int, batch b: Int, classes c: Int,
                         length n: Int, target: [Int]) -> Double {
        let u = target.count, states = 2 * u + 1
        precondition(target.allSatisfy { $0 > 0 && $0 < c }, "CTC: labels must be in 1..<\(c) (0 is the blank)")
        if n == 0 || n < minimumSteps(target) { return .infinity }
        // l' [S]: blank-extended labels; skip[s]: may s be entered from s − 2
        let ext: [Int] = (0..<states).map { (st: Int) -> Int in st % 2 == 0 ? 0 : target[st / 2] }
        var skip = [Bool](repeating: false, count: states)
        for st in stride(from: 3, to: states, by: 2) where ext[st] != ext[st - 2] { skip[st] = true }
        // y [n, C]: softmax of each valid row, in Double
        let ly = logSoftmax(z, s: s, batch: b, classes: c, length: n)
        let y = ly.map { exp($0) }
        // Forward: alpha [n, S] scaled, norm [n]
        var alpha = [Double](repeating: 0, count: n * states), norm = [Double](repeating: 1, count: n)
        var logP = 0.0
        for t in 0..<n {
            var sum = 0.0
            // Only states from which the end can still be reached, and which can be reached by now.
            let lo = max(0, states - 2 * (n - t)), hi = min(states - 1, 2 * t + 1)
            for st in lo...max(lo, hi) where st <= hi {
                var a: Double
                if t == 0 { a = 1 } else {
                    let prev = (t - 1) * states
                    a = alpha[prev + st]
                    if st >= 1 { a += alpha[prev + st - 1] }
                    if skip[st] { a += alpha[prev + st - 2] }
                }
                a *= y[t * c + ext[st]]
                alpha[t * states + st] = a
                sum += a
            }
            if !(sum > 0 && sum.isFinite) { return logSpace(z, g, s: s, batch: b, classes: c, length: n, ext: ext, skip: skip, y: y) }
            norm[t] = sum
            for st in 0..<states { alpha[t * states + st] /= sum }
            logP += log(sum)
        }
        let last = (n - 1) * states
        let end = alpha[last + states - 1] + (states >= 2 ? alpha[last + states - 2] : 0)
        if !(end > 0 && end.isFinite) { return logSpace(z, g, s: s, batch: b, classes: c, length: n, ext: ext, skip: skip, y: y) }
        logP += log(end)
        // Backward and the gradient, step by step from the end.
        var beta = [Double](repeating: 0, count: states), next = [Double](repeating: 0, count: states)
        beta[states - 1] = 1 / end
        if states >= 2 { beta[states - 2] = 1 / end }
        for t in stride(from: n - 1, through: 0, by: -1) {
            if t < n - 1 {
                // beta_t(s) from beta_{t+1}: the successors s, s+1 and (skip) s+2
                for st in 0..<states {
                    var v = y[(t + 1) * c + ext[st]] * next[st]
                    if st + 1 < states { v += y[(t + 1) * c + ext[st + 1]] * next[st + 1] }
                    if st + 2 < states && skip[st + 2] { v += y[(t + 1) * c + ext[st + 2]] * next[st + 2] }
                    beta[st] = v / norm[t + 1]
                }
            }
            // grad_t = y_t − Σ_{s: l'_s = k} γ_t(s)
            let row = g + (t * b + s) * c
            for k in 0..<c { row[k] = Float(y[t * c + k]) }
            for st in 0..<states { row[ext[st]] -= Float(alpha[t * states + st] * beta[st]) }
            swap(&beta, &next)
        }
        return -logP
    }

    /// log softmax [n, C] of sequence s's valid rows, in Double.
    static func logSoftmax(_ z: UnsafePointer<Float>, s: Int, batch b: Int, classes c: Int, length n: Int) -> [Double] {
        var ly = [Double](repeating: 0, count: n * c)
        for t in 0..<n {
            let row = z + (t * b + s) * c
            var m = -Float.infinity
            for k in 0..<c { m = max(m, row[k]) }
            var sum = 0.0
            for k in 0..<c { sum += exp(Double(row[k] - m)) }
            let lz = Double(m) + log(sum)
            for k in 0..<c { ly[t * c + k] = Double(row[k]) - lz }
        }
        return ly
    }

    /// The same sequence in log space (no scaling), for scores far enough apart to underflow.
    static func logSpace(_ z: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, s: Int, batch b: Int, classes c: Int,
                         length n: Int, ext: [Int], skip: [Bool], y: [Double]) -> Double {
        let states = ext.count
        func add(_ a: Double, _ b: Double) -> Double {
            if a == -.infinity { return b }
            if b == -.infinity { return a }
            return max(a, b) + log1p(exp(-abs(a - b)))
        }
        // log y from the logits directly (y itself may have underflowed)
        let ly = logSoftmax(z, s: s, batch: b, classes: c, length: n)
        var la = [Double](repeating: -.infinity, count: n * states), lb = [Double](repeating: -.infinity, count: n * states)
        la[0] = ly[ext[0]]
        if states > 1 { la[1] = ly[ext[1]] }
        for t in 1..<max(n, 1) where t < n {
            for st in 0..<states {
                var a = la[(t - 1) * states + st]
                if st >= 1 { a = add(a, la[(t - 1) * states + st - 1]) }
                if skip[st] { a = add(a, la[(t - 1) * states + st - 2]) }
                la[t * states + st] = a + ly[t * c + ext[st]]
            }
        }
        let last = (n - 1) * states
        let logP = add(la[last + states - 1], states >= 2 ? la[last + states - 2] : -.infinity)
        if logP == -.infinity { return .infinity }
        // lb_t(s): log of the paths from state s at t to the end, emissions after t
        lb[last + states - 1] = 0
        if states >= 2 { lb[last + states - 2] = 0 }
        for t in stride(from: n - 2, through: 0, by: -1) {
            for st in 0..<states {
                var v = lb[(t + 1) * states + st] + ly[(t + 1) * c + ext[st]]
                if st + 1 < states { v = add(v, lb[(t + 1) * states + st + 1] + ly[(t + 1) * c + ext[st + 1]]) }
                if st + 2 < states && skip[st + 2] { v = add(v, lb[(t + 1) * states + st + 2] + ly[(t + 1) * c + ext[st + 2]]) }
                lb[t * states + st] = v
            }
        }
        for t in 0..<n {
            let row = g + (t * b + s) * c
            for k in 0..<c { row[k] = Float(exp(ly[t * c + k])) }
            for st in 0..<states { row[ext[st]] -= Float(exp(la[t * states + st] + lb[t * states + st] - logP)) }
        }
        return -logP
    }
}

/// Decoding a CTC model's per-step scores [T·B, C] (blank = 0) into label strings.
public enum CTCDecoder {
    /// Best class per step, repeats collapsed, blanks dropped.
    public static func greedy(_ logits: Tensor, lengths: [Int]) -> [[Int]] {
        let b = lengths.count, c = logits.shape[1]
        return lengths.enumerated().map { s, n in
            var out: [Int] = [], prev = -1
            for t in 0..<n {
                let row = (t * b + s) * c
                var best = 0
                for k in 1..<c where logits.data[row + k] > logits.data[row + best] { best = k }
                if best != prev && best != 0 { out.append(best) }
                prev = best
            }
            return out
        }
    }

    /// Prefix beam search (no language model): keeps the `width` most probable label prefixes,
    /// each with its probability of ending in a blank and in its last label, in log space.
    public static func beam(_ logits: Tensor, lengths: [Int], width: Int) -> [[Int]] {
        let b = lengths.count, c = logits.shape[1]
        func add(_ a: Double, _ b: Double) -> Double {
            if a == -.infinity { return b }
            if b == -.infinity { return a }
            return max(a, b) + log1p(exp(-abs(a - b)))
        }
        return lengths.enumerated().map { s, n in
            // prefix → (log P ending in blank, log P ending in its last label)
            var beams: [[Int]: (blank: Double, label: Double)] = [[]: (0, -.infinity)]
            for t in 0..<n {
                let row = (t * b + s) * c
                var m = -Float.infinity
                for k in 0..<c { m = max(m, logits.data[row + k]) }
                var sum = 0.0
                for k in 0..<c { sum += exp(Double(logits.data[row + k] - m)) }
                let lz = Double(m) + log(sum)
                let lp = (0..<c).map { Double(logits.data[row + $0]) - lz }
                var next: [[Int]: (blank: Double, label: Double)] = [:]
                func bump(_ p: [Int], blank: Double = -.infinity, label: Double = -.infinity) {
                    let old = next[p] ?? (-.infinity, -.infinity)
                    next[p] = (add(old.blank, blank), add(old.label, label))
                }
                for (prefix, score) in beams {
                    let total = add(score.blank, score.label)
                    bump(prefix, blank: total + lp[0])                          // a blank: same prefix
                    if let last = prefix.last { bump(prefix, label: score.label + lp[last]) }   // the last label repeated
                    for k in 1..<c {
                        // a new label: after a blank, or after a different label
                        let extend = prefix.last == k ? score.blank + lp[k] : total + lp[k]
                        bump(prefix + [k], label: extend)
                    }
                }
                beams = Dictionary(uniqueKeysWithValues: next.sorted { add($0.value.blank, $0.value.label) > add($1.value.blank, $1.value.label) }
                    .prefix(max(1, width)).map { ($0.key, $0.value) })
            }
            return beams.max { add($0.value.blank, $0.value.label) < add($1.value.blank, $1.value.label) }?.key ?? []
        }
    }
}

/// Levenshtein alignment of a hypothesis to a reference: substitutions, deletions (reference
/// tokens missing) and insertions (extra hypothesis tokens), with the fewest edits.
public struct EditCounts: Codable, Equatable, Sendable {
    public var substitutions = 0, deletions = 0, insertions = 0
    public init() {}
    public var total: Int { substitutions + deletions + insertions }

    public static func align(reference r: [Int], hypothesis h: [Int]) -> EditCounts {
        // d[i][j] = (cost, subs, dels, ins) for r[..<i] against h[..<j]; ties favour substitutions
        typealias Cell = (cost: Int, s: Int, d: Int, i: Int)
        var prev = (0...h.count).map { Cell($0, 0, 0, $0) }
        for i in 1...max(r.count, 1) where i <= r.count {
            var cur = [Cell(i, 0, i, 0)]
            for j in 1...max(h.count, 1) where j <= h.count {
                let same = r[i - 1] == h[j - 1]
                let diag = prev[j - 1], up = prev[j], left = cur[j - 1]
                var best = Cell(diag.cost + (same ? 0 : 1), diag.s + (same ? 0 : 1), diag.d, diag.i)
                if up.cost + 1 < best.cost { best = Cell(up.cost + 1, up.s, up.d + 1, up.i) }
                if left.cost + 1 < best.cost { best = Cell(left.cost + 1, left.s, left.d, left.i + 1) }
                cur.append(best)
            }
            prev = cur
        }
        var e = EditCounts()
        let last = prev[h.count]
        (e.substitutions, e.deletions, e.insertions) = (last.s, last.d, last.i)
        return e
    }
}
