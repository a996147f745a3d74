import GrusCore

// The GRU's elementwise gate code, one row of H units at a time, written once for any lane width
// (see `sweep`). Pointers are already offset to the row; every backward kernel sits below the
// forward kernel it inverts and quotes the forward lines it differentiates.
//
// Dimension letters (here, in GRUCell and in GRUEncoder):
//   T  time steps of the padded batch       B  sequences in the batch (sorted, longest first)
//   I  input features per step               H  hidden units per direction
//   G  = 3H, the gates r, z, n side by side  D  directions (1, or 2 when bidirectional)
//   L  stacked layers
//
// Per-row buffers (one row = one sequence at one step):
//   gi   [G]  W_ih x (the input projection, from one GEMM over all T·B rows)
//   q    [G]  W_hh h (the recurrent product of this step); cho2014: [W_hr h, W_hz h, W_hn (r ∘ h)]
//   bias [4H] b_ir + b_hr, b_iz + b_hz, b_in, b_hn (folded once per batch)
//   a    [G]  r, z, n after their nonlinearities (kept for backward)
//   hn   [H]  pytorch: W_hn h + b_hn (kept for backward)
//   rh   [H]  cho2014: r ∘ h (kept for backward)
//   state/hp [H]  h, the state before the step; out [H] h'
//   dy   [H]  dL/dh' from above; carry [H] dL/dh' from the next step in, dL/dh out
//   dgi  [G]  dL/d(pre-activations) through the input side; dgq [G] through the recurrent side
typealias FloatPointer = UnsafeMutablePointer<Float>

/// PyTorch form, forward: gates, h' = n + z (h − n); keeps r, z, n and W_hn h + b_hn.
struct ForwardGates: LaneKernel {
    let gi: FloatPointer, q: FloatPointer, bias: FloatPointer, a: FloatPointer, hn: FloatPointer
    let state: FloatPointer, out: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let r = V.sigmoid(V.load(gi + j) + V.load(q + j) + V.load(bias + j))
        let z = V.sigmoid(V.load(gi + h + j) + V.load(q + h + j) + V.load(bias + h + j))
        let c = V.load(q + 2 * h + j) + V.load(bias + 3 * h + j)
        let n = V.tanh(V.load(gi + 2 * h + j) + V.load(bias + 2 * h + j) + r * c)
        let hp = V.load(state + j)
        let hNew = n + z * (hp - n)
        r.store(a + j); z.store(a + h + j); n.store(a + 2 * h + j)
        c.store(hn + j)
        hNew.store(state + j); hNew.store(out + j)
    }
}

/// PyTorch form, inference: the same step, saving nothing for backward.
struct InferenceGates: LaneKernel {
    let gi: FloatPointer, q: FloatPointer, bias: FloatPointer, state: FloatPointer, out: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let r = V.sigmoid(V.load(gi + j) + V.load(q + j) + V.load(bias + j))
        let z = V.sigmoid(V.load(gi + h + j) + V.load(q + h + j) + V.load(bias + h + j))
        let n = V.tanh(V.load(gi + 2 * h + j) + V.load(bias + 2 * h + j) + r * (V.load(q + 2 * h + j) + V.load(bias + 3 * h + j)))
        let hNew = n + z * (V.load(state + j) - n)
        hNew.store(state + j); hNew.store(out + j)
    }
}

/// cho2014 form, forward part 1: r and z, and r ∘ h for the recurrent product of n.
struct ForwardResetUpdate: LaneKernel {
    let gi: FloatPointer, q: FloatPointer, bias: FloatPointer, a: FloatPointer, rh: FloatPointer
    let state: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let r = V.sigmoid(V.load(gi + j) + V.load(q + j) + V.load(bias + j))
        let z = V.sigmoid(V.load(gi + h + j) + V.load(q + h + j) + V.load(bias + h + j))
        r.store(a + j); z.store(a + h + j)
        (r * V.load(state + j)).store(rh + j)
    }
}

/// cho2014 form, forward part 2: n from W_hn (r ∘ h), then the new state.
struct ForwardCandidate: LaneKernel {
    let gi: FloatPointer, q: FloatPointer, bias: FloatPointer, a: FloatPointer
    let state: FloatPointer, out: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let n = V.tanh(V.load(gi + 2 * h + j) + V.load(bias + 2 * h + j) + V.load(q + 2 * h + j) + V.load(bias + 3 * h + j))
        let z = V.load(a + h + j)
        let hNew = n + z * (V.load(state + j) - n)
        n.store(a + 2 * h + j)
        hNew.store(state + j); hNew.store(out + j)
    }
}

