import GrusCore

/// The cell of a recurrent encoder.
public enum RecurrentCellKind: String, Codable, Sendable, CaseIterable { case gru, lstm }

/// Settings of a stacked, optionally bidirectional GRU (or LSTM).
public struct GRUConfig: Codable, Equatable, Sendable {
    public enum RecurrentInit: String, Codable, Sendable, CaseIterable { case uniform, orthogonal }

    public var inputSize: Int
    public var hiddenSize: Int
    public var numLayers: Int = 1
    public var bidirectional: Bool = false
    /// Dropout on each layer's output except the last, in training only (as `nn.GRU(dropout:)`).
    public var dropout: Float = 0
    public var form: GRUForm = .pytorch
    public var recurrentInit: RecurrentInit = .uniform
    /// The recurrent cell: a GRU (nil, the default) or an LSTM (`nn.LSTM`'s weights and gates;
    /// `form` and `recurrentInit` are the GRU's only).
    public var cell: RecurrentCellKind?

    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bidirectional: Bool = false,
                dropout: Float = 0, form: GRUForm = .pytorch, recurrentInit: RecurrentInit = .uniform) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.form = form
        self.recurrentInit = recurrentInit
    }

    public var isLSTM: Bool { cell == .lstm }
    public var directions: Int { bidirectional ? 2 : 1 }
    public var outputSize: Int { directions * hiddenSize }
}

/// A stacked, optionally bidirectional GRU over padded, time-major batches with per-sequence lengths.
///
/// Input `[T, B, I]` and `lengths[B]`; output `[T, B, D·H]` (directions concatenated, forward first)
/// with zeros past each sequence's length, and `hN` `[L·D, B, H]` ordered as PyTorch's `h_n`
/// (layer-major, forward then reverse). The forward direction stops at each sequence's length; the
/// reverse direction starts at each sequence's own last frame. Padding never changes any output
/// or gradient. Sequences may come in any order; they are sorted by length internally.
public final class GRUEncoder: Module {
    public let config: GRUConfig
    let cells: [[any RecurrentCell]]  // [layer][direction]
    /// Worker threads for the recurrence: the two directions run side by side when there are
    /// two or more; a unidirectional layer splits its batch rows among them. `Threads.count`
    /// (training.threads, or the cores shared among the MPI ranks on the machine) by default.
    public var threads: Int
    /// Whether `backward` computes the input gradient. Features that nothing upstream learns
    /// (audio) don't need it; `dInput` is then zeros.
    public var computeInputGradient = true
    /// Inference only (forward with keepForBackward: false; training always uses Float32): the recurrent weights are streamed as
    /// Float16 at each step, which halves the bytes a batch-1 step reads. Products still
    /// accumulate in Float32; outputs move by about 1e-3. Needs H a multiple of 16 and the
    /// PyTorch form (otherwise Float32 is used).
    public var halfPrecisionInference = false

    // Saved by forward for backward.
    private var order: [Int] = []          // sorted position -> original batch index
    private var sortedLengths: [Int] = []
    private var active: [Int] = []
    private var identityOrder = true
    private var steps = 0, batch = 0
    private let input = Scratch()          // sorted input (only when reordering)
    private var outputs: [Scratch] = []    // per layer, [T·B, D·H], after dropout for layers below the top
    private var masks: [Scratch] = []      // per layer below the top: dropout multipliers
    private var droppedOut: [Bool] = []
    private let hNScratch = Scratch()
    private let h0Scratch = Scratch()
    private let dyScratch = Scratch()
    private let dxScratch = Scratch()

