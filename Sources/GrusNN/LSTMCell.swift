import GrusCore

/// One layer, one direction of a recurrent encoder, over a time-major batch sorted by length
/// (longest first): GRUCell and LSTMCell. GRUEncoder drives either through these calls:
/// prepare → project (input GEMM over all T·B rows) → recur (the steps), and for training
/// recurBackward → accumulateRecurrentGrads / accumulateInputWeightGrad → inputGrad.
protocol RecurrentCell: AnyObject {
    var parameters: [Parameter] { get }
    func prepare(steps t: Int, batch b: Int, keep: Bool, half: Bool)
    func project(_ x: UnsafePointer<Float>, ldx: Int, rows: Range<Int>)
    func recur(rows: Range<Int>, active: [Int], h0: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, hN: UnsafeMutablePointer<Float>)
    func recurBackward(rows: Range<Int>, active: [Int], dy: UnsafePointer<Float>, ldy: Int, dhN: UnsafePointer<Float>?, dh0: UnsafeMutablePointer<Float>)
    func accumulateRecurrentGrads()
    func accumulateInputWeightGrad(_ x: UnsafePointer<Float>, ldx: Int)
    func inputGrad(_ dx: UnsafeMutablePointer<Float>, ldx: Int, rows: Range<Int>, accumulate: Bool)
}

extension GRUCell: RecurrentCell {}

// The LSTM's elementwise code (dimension letters as in GRUKernels.swift, with G = 4H: the
// gates i, f, g, o side by side, PyTorch's order).
//   gi   [G]  W_ih x, then (backward) dL/d(pre-activations), which the input and the recurrent
//             weights share
//   q    [G]  W_hh h (this step's recurrent product)
//   bias [G]  b_ih + b_hh
//   a    [G]  i, f, g, o after their nonlinearities;  cp [H] c before the step;  tc [H] tanh(c')
//   c/h  [H]  the cell and hidden states, updated in place;  dc/dh [H] their carries in backward

/// Forward: a = W_ih x + W_hh h + b; i, f, o = σ(a_i, a_f, a_o), g = tanh(a_g);
/// c' = f ∘ c + i ∘ g; h' = o ∘ tanh(c'). Keeps a, c and tanh(c').
struct LSTMForward: LaneKernel {
    let gi: FloatPointer, q: FloatPointer, bias: FloatPointer, a: FloatPointer?, cp: FloatPointer?, tc: FloatPointer?
    let c: FloatPointer, state: FloatPointer, out: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let i = V.sigmoid(V.load(gi + j) + V.load(q + j) + V.load(bias + j))
        let f = V.sigmoid(V.load(gi + h + j) + V.load(q + h + j) + V.load(bias + h + j))
        let g = V.tanh(V.load(gi + 2 * h + j) + V.load(q + 2 * h + j) + V.load(bias + 2 * h + j))
        let o = V.sigmoid(V.load(gi + 3 * h + j) + V.load(q + 3 * h + j) + V.load(bias + 3 * h + j))
        let cOld = V.load(c + j)
        let cNew = f * cOld + i * g
        let t = V.tanh(cNew)
        let hNew = o * t
        if let a, let cp, let tc {
            i.store(a + j); f.store(a + h + j); g.store(a + 2 * h + j); o.store(a + 3 * h + j)
            cOld.store(cp + j); t.store(tc + j)
        }
        cNew.store(c + j); hNew.store(state + j); hNew.store(out + j)
    }
}

