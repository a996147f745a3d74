import Foundation
import GrusCore

/// Which GRU equations to use.
public enum GRUForm: String, Codable, Sendable, CaseIterable {
    /// PyTorch `nn.GRU` (and Keras `reset_after=True`):
    /// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
    /// n = tanh(W_in x + b_in + r ∘ (W_hn h + b_hn)), h' = (1 − z) ∘ n + z ∘ h.
    case pytorch
    /// Cho et al. 2014 (Keras `reset_after=False`): the reset gate applies before the
    /// recurrent product, n = tanh(W_in x + b_in + W_hn (r ∘ h) + b_hn).
    case cho2014
}

/// One layer, one direction of a GRU, over a time-major batch whose sequences are sorted
/// by length, longest first. At time t the sequences still running are a prefix of the batch,
/// so every step works on a contiguous block of rows, as `pack_padded_sequence` does.
///
/// Weights use PyTorch's layout and gate order (r, z, n): `weight_ih` [3H, I], `weight_hh` [3H, H].
/// Activations from the forward pass stay in this object for `backward`.
final class GRUCell {
    let inputSize: Int
    let hiddenSize: Int
    let reverse: Bool
    let form: GRUForm
    let weightIH: Parameter
    let weightHH: Parameter
    let biasIH: Parameter
    let biasHH: Parameter

    // Saved by forward for backward (dimension letters: see GRUKernels.swift), time-major rows.
    let gi = Scratch()       // [T, B, G] input projections W_ih x; reused by backward for dGI
    let gates = Scratch()    // [T, B, G] r, z, n after their nonlinearities
    let aux = Scratch()      // [T, B, H] pytorch: W_hn h + b_hn; cho2014: r ∘ h
    let hprev = Scratch()    // [T, B, H] state before each step
    let dgh = Scratch()      // [T, B, G] gradient w.r.t. the recurrent pre-activations
    // Per-row step buffers.
    let state = Scratch()    // [B, H] h, updated in place step by step
    let gh = Scratch()       // [B, G] this step's recurrent product W_hh h (cho2014 backward: d(r ∘ h))
    let carry = Scratch()    // [B, H] dL/dh carried backward through time
    let bias = Scratch()     // [4H] b_ir + b_hr, b_iz + b_hz, b_in, b_hn
    let weightHHT = Scratch() // [H, G] W_hhᵀ, refreshed by prepare when W_hh changes
    private var transposedVersion = -1
    // PyTorch form with H a multiple of 16: the per-step products use W_hh packed once per change
    // (W_hhᵀ for h·W_hhᵀ forward, W_hh for dq·W_hh backward) instead of a GEMM that packs per call.
    let packedForward = PackedMatrix()
    let packedBackward = PackedMatrix()
    /// Inference only: W_hhᵀ stored as Float16 for the forward product (see GRUEncoder.halfPrecisionInference).
    let packedHalf = PackedMatrix()
    /// Inference only: W_ihᵀ packed, so that each row's input projection is the same sequence of
    /// multiply-adds whatever the number of rows (a stream's few new frames, or a whole batch).
    let packedInput = PackedMatrix()
    var halfStep = false
    /// False for inference: the step then saves nothing for backward.
    var keepActivations = true
    var usePacked: Bool { form == .pytorch && PackedMatrix.supports(n: hiddenSize) && !GRUCell.disablePacked }
    /// Tests and benchmarks compare both paths (GRUS_NO_PACKED=1 turns the packed one off).
    nonisolated(unsafe) public static var disablePacked = ProcessInfo.processInfo.environment["GRUS_NO_PACKED"] != nil

    private(set) var steps = 0
    private(set) var batch = 0