/// PyTorch form, backward: from g = dL/dh' to the pre-activation gradients (dgi for the input
/// projections, dgq for the recurrent ones) and the direct part of dL/dh, g ∘ z, left in `carry`.
///
///   forward (ForwardGates)                         backward (this kernel)
///   h' = n + z ∘ (h − n)                           dn = g (1 − z);  dz = g (h − n);  dh = g z
///   n = tanh(gi_n + b_in + r ∘ c),  c = q_n + b_hn   dA_n = dn (1 − n²);  dr = dA_n ∘ c;  dq_n = dA_n ∘ r
///   z = σ(gi_z + q_z + b_z)                        dA_z = dz z (1 − z)
///   r = σ(gi_r + q_r + b_r)                        dA_r = dr r (1 − r)
/// The rest of dh, dq · W_hh, is added by the caller's GEMM.
struct BackwardGates: LaneKernel {
    let a: FloatPointer, hn: FloatPointer, hp: FloatPointer, dy: FloatPointer
    let dgi: FloatPointer, dgq: FloatPointer, carry: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let one = V.splat(1)
        let g = V.load(carry + j) + V.load(dy + j)
        let r = V.load(a + j), z = V.load(a + h + j), n = V.load(a + 2 * h + j)
        let dAn = g * (one - z) * (one - n * n)
        let dAz = g * (V.load(hp + j) - n) * z * (one - z)
        let dAr = dAn * V.load(hn + j) * r * (one - r)
        dAr.store(dgi + j); dAz.store(dgi + h + j); dAn.store(dgi + 2 * h + j)
        dAr.store(dgq + j); dAz.store(dgq + h + j); (dAn * r).store(dgq + 2 * h + j)
        (g * z).store(carry + j)
    }
}

/// cho2014 form, backward part 1: dA_n and dA_z; dA_z waits in dgi until part 2.
///
///   forward (ForwardCandidate)                     backward (this kernel)
///   h' = n + z ∘ (h − n)                           dn = g (1 − z);  dz = g (h − n);  dh = g z
///   n = tanh(gi_n + b_in + W_hn (r ∘ h) + b_hn)    dA_n = dn (1 − n²)   (dq_n = dA_n)
///   z = σ(gi_z + q_z + b_z)                        dA_z = dz z (1 − z)
struct BackwardCandidate: LaneKernel {
    let a: FloatPointer, hp: FloatPointer, dy: FloatPointer
    let dgi: FloatPointer, dgq: FloatPointer, carry: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let one = V.splat(1)
        let g = V.load(carry + j) + V.load(dy + j)
        let z = V.load(a + h + j), n = V.load(a + 2 * h + j)
        let dAn = g * (one - z) * (one - n * n)
        dAn.store(dgi + 2 * h + j); dAn.store(dgq + 2 * h + j)
        (g * (V.load(hp + j) - n) * z * (one - z)).store(dgi + h + j)
        (g * z).store(carry + j)
    }
}

/// cho2014 form, backward part 2: with d(r ∘ h) = dA_n W_hn, finish dA_r and dL/dh's direct part.
///
///   forward (ForwardResetUpdate)                   backward (this kernel)
///   rh = r ∘ h                                     dr = d(rh) ∘ h;  dh += d(rh) ∘ r
///   r = σ(gi_r + q_r + b_r)                        dA_r = dr r (1 − r)
struct BackwardReset: LaneKernel {
    let a: FloatPointer, hp: FloatPointer, drh: FloatPointer
    let dgi: FloatPointer, dgq: FloatPointer, carry: FloatPointer, h: Int

    @inline(__always)
    func run<V: FloatLanes>(_: V.Type, _ j: Int) {
        let one = V.splat(1)
        let r = V.load(a + j), d = V.load(drh + j)
        let dAr = d * V.load(hp + j) * r * (one - r)
        dAr.store(dgi + j); dAr.store(dgq + j)
        V.load(dgi + h + j).store(dgq + h + j)
        (V.load(carry + j) + d * r).store(carry + j)
    }
}