/// Backward of LSTMForward, one step.
///
///   forward                          backward (this kernel), with gh = dy + dh (carry)
///   h' = o ∘ tanh(c')                do = gh ∘ tanh(c');  dc' = dc (carry) + gh ∘ o ∘ (1 − tanh²(c'))
///   c' = f ∘ c + i ∘ g               di = dc' g;  df = dc' c;  dg = dc' i;  dc (to the step before) = dc' f
///   i, f, o = σ(·), g = tanh(·)      dA = (di i(1−i), df f(1−f), dg (1−g²), do o(1−o))
/// dh (to the step before) = dA · W_hh is the caller's product.
struct LSTMBackward: LaneKernel {
    let a: FloatPointer, cp: FloatPointer, tc: FloatPointer, dy: FloatPointer
    let dgi: FloatPointer, dh: FloatPointer, dc: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let one = V.splat(1)
        let gh = V.load(dy + j) + V.load(dh + j)
        let i = V.load(a + j), f = V.load(a + h + j), g = V.load(a + 2 * h + j), o = V.load(a + 3 * h + j)
        let t = V.load(tc + j)
        let dcNew = V.load(dc + j) + gh * o * (one - t * t)
        (dcNew * g * i * (one - i)).store(dgi + j)
        (dcNew * V.load(cp + j) * f * (one - f)).store(dgi + h + j)
        (dcNew * i * (one - g * g)).store(dgi + 2 * h + j)
        (gh * t * o * (one - o)).store(dgi + 3 * h + j)
        (dcNew * f).store(dc + j)
    }
}

/// One layer, one direction of an LSTM with PyTorch's `nn.LSTM` layout, names, gate order
/// (i, f, g, o) and initialisation (uniform ±1/√H): `weight_ih` [4H, I], `weight_hh` [4H, H],
/// `bias_ih` and `bias_hh` [4H]. Sorted, ragged batches as GRUCell: a sequence's steps past its
/// length change nothing, and the reverse direction starts at each sequence's own last step.
/// The initial cell state is zero; `h0` sets the initial hidden state.
final class LSTMCell {
    let inputSize: Int, hiddenSize: Int, reverse: Bool
    let weightIH: Parameter, weightHH: Parameter, biasIH: Parameter, biasHH: Parameter
    private(set) var steps = 0, batch = 0
    var keepActivations = true

    let gi = Scratch()        // [T, B, G] W_ih x; backward: dA
    let gates = Scratch()     // [T, B, G] i, f, g, o
    let cprev = Scratch()     // [T, B, H] c before each step
    let tanhC = Scratch()     // [T, B, H] tanh(c') after each step
    let hprev = Scratch()     // [T, B, H] h before each step
    let state = Scratch()     // [B, H] h;  backward: dh carry
    let cell = Scratch()      // [B, H] c;  backward: dc carry
    let gh = Scratch()        // [B, G] this step's W_hh h
    let bias = Scratch()      // [G] b_ih + b_hh
    let weightHHT = Scratch() // [H, G] W_hhᵀ when the packed product is not used
    private var transposedVersion = -1
    let packedForward = PackedMatrix(), packedBackward = PackedMatrix()
    var usePacked: Bool { PackedMatrix.supports(n: hiddenSize) && !GRUCell.disablePacked }

    init(inputSize: Int, hiddenSize: Int, reverse: Bool, suffix: String, rng: inout RNG) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.reverse = reverse
        let h = hiddenSize, bound = 1 / Float(h).squareRoot()
        weightIH = Parameter("weight_ih_\(suffix)", Init.uniform([4 * h, inputSize], bound: bound, rng: &rng))
        weightHH = Parameter("weight_hh_\(suffix)", Init.uniform([4 * h, h], bound: bound, rng: &rng))
        biasIH = Parameter("bias_ih_\(suffix)", Init.uniform([4 * h], bound: bound, rng: &rng))
        biasHH = Parameter("bias_hh_\(suffix)", Init.uniform([4 * h], bound: bound, rng: &rng))
    }

    var parameters: [Parameter] { [weightIH, weightHH, biasIH, biasHH] }
}