    public init(_ config: GRUConfig, rng: inout RNG) {
        precondition(config.inputSize > 0 && config.hiddenSize > 0 && config.numLayers > 0, "GRU: sizes must be positive")
        precondition(config.dropout >= 0 && config.dropout < 1, "GRU: dropout must be in [0, 1)")
        self.config = config
        var cells: [[any RecurrentCell]] = []
        for l in 0..<config.numLayers {
            let inSize = l == 0 ? config.inputSize : config.outputSize
            cells.append((0..<config.directions).map { d -> any RecurrentCell in
                let suffix = "l\(l)" + (d == 1 ? "_reverse" : "")
                if config.isLSTM { return LSTMCell(inputSize: inSize, hiddenSize: config.hiddenSize, reverse: d == 1, suffix: suffix, rng: &rng) }
                return GRUCell(inputSize: inSize, hiddenSize: config.hiddenSize, reverse: d == 1, form: config.form,
                               suffix: suffix, recurrentInit: config.recurrentInit, rng: &rng)
            })
        }
        self.cells = cells
        self.threads = Threads.count
        outputs = (0..<config.numLayers).map { _ in Scratch() }
        masks = (0..<config.numLayers).map { _ in Scratch() }
        droppedOut = Array(repeating: false, count: config.numLayers)
    }

    /// In PyTorch's order: per layer, per direction, weight_ih, weight_hh, bias_ih, bias_hh.
    public var parameters: [Parameter] { cells.flatMap { $0.flatMap { $0.parameters } } }

    /// Forward pass. `h0` is `[L·D, B, H]` or nil for zeros. With `training` and dropout > 0,
    /// `rng` draws the dropout masks. `keepForBackward: false` (inference) saves nothing for
    /// `backward` and allows `halfPrecisionInference`.
    public func forward(_ x: Tensor, lengths: [Int], h0: Tensor? = nil, training: Bool = false, keepForBackward: Bool = true,
                        rng: inout RNG) -> (output: Tensor, hN: Tensor) {
        BLAS.configureOnce()
        precondition(x.rank == 3 && x.shape[2] == config.inputSize,
                     "GRU: input must be [T, B, \(config.inputSize)], got \(x.shape)")
        let t = x.shape[0], b = x.shape[1], h = config.hiddenSize, dirs = config.directions
        let layers = config.numLayers, dh = config.outputSize
        precondition(lengths.count == b, "GRU: \(lengths.count) lengths for a batch of \(b)")
        precondition(lengths.allSatisfy { $0 >= 1 && $0 <= t }, "GRU: lengths must be in 1...\(t), got \(lengths)")
        if let h0 { precondition(h0.shape == [layers * dirs, b, h], "GRU: h0 must be [\(layers * dirs), \(b), \(h)], got \(h0.shape)") }
        steps = t; batch = b

        // Sort by length, longest first (stable).
        order = Array(0..<b).sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        identityOrder = order == Array(0..<b)
        sortedLengths = order.map { lengths[$0] }
        active = (0..<t).map { step in sortedLengths.reduce(0) { $0 + ($1 > step ? 1 : 0) } }

        var hN = Tensor(zeros: [layers * dirs, b, h])
        let hNs = hNScratch.ensure(layers * dirs * b * h)
        var h0p: UnsafeMutablePointer<Float>? = nil
        if let h0 {
            h0p = h0Scratch.ensure(h0.count)
            h0p!.update(from: permuteStates(h0.data, count: layers * dirs, batch: b, width: h, toSorted: true), count: h0.count)
        }

        x.data.withUnsafeBufferPointer { xb in
            // Keep a (sorted) copy of the input: backward needs it for dW_ih.
            let xs = input.ensure(t * b * config.inputSize)
            if identityOrder { xs.update(from: xb.baseAddress!, count: t * b * config.inputSize) } else {
                gatherRows(from: xb.baseAddress!, to: xs, steps: t, width: config.inputSize, toSorted: true)
            }
            var layerIn = UnsafePointer(xs)
            for l in 0..<layers {
                let inSize = l == 0 ? config.inputSize : dh
                let y = outputs[l].ensure(t * b * dh)
                let lc = cells[l]
                let keep = keepForBackward || training, half = halfPrecisionInference && !keepForBackward && !training
                // Bidirectional: each direction is prepared (buffers sized, weights packed),
                // projected (one GEMM for all time steps) and run on its own thread, no barrier
                // between. Unidirectional: the projection splits its rows, then the recurrence its
                // batch rows.
                let xin = layerIn, act = active
                func run(_ d: Int, rows: Range<Int>) {
                    let k = l * dirs + d
                    lc[d].recur(rows: rows, active: act, h0: h0p.map { UnsafePointer($0 + k * b * h) },
                                y: y + d * h, ldy: dh, hN: hNs + k * b * h)
                }
                if dirs > 1 {
                    parallelFor(threads > 1 ? dirs : 1) { k in
                        for d in (threads > 1 ? k..<(k + 1) : 0..<dirs) {
                        lc[d].prepare(steps: t, batch: b, keep: keep, half: half)
                        lc[d].project(xin, ldx: inSize, rows: 0..<(t * b))
                        run(d, rows: 0..<b)
                        }
                    }
                } else {
                    lc[0].prepare(steps: t, batch: b, keep: keep, half: half)
                    let blocks = splitRange(t * b, parts: t * b >= 256 ? threads : 1)
                    parallelFor(blocks.count) { lc[0].project(xin, ldx: inSize, rows: blocks[$0]) }
                    let rowBlocks = splitRange(b, parts: threads)
                    parallelFor(rowBlocks.count) { run(0, rows: rowBlocks[$0]) }
                }
                // Dropout between layers, training only.
                droppedOut[l] = training && config.dropout > 0 && l < layers - 1
                if droppedOut[l] {
                    let m = masks[l].ensure(t * b * dh)
                    let keep = 1 - config.dropout, scale = 1 / keep
                    for i in 0..<(t * b * dh) {
                        m[i] = rng.uniform() < keep ? scale : 0
                        y[i] *= m[i]
                    }
                }
                layerIn = UnsafePointer(y)
            }
        }
        // Undo the sort.
        var out = Tensor(zeros: [t, b, dh])
        out.data.withUnsafeMutableBufferPointer { ob in
            let top = outputs[layers - 1].pointer
            if identityOrder { ob.baseAddress!.update(from: top, count: t * b * dh) } else {
                gatherRows(from: top, to: ob.baseAddress!, steps: t, width: dh, toSorted: false)
            }
        }
        hN.data = permuteStates(Array(UnsafeBufferPointer(start: hNs, count: layers * dirs * b * h)),
                                count: layers * dirs, batch: b, width: h, toSorted: false)
        return (out, hN)
    }