    init(inputSize: Int, hiddenSize: Int, reverse: Bool, form: GRUForm, suffix: String,
         recurrentInit: GRUConfig.RecurrentInit, rng: inout RNG) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.reverse = reverse
        self.form = form
        let h = hiddenSize
        let bound = 1 / Float(h).squareRoot()
        weightIH = Parameter("weight_ih_\(suffix)", Init.uniform([3 * h, inputSize], bound: bound, rng: &rng))
        var whh = Init.uniform([3 * h, h], bound: bound, rng: &rng)
        if recurrentInit == .orthogonal {
            for g in 0..<3 {
                let q = Init.orthogonal(rows: h, cols: h, rng: &rng)
                for i in 0..<h { for j in 0..<h { whh[g * h + i, j] = q[i, j] } }
            }
        }
        weightHH = Parameter("weight_hh_\(suffix)", whh)
        biasIH = Parameter("bias_ih_\(suffix)", Init.uniform([3 * h], bound: bound, rng: &rng))
        biasHH = Parameter("bias_hh_\(suffix)", Init.uniform([3 * h], bound: bound, rng: &rng))
    }

    var parameters: [Parameter] { [weightIH, weightHH, biasIH, biasHH] }

    /// Sizes every buffer for a batch (so that parallel tasks never reallocate) and folds the
    /// biases. Call before `project`.
    func prepare(steps t: Int, batch b: Int, keep: Bool = true, half: Bool = false) {
        steps = t
        batch = b
        keepActivations = keep
        halfStep = half && usePacked
        if halfStep && packedHalf.stamp != weightHH.version {
            weightHH.value.data.withUnsafeBufferPointer { w in
                packedHalf.pack(k: hiddenSize, n: 3 * hiddenSize, w.baseAddress!, ldb: hiddenSize, transposed: true, half: true)
            }
            packedHalf.stamp = weightHH.version
        }
        let h = hiddenSize
        gi.ensure(t * b * 3 * h)
        gates.ensure(t * b * 3 * h)
        aux.ensure(t * b * h)
        hprev.ensure(t * b * h)
        dgh.ensure(t * b * 3 * h)
        state.ensure(b * h)
        carry.ensure(b * h)
        gh.ensure(b * 3 * h)
        if usePacked {
            if packedForward.stamp != weightHH.version {
                weightHH.value.data.withUnsafeBufferPointer { w in
                    packedForward.pack(k: h, n: 3 * h, w.baseAddress!, ldb: h, transposed: true)
                    packedBackward.pack(k: 3 * h, n: h, w.baseAddress!, ldb: h, transposed: false)
                }
                packedForward.stamp = weightHH.version
            }
        } else if transposedVersion != weightHH.version {
            let wt = weightHHT.ensure(3 * h * h)
            weightHH.value.data.withUnsafeBufferPointer { w in
                for i in 0..<(3 * h) { for k in 0..<h { wt[k * 3 * h + i] = w[i * h + k] } }
            }
            transposedVersion = weightHH.version
        }
        if !keep && usePacked && packedInput.stamp != weightIH.version {
            weightIH.value.data.withUnsafeBufferPointer { w in
                packedInput.pack(k: inputSize, n: 3 * h, w.baseAddress!, ldb: inputSize, transposed: true)
            }
            packedInput.stamp = weightIH.version
        }
        let bs = bias.ensure(4 * h)
        biasIH.value.data.withUnsafeBufferPointer { bi in
            biasHH.value.data.withUnsafeBufferPointer { bh in
                for j in 0..<(2 * h) { bs[j] = bi[j] + bh[j] }
                for j in 0..<h { bs[2 * h + j] = bi[2 * h + j]; bs[3 * h + j] = bh[2 * h + j] }
            }
        }
    }

    /// gi[rows] = x[rows] · W_ihᵀ for a block of the T·B time-major rows.
    func project(_ x: UnsafePointer<Float>, ldx: Int, rows: Range<Int>) {
        if rows.isEmpty { return }
        if !keepActivations && usePacked {
            packedInput.multiply(m: rows.count, x + rows.lowerBound * ldx, lda: ldx, gi.pointer + rows.lowerBound * 3 * hiddenSize,
                                 ldc: 3 * hiddenSize, accumulate: false)
            return
        }
        weightIH.value.data.withUnsafeBufferPointer { w in
            BLAS.gemm(transA: false, transB: true, m: rows.count, n: 3 * hiddenSize, k: inputSize,
                      x + rows.lowerBound * ldx, lda: ldx, w.baseAddress!, ldb: inputSize,
                      gi.pointer + rows.lowerBound * 3 * hiddenSize, ldc: 3 * hiddenSize)
        }
    }

    /// Runs the recurrence for batch rows `rows` (a block of the length-sorted batch).
    /// `active[t]` is how many sequences are longer than t. Writes h_t into `y` (row stride ldy;
    /// zeros on padded rows) and the final state of each row into `hN` (row stride H).
    func recur(rows: Range<Int>, active: [Int], h0: UnsafePointer<Float>?,
               y: UnsafeMutablePointer<Float>, ldy: Int, hN: UnsafeMutablePointer<Float>) {
        let h = hiddenSize, h3 = 3 * h, b = batch
        let st = state.pointer, ghp = gh.pointer, bs = bias.pointer
        let gip = gi.pointer, gp = gates.pointer, ap = aux.pointer, hp = hprev.pointer
        for r in rows {
            if let h0 { (st + r * h).update(from: h0 + r * h, count: h) } else { (st + r * h).update(repeating: 0, count: h) }
        }
        let wt = weightHHT.pointer   // W_hhᵀ [H, 3H]: the per-step GEMM runs without a transpose
        let packed = usePacked, keep = keepActivations
        do {
            for s in 0..<steps {
                let t = reverse ? steps - 1 - s : s
                let n = min(max(active[t] - rows.lowerBound, 0), rows.count)
                let r0 = rows.lowerBound
                let row0 = t * b + r0
                // Padded rows: zeros, so the whole-batch weight-gradient GEMMs read no garbage.
                if n < rows.count {
                    if keep {
                        (hp + (row0 + n) * h).update(repeating: 0, count: (rows.count - n) * h)
                        (ap + (row0 + n) * h).update(repeating: 0, count: (rows.count - n) * h)
                    }
                    for i in n..<rows.count { (y + (row0 + i) * ldy).update(repeating: 0, count: h) }
                }
                if n == 0 { continue }
                // Save h_{t-1} for backward.
                if keep { (hp + row0 * h).update(from: st + r0 * h, count: n * h) }
                switch form {
                case .pytorch:
                    if packed {
                        (halfStep ? packedHalf : packedForward).multiply(m: n, st + r0 * h, lda: h, ghp + r0 * h3, ldc: h3, accumulate: false)
                    } else {
                        BLAS.gemm(transA: false, transB: false, m: n, n: h3, k: h,
                                  st + r0 * h, lda: h, wt, ldb: h3, ghp + r0 * h3, ldc: h3)
                    }
                    if keep {
                        for i in 0..<n {
                            sweep(h, ForwardGates(gi: gip + (row0 + i) * h3, q: ghp + (r0 + i) * h3, bias: bs,
                                                  a: gp + (row0 + i) * h3, hn: ap + (row0 + i) * h,
                                                  state: st + (r0 + i) * h, out: y + (row0 + i) * ldy, h: h))
                        }
                    } else {
                        for i in 0..<n {
                            sweep(h, InferenceGates(gi: gip + (row0 + i) * h3, q: ghp + (r0 + i) * h3, bias: bs,
                                                    state: st + (r0 + i) * h, out: y + (row0 + i) * ldy, h: h))
                        }
                    }
                case .cho2014:
                    // r and z from the first 2H rows of W_hh, then n from r ∘ h.
                    BLAS.gemm(transA: false, transB: false, m: n, n: 2 * h, k: h,
                              st + r0 * h, lda: h, wt, ldb: h3, ghp + r0 * h3, ldc: h3)
                    for i in 0..<n {
                        sweep(h, ForwardResetUpdate(gi: gip + (row0 + i) * h3, q: ghp + (r0 + i) * h3, bias: bs,
                                                    a: gp + (row0 + i) * h3, rh: ap + (row0 + i) * h,
                                                    state: st + (r0 + i) * h, h: h))
                    }
                    BLAS.gemm(transA: false, transB: false, m: n, n: h, k: h,
                              ap + row0 * h, lda: h, wt + 2 * h, ldb: h3, ghp + r0 * h3 + 2 * h, ldc: h3)
                    for i in 0..<n {
                        sweep(h, ForwardCandidate(gi: gip + (row0 + i) * h3, q: ghp + (r0 + i) * h3, bias: bs,
                                                  a: gp + (row0 + i) * h3, state: st + (r0 + i) * h,
                                                  out: y + (row0 + i) * ldy, h: h))
                    }
                }
            }
        }
        (hN + rows.lowerBound * h).update(from: st + rows.lowerBound * h, count: rows.count * h)
    }

    /// Backpropagation through time for batch rows `rows`. `dy` is the gradient of the outputs
    /// (row stride ldy), `dhN` of the final states (or nil). Leaves dGI in `gi`, dGH in `dgh`
    /// (zero on padded rows), and writes the initial-state gradient into `dh0`.
    func recurBackward(rows: Range<Int>, active: [Int], dy: UnsafePointer<Float>, ldy: Int,
                       dhN: UnsafePointer<Float>?, dh0: UnsafeMutablePointer<Float>) {
        let h = hiddenSize, h3 = 3 * h, b = batch
        let cp = carry.pointer, dq = dgh.pointer   // sized by prepare; tasks share them by row
        let gip = gi.pointer, gp = gates.pointer, ap = aux.pointer, hp = hprev.pointer
        let scratch = gh.pointer   // [B, 3H]; cho2014 keeps d(r ∘ h) here
        let packed = usePacked
        for r in rows {
            if let dhN { (cp + r * h).update(from: dhN + r * h, count: h) } else { (cp + r * h).update(repeating: 0, count: h) }
        }
        weightHH.value.data.withUnsafeBufferPointer { wbuf in
            let w = UnsafeMutablePointer(mutating: wbuf.baseAddress!)
            for s in 0..<steps {
                let t = reverse ? s : steps - 1 - s
                let n = min(max(active[t] - rows.lowerBound, 0), rows.count)
                let r0 = rows.lowerBound
                let row0 = t * b + r0
                // Padded rows take no gradient.
                if n < rows.count {
                    (gip + (row0 + n) * h3).update(repeating: 0, count: (rows.count - n) * h3)
                    (dq + (row0 + n) * h3).update(repeating: 0, count: (rows.count - n) * h3)
                }
                if n == 0 { continue }
                let dyRows = UnsafeMutablePointer(mutating: dy)
                switch form {
                case .pytorch:
                    for i in 0..<n {
                        sweep(h, BackwardGates(a: gp + (row0 + i) * h3, hn: ap + (row0 + i) * h, hp: hp + (row0 + i) * h,
                                               dy: dyRows + (row0 + i) * ldy, dgi: gip + (row0 + i) * h3,
                                               dgq: dq + (row0 + i) * h3, carry: cp + (r0 + i) * h, h: h))
                    }
                    if packed {
                        packedBackward.multiply(m: n, dq + row0 * h3, lda: h3, cp + r0 * h, ldc: h, accumulate: true)
                    } else {
                        BLAS.gemm(transA: false, transB: false, m: n, n: h, k: h3,
                                  dq + row0 * h3, lda: h3, w, ldb: h, beta: 1, cp + r0 * h, ldc: h)
                    }
                case .cho2014:
                    for i in 0..<n {
                        sweep(h, BackwardCandidate(a: gp + (row0 + i) * h3, hp: hp + (row0 + i) * h,
                                                   dy: dyRows + (row0 + i) * ldy, dgi: gip + (row0 + i) * h3,
                                                   dgq: dq + (row0 + i) * h3, carry: cp + (r0 + i) * h, h: h))
                    }
                    // d(r ∘ h) = dA_n · W_hn
                    BLAS.gemm(transA: false, transB: false, m: n, n: h, k: h,
                              dq + row0 * h3 + 2 * h, lda: h3, w + 2 * h * h, ldb: h, scratch + r0 * h3, ldc: h3)
                    for i in 0..<n {
                        sweep(h, BackwardReset(a: gp + (row0 + i) * h3, hp: hp + (row0 + i) * h, drh: scratch + (r0 + i) * h3,
                                               dgi: gip + (row0 + i) * h3, dgq: dq + (row0 + i) * h3,
                                               carry: cp + (r0 + i) * h, h: h))
                    }
                    BLAS.gemm(transA: false, transB: false, m: n, n: h, k: 2 * h,
                              dq + row0 * h3, lda: h3, w, ldb: h, beta: 1, cp + r0 * h, ldc: h)
                }
            }
        }
        (dh0 + rows.lowerBound * h).update(from: cp + rows.lowerBound * h, count: rows.count * h)
    }

    /// Accumulates dW_hh, db_ih, db_hh from the whole batch (after every row block's `recurBackward`).
    func accumulateRecurrentGrads() {
        let h = hiddenSize, h3 = 3 * h, m = steps * batch
        let dq = dgh.pointer, gip = gi.pointer
        weightHH.grad.data.withUnsafeMutableBufferPointer { gw in
            switch form {
            case .pytorch:
                BLAS.gemm(transA: true, transB: false, m: h3, n: h, k: m,
                          dq, lda: h3, hprev.pointer, ldb: h, beta: 1, gw.baseAddress!, ldc: h)
            case .cho2014:
                BLAS.gemm(transA: true, transB: false, m: 2 * h, n: h, k: m,
                          dq, lda: h3, hprev.pointer, ldb: h, beta: 1, gw.baseAddress!, ldc: h)
                BLAS.gemm(transA: true, transB: false, m: h, n: h, k: m,
                          dq + 2 * h, lda: h3, aux.pointer, ldb: h, beta: 1, gw.baseAddress! + 2 * h * h, ldc: h)
            }
        }
        columnSums(dq, rows: m, cols: h3, into: &biasHH.grad)
        columnSums(gip, rows: m, cols: h3, into: &biasIH.grad)
    }

    /// dW_ih += dGIᵀ · x over all T·B rows.
    func accumulateInputWeightGrad(_ x: UnsafePointer<Float>, ldx: Int) {
        let h3 = 3 * hiddenSize
        weightIH.grad.data.withUnsafeMutableBufferPointer { gw in
            BLAS.gemm(transA: true, transB: false, m: h3, n: inputSize, k: steps * batch,
                      gi.pointer, lda: h3, x, ldb: ldx, beta: 1, gw.baseAddress!, ldc: inputSize)
        }
    }

    /// dx[rows] (+)= dGI[rows] · W_ih.
    func inputGrad(_ dx: UnsafeMutablePointer<Float>, ldx: Int, rows: Range<Int>, accumulate: Bool) {
        if rows.isEmpty { return }
        weightIH.value.data.withUnsafeBufferPointer { w in
            BLAS.gemm(transA: false, transB: false, m: rows.count, n: inputSize, k: 3 * hiddenSize,
                      gi.pointer + rows.lowerBound * 3 * hiddenSize, lda: 3 * hiddenSize, w.baseAddress!, ldb: inputSize,
                      beta: accumulate ? 1 : 0, dx + rows.lowerBound * ldx, ldc: ldx)
        }
    }
}

/// into[j] += Σ_i p[i, j]
func columnSums(_ p: UnsafePointer<Float>, rows: Int, cols: Int, into t: inout Tensor) {
    t.data.withUnsafeMutableBufferPointer { out in
        let o = out.baseAddress!
        for i in 0..<rows {
            let row = p + i * cols
            for j in 0..<cols { o[j] += row[j] }
        }
    }
}