extension LSTMCell: RecurrentCell {
    func prepare(steps t: Int, batch b: Int, keep: Bool, half: Bool) {
        steps = t
        batch = b
        keepActivations = keep
        let h = hiddenSize, g4 = 4 * h
        gi.ensure(t * b * g4)
        gates.ensure(t * b * g4)
        cprev.ensure(t * b * h)
        tanhC.ensure(t * b * h)
        hprev.ensure(t * b * h)
        state.ensure(b * h)
        cell.ensure(b * h)
        gh.ensure(b * g4)
        if usePacked {
            if packedForward.stamp != weightHH.version {
                weightHH.value.data.withUnsafeBufferPointer { w in
                    packedForward.pack(k: h, n: g4, w.baseAddress!, ldb: h, transposed: true)
                    packedBackward.pack(k: g4, n: h, w.baseAddress!, ldb: h, transposed: false)
                }
                packedForward.stamp = weightHH.version
            }
        } else if transposedVersion != weightHH.version {
            let wt = weightHHT.ensure(g4 * h)
            weightHH.value.data.withUnsafeBufferPointer { w in
                for i in 0..<g4 { for k in 0..<h { wt[k * g4 + i] = w[i * h + k] } }
            }
            transposedVersion = weightHH.version
        }
        let bs = bias.ensure(g4)
        biasIH.value.data.withUnsafeBufferPointer { bi in
            biasHH.value.data.withUnsafeBufferPointer { bh in for j in 0..<g4 { bs[j] = bi[j] + bh[j] } }
        }
    }

    /// gi[rows] = x[rows] · W_ihᵀ.
    func project(_ x: UnsafePointer<Float>, ldx: Int, rows: Range<Int>) {
        if rows.isEmpty { return }
        let g4 = 4 * hiddenSize
        weightIH.value.data.withUnsafeBufferPointer { w in
            BLAS.gemm(transA: false, transB: true, m: rows.count, n: g4, k: inputSize, x + rows.lowerBound * ldx, lda: ldx,
                      w.baseAddress!, ldb: inputSize, gi.pointer + rows.lowerBound * g4, ldc: g4)
        }
    }