    /// Backward pass for the last `forward`. Accumulates parameter gradients and returns the
    /// gradients of the input `[T, B, I]` and of `h0` `[L·D, B, H]`.
    @discardableResult
    public func backward(_ dOutput: Tensor, dHN: Tensor? = nil) -> (dInput: Tensor, dH0: Tensor) {
        let t = steps, b = batch, h = config.hiddenSize, dirs = config.directions
        let layers = config.numLayers, dh = config.outputSize
        precondition(dOutput.shape == [t, b, dh], "GRU backward: gradient must be [\(t), \(b), \(dh)], got \(dOutput.shape)")
        if let dHN { precondition(dHN.shape == [layers * dirs, b, h], "GRU backward: dHN shape \(dHN.shape)") }
        var dhNp: UnsafeMutablePointer<Float>? = nil
        if let dHN {
            dhNp = h0Scratch.ensure(dHN.count)
            dhNp!.update(from: permuteStates(dHN.data, count: layers * dirs, batch: b, width: h, toSorted: true), count: dHN.count)
        }
        var dh0 = [Float](repeating: 0, count: layers * dirs * b * h)
        var dInput = Tensor(zeros: [t, b, config.inputSize])

        // Gradient flowing into the top layer's output, in sorted order.
        let maxWidth = max(dh, config.inputSize)
        var dy = dyScratch.ensure(t * b * maxWidth)
        var dx = dxScratch.ensure(t * b * maxWidth)
        dOutput.data.withUnsafeBufferPointer { gb in
            if identityOrder { dy.update(from: gb.baseAddress!, count: t * b * dh) } else {
                gatherRows(from: gb.baseAddress!, to: dy, steps: t, width: dh, toSorted: true)
            }
        }
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let inSize = l == 0 ? config.inputSize : dh
            let lc = cells[l]
            let act = active
            let dyp = UnsafePointer(dy)
            // Layer input: the previous layer's (dropped-out) output, or the (sorted) model input.
            let xin = UnsafePointer(l > 0 ? outputs[l - 1].pointer : input.pointer)
            dh0.withUnsafeMutableBufferPointer { d0 in
                let d0p = d0.baseAddress!
                func back(_ d: Int, rows: Range<Int>) {
                    let k = l * dirs + d
                    lc[d].recurBackward(rows: rows, active: act, dy: dyp + d * h, ldy: dh,
                                        dhN: dhNp.map { UnsafePointer($0 + k * b * h) }, dh0: d0p + k * b * h)
                }
                if dirs > 1 {
                    // Each direction's BPTT and then its weight gradients, on its own thread.
                    parallelFor(threads > 1 ? dirs : 1) { k in
                        for d in (threads > 1 ? k..<(k + 1) : 0..<dirs) {
                            back(d, rows: 0..<b)
                            lc[d].accumulateRecurrentGrads()
                            lc[d].accumulateInputWeightGrad(xin, ldx: inSize)
                        }
                    }
                } else {
                    let rowBlocks = splitRange(b, parts: threads)
                    parallelFor(rowBlocks.count) { back(0, rows: rowBlocks[$0]) }
                    runParallelTasks([{ lc[0].accumulateRecurrentGrads() }, { lc[0].accumulateInputWeightGrad(xin, ldx: inSize) }], threads: threads)
                }
            }
            if l == 0 && !computeInputGradient { break }
            let blocks = splitRange(t * b, parts: threads)
            let dxp = dx
            parallelFor(blocks.count) { i in
                for (d, c) in lc.enumerated() { c.inputGrad(dxp, ldx: inSize, rows: blocks[i], accumulate: d > 0) }
            }
            if l > 0 && droppedOut[l - 1] {
                let m = masks[l - 1].pointer
                for i in 0..<(t * b * dh) { dx[i] *= m[i] }
            }
            swap(&dy, &dx)
        }
        // dy now holds the input gradient in sorted order.
        if computeInputGradient { dInput.data.withUnsafeMutableBufferPointer { ib in
            if identityOrder { ib.baseAddress!.update(from: dy, count: t * b * config.inputSize) } else {
                gatherRows(from: dy, to: ib.baseAddress!, steps: t, width: config.inputSize, toSorted: false)
            }
        } }
        let dH0 = Tensor(shape: [layers * dirs, b, h], data: permuteStates(dh0, count: layers * dirs, batch: b, width: h, toSorted: false))
        return (dInput, dH0)
    }

    /// Copies time-major rows between original and sorted batch order.
    private func gatherRows(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, steps t: Int, width w: Int, toSorted: Bool) {
        let b = batch
        for s in 0..<t {
            for (sortedIndex, original) in order.enumerated() {
                let (from, to) = toSorted ? (original, sortedIndex) : (sortedIndex, original)
                (dst + (s * b + to) * w).update(from: src + (s * b + from) * w, count: w)
            }
        }
    }

    private func permuteStates(_ src: [Float], count: Int, batch b: Int, width w: Int, toSorted: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: src.count)
        for k in 0..<count {
            for (sortedIndex, original) in order.enumerated() {
                let (from, to) = toSorted ? (original, sortedIndex) : (sortedIndex, original)
                for j in 0..<w { out[(k * b + to) * w + j] = src[(k * b + from) * w + j] }
            }
        }
        return out
    }
}


/// Runs independent closures on the worker threads (one after another with one thread).
func runParallelTasks(_ tasks: [() -> Void], threads: Int) {
    if threads > 1 { parallelFor(tasks.count) { tasks[$0]() } } else { tasks.forEach { $0() } }
}