    func recur(rows: Range<Int>, active: [Int], h0: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, hN: UnsafeMutablePointer<Float>) {
        let h = hiddenSize, g4 = 4 * h, b = batch
        let st = state.pointer, cs = cell.pointer, q = gh.pointer, bs = bias.pointer
        let gip = gi.pointer, ap = gates.pointer, cpp = cprev.pointer, tcp = tanhC.pointer, hp = hprev.pointer
        for r in rows {
            if let h0 { (st + r * h).update(from: h0 + r * h, count: h) } else { (st + r * h).update(repeating: 0, count: h) }
            (cs + r * h).update(repeating: 0, count: h)
        }
        let keep = keepActivations, packed = usePacked, wt = weightHHT.pointer
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let n = min(max(active[t] - rows.lowerBound, 0), rows.count)
            let r0 = rows.lowerBound, row0 = t * b + r0
            if n < rows.count {
                if keep {
                    for buf in [hp, cpp, tcp] { (buf + (row0 + n) * h).update(repeating: 0, count: (rows.count - n) * h) }
                    (ap + (row0 + n) * g4).update(repeating: 0, count: (rows.count - n) * g4)
                }
                for i in n..<rows.count { (y + (row0 + i) * ldy).update(repeating: 0, count: h) }
            }
            if n == 0 { continue }
            if keep { (hp + row0 * h).update(from: st + r0 * h, count: n * h) }
            // q [n, G] = h [n, H] · W_hhᵀ
            if packed {
                packedForward.multiply(m: n, st + r0 * h, lda: h, q + r0 * g4, ldc: g4, accumulate: false)
            } else {
                BLAS.gemm(transA: false, transB: false, m: n, n: g4, k: h, st + r0 * h, lda: h, wt, ldb: g4, q + r0 * g4, ldc: g4)
            }
            for i in 0..<n {
                let row = row0 + i
                sweep(h, LSTMForward(gi: gip + row * g4, q: q + (r0 + i) * g4, bias: bs, a: keep ? ap + row * g4 : nil,
                                     cp: keep ? cpp + row * h : nil, tc: keep ? tcp + row * h : nil,
                                     c: cs + (r0 + i) * h, state: st + (r0 + i) * h, out: y + row * ldy, h: h))
            }
        }
        (hN + rows.lowerBound * h).update(from: st + rows.lowerBound * h, count: rows.count * h)
    }

    func recurBackward(rows: Range<Int>, active: [Int], dy: UnsafePointer<Float>, ldy: Int, dhN: UnsafePointer<Float>?, dh0: UnsafeMutablePointer<Float>) {
        let h = hiddenSize, g4 = 4 * h, b = batch
        let dh = state.pointer, dc = cell.pointer
        let gip = gi.pointer, ap = gates.pointer, cpp = cprev.pointer, tcp = tanhC.pointer
        for r in rows {
            if let dhN { (dh + r * h).update(from: dhN + r * h, count: h) } else { (dh + r * h).update(repeating: 0, count: h) }
            (dc + r * h).update(repeating: 0, count: h)
        }
        let packed = usePacked
        weightHH.value.data.withUnsafeBufferPointer { wbuf in
            let w = wbuf.baseAddress!
            for s in 0..<steps {
                let t = reverse ? s : steps - 1 - s
                let n = min(max(active[t] - rows.lowerBound, 0), rows.count)
                let r0 = rows.lowerBound, row0 = t * b + r0
                if n < rows.count { (gip + (row0 + n) * g4).update(repeating: 0, count: (rows.count - n) * g4) }
                if n == 0 { continue }
                let dyRows = UnsafeMutablePointer(mutating: dy)
                for i in 0..<n {
                    let row = row0 + i
                    sweep(h, LSTMBackward(a: ap + row * g4, cp: cpp + row * h, tc: tcp + row * h, dy: dyRows + row * ldy,
                                          dgi: gip + row * g4, dh: dh + (r0 + i) * h, dc: dc + (r0 + i) * h, h: h))
                }
                // dh (to the step before) = dA [n, G] · W_hh [G, H]
                if packed {
                    packedBackward.multiply(m: n, gip + row0 * g4, lda: g4, dh + r0 * h, ldc: h, accumulate: false)
                } else {
                    BLAS.gemm(transA: false, transB: false, m: n, n: h, k: g4, gip + row0 * g4, lda: g4, w, ldb: h, dh + r0 * h, ldc: h)
                }
            }
        }
        (dh0 + rows.lowerBound * h).update(from: dh + rows.lowerBound * h, count: rows.count * h)
    }

    /// dW_hh += dAᵀ · h_prev; db_ih and db_hh += Σ dA (the same pre-activation gradient).
    func accumulateRecurrentGrads() {
        let h = hiddenSize, g4 = 4 * h, m = steps * batch
        weightHH.grad.data.withUnsafeMutableBufferPointer { gw in
            BLAS.gemm(transA: true, transB: false, m: g4, n: h, k: m, gi.pointer, lda: g4, hprev.pointer, ldb: h, beta: 1, gw.baseAddress!, ldc: h)
        }
        columnSums(gi.pointer, rows: m, cols: g4, into: &biasHH.grad)
        columnSums(gi.pointer, rows: m, cols: g4, into: &biasIH.grad)
    }

    func accumulateInputWeightGrad(_ x: UnsafePointer<Float>, ldx: Int) {
        let g4 = 4 * hiddenSize
        weightIH.grad.data.withUnsafeMutableBufferPointer { gw in
            BLAS.gemm(transA: true, transB: false, m: g4, n: inputSize, k: steps * batch, gi.pointer, lda: g4, x, ldb: ldx,
                      beta: 1, gw.baseAddress!, ldc: inputSize)
        }
    }

    func inputGrad(_ dx: UnsafeMutablePointer<Float>, ldx: Int, rows: Range<Int>, accumulate: Bool) {
        if rows.isEmpty { return }
        let g4 = 4 * hiddenSize
        weightIH.value.data.withUnsafeBufferPointer { w in
            BLAS.gemm(transA: false, transB: false, m: rows.count, n: inputSize, k: g4, gi.pointer + rows.lowerBound * g4, lda: g4,
                      w.baseAddress!, ldb: inputSize, beta: accumulate ? 1 : 0, dx + rows.lowerBound * ldx, ldc: ldx)
        }
    }
}
