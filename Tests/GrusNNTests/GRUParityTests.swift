import XCTest
import GrusCore
@testable import GrusNN

/// Grus's GRU against PyTorch `nn.GRU` (and a reference cho2014 implementation):
/// outputs, final states and every gradient.
final class GRUParityTests: XCTestCase {
    func runCase(_ name: String, threads: Int, inputGradient: Bool = true) throws {
        let f = try Fixture.load(name)
        let c = f["config"] as! [String: Any]
        var config = GRUConfig(inputSize: c["input"] as! Int, hiddenSize: c["hidden"] as! Int,
                               numLayers: c["layers"] as! Int, bidirectional: c["bidirectional"] as! Bool,
                               form: GRUForm(rawValue: c["form"] as! String)!)
        config.cell = (c["cell"] as? String).flatMap(RecurrentCellKind.init)
        var rng = RNG(seed: 0)
        let gru = GRUEncoder(config, rng: &rng)
        gru.threads = threads
        gru.computeInputGradient = inputGradient
        try gru.loadStateDict(Fixture.tensors(f["weights"]))
        let lengths = (f["lengths"] as! [NSNumber]).map { $0.intValue }
        let h0 = f["h0"].map { Fixture.tensor($0) }
        let (out, hN) = gru.forward(Fixture.tensor(f["x"]), lengths: lengths, h0: h0, rng: &rng)
        assertClose(out, Fixture.tensor(f["output"]), "\(name) output")
        assertClose(hN, Fixture.tensor(f["h_n"]), "\(name) h_n")
        gru.zeroGrad()
        let (dx, dh0) = gru.backward(Fixture.tensor(f["grad_output"]), dHN: Fixture.tensor(f["grad_h_n"]))
        if inputGradient { assertClose(dx, Fixture.tensor(f["grad_x"]), "\(name) grad x") } else { XCTAssertEqual(dx, Tensor(zeros: dx.shape)) }
        if let g = f["grad_h0"] { assertClose(dh0, Fixture.tensor(g), "\(name) grad h0") }
        let grads = Fixture.tensors(f["grads"])
        for p in gru.parameters {
            assertClose(p.grad, grads[p.name]!, "\(name) grad \(p.name)")
        }
    }

    /// The LSTM against `nn.LSTM` (outputs, h_n, every gradient), ragged and bidirectional, with
    /// the packed recurrent products (H = 16) and without.
    func testLSTMMatchesPyTorch() throws {
        try runCase("lstm_1layer_uni", threads: 1)
        try runCase("lstm_2layer_bi_ragged", threads: 1)
        try runCase("lstm_2layer_bi_ragged", threads: 2)
        for disabled in [false, true] {
            GRUCell.disablePacked = disabled
            defer { GRUCell.disablePacked = false }
            try runCase("lstm_2layer_bi_h16_ragged", threads: 2)
            try runCase("lstm_2layer_bi_h16_ragged", threads: 1, inputGradient: false)
        }
    }

    func testOneLayerUnidirectional() throws {
        try runCase("gru_1layer_uni", threads: 1)
        try runCase("gru_1layer_uni", threads: 2)
    }

    func testTwoLayerBidirectionalRagged() throws {
        try runCase("gru_2layer_bi_ragged", threads: 1)
        try runCase("gru_2layer_bi_ragged", threads: 2)
        try runCase("gru_2layer_bi_ragged", threads: 2, inputGradient: false)
    }

    /// H = 16 and 32 use the packed recurrent products (6-row tiles with a partial tile, and the
    /// one-row path); the general GEMM path must agree with PyTorch on the same cases.
    func testPackedRecurrentProducts() throws {
        for disabled in [false, true] {
            GRUCell.disablePacked = disabled
            defer { GRUCell.disablePacked = false }
            try runCase("gru_2layer_bi_h16_ragged", threads: 2)
            try runCase("gru_2layer_bi_h16_ragged", threads: 1)
            try runCase("gru_batch1_h32", threads: 1)
        }
        var rng = RNG(seed: 0)
        func cell(_ h: Int, _ form: GRUForm) -> GRUCell {
            GRUCell(inputSize: 3, hiddenSize: h, reverse: false, form: form, suffix: "l0", recurrentInit: .uniform, rng: &rng)
        }
        XCTAssertTrue(cell(16, .pytorch).usePacked)
        XCTAssertFalse(cell(20, .pytorch).usePacked)
        XCTAssertFalse(cell(16, .cho2014).usePacked)
    }

    /// Inference (nothing kept for backward) gives the training path's outputs to rounding (its
    /// input projection is the packed product, whose every row is the same sequence of
    /// multiply-adds however many rows come with it); Float16 recurrent weights move them by
    /// about 1e-3, no more.
    func testInferencePathAndHalfPrecision() throws {
        for name in ["gru_2layer_bi_h16_ragged", "gru_batch1_h32", "gru_2layer_bi_ragged"] {
            let f = try Fixture.load(name)
            let c = f["config"] as! [String: Any]
            var rng = RNG(seed: 0)
            let gru = GRUEncoder(GRUConfig(inputSize: c["input"] as! Int, hiddenSize: c["hidden"] as! Int, numLayers: c["layers"] as! Int,
                                           bidirectional: c["bidirectional"] as! Bool), rng: &rng)
            try gru.loadStateDict(Fixture.tensors(f["weights"]))
            let x = Fixture.tensor(f["x"]), lengths = (f["lengths"] as! [NSNumber]).map { $0.intValue }
            let full = gru.forward(x, lengths: lengths, rng: &rng)
            let lean = gru.forward(x, lengths: lengths, keepForBackward: false, rng: &rng)
            XCTAssertLessThan(zip(full.output.data, lean.output.data).map { abs($0 - $1) }.max()!, 1e-5, name)
            XCTAssertLessThan(zip(full.hN.data, lean.hN.data).map { abs($0 - $1) }.max()!, 1e-5, name)
            gru.halfPrecisionInference = true
            let half = gru.forward(x, lengths: lengths, keepForBackward: false, rng: &rng)
            let diff = zip(half.output.data, full.output.data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(diff, 3e-3, name)
            gru.halfPrecisionInference = false
            // With the packed products (H a multiple of 16), each sequence alone, in inference,
            // gives exactly its rows of the batch's output: what streaming relies on.
            let t = x.shape[0], b = x.shape[1], i = x.shape[2], width = lean.output.shape[2]
            for s in 0..<b where (c["hidden"] as! Int) % 16 == 0 {
                let n = lengths[s]
                var one = Tensor(zeros: [n, 1, i])
                for step in 0..<n { for q in 0..<i { one.data[step * i + q] = x.data[(step * b + s) * i + q] } }
                let alone = gru.forward(one, lengths: [n], keepForBackward: false, rng: &rng).output
                for step in 0..<n { for q in 0..<width {
                    XCTAssertEqual(alone.data[step * width + q], lean.output.data[(step * b + s) * width + q], "\(name): sequence \(s) step \(step)")
                } }
                _ = t
            }
            gru.halfPrecisionInference = true
            if (c["hidden"] as! Int) % 16 == 0 { XCTAssertGreaterThan(diff, 0, "\(name): Float16 weights are in use") } else { XCTAssertEqual(diff, 0, name) }
            // Training-path calls ignore the setting.
            XCTAssertEqual(gru.forward(x, lengths: lengths, rng: &rng).output, full.output, name)
        }
    }

    func testBatchOne() throws {
        try runCase("gru_batch1", threads: 2)
    }

    /// Three unidirectional layers, ragged batch of two: batch halves on two threads, or one thread.
    func testThreeLayerUnidirectionalSmallBatch() throws {
        try runCase("gru_3layer_uni_small_batch", threads: 2)
        try runCase("gru_3layer_uni_small_batch", threads: 1)
    }

    /// Cached derived weights (W_hhᵀ) follow in-place optimiser updates.
    func testWeightUpdatesReachTheNextForward() {
        var rng = RNG(seed: 6)
        let config = GRUConfig(inputSize: 3, hiddenSize: 8, numLayers: 2)
        let a = GRUEncoder(config, rng: &rng)
        let x = Tensor(shape: [5, 2, 3], data: (0..<30).map { _ in rng.normal() })
        _ = a.forward(x, lengths: [5, 3], rng: &rng)
        a.backward(Tensor(repeating: 1, shape: [5, 2, 8]))
        SGD(a.parameters, learningRate: 0.5).step()
        let updated = a.forward(x, lengths: [5, 3], rng: &rng).output
        var other = RNG(seed: 0)
        let b = GRUEncoder(config, rng: &other)
        try? b.loadStateDict(a.stateDict())
        XCTAssertEqual(updated, b.forward(x, lengths: [5, 3], rng: &other).output)
    }

    func testCho2014Form() throws {
        try runCase("gru_cho2014_bi_ragged", threads: 1)
        try runCase("gru_cho2014_bi_ragged", threads: 2)
    }

    func testParameterNamesAndShapesFollowPyTorch() {
        var rng = RNG(seed: 1)
        let gru = GRUEncoder(GRUConfig(inputSize: 40, hiddenSize: 8, numLayers: 2, bidirectional: true), rng: &rng)
        let shapes = Dictionary(uniqueKeysWithValues: gru.parameters.map { ($0.name, $0.value.shape) })
        XCTAssertEqual(shapes["weight_ih_l0"], [24, 40])
        XCTAssertEqual(shapes["weight_hh_l0_reverse"], [24, 8])
        XCTAssertEqual(shapes["weight_ih_l1"], [24, 16])
        XCTAssertEqual(shapes["bias_hh_l1_reverse"], [24])
        XCTAssertEqual(shapes.count, 16)
        let bound = 1 / Float(8).squareRoot()
        for p in gru.parameters { XCTAssertLessThanOrEqual(p.value.data.map(abs).max()!, bound, p.name) }
    }

    func testOrthogonalRecurrentInit() {
        var rng = RNG(seed: 2)
        let gru = GRUEncoder(GRUConfig(inputSize: 3, hiddenSize: 6, recurrentInit: .orthogonal), rng: &rng)
        let w = gru.parameters.first { $0.name == "weight_hh_l0" }!.value
        for g in 0..<3 {
            for i in 0..<6 {
                for j in 0..<6 {
                    var dot: Float = 0
                    for k in 0..<6 { dot += w[g * 6 + i, k] * w[g * 6 + j, k] }
                    XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5)
                }
            }
        }
    }

    /// Padded frames hold garbage; outputs and every gradient must not change.
    func testPaddingNeverChangesOutputsOrGradients() {
        let config = GRUConfig(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true)
        let lengths = [2, 6, 4]
        var rng = RNG(seed: 3)
        let gru = GRUEncoder(config, rng: &rng)
        var x = Tensor(shape: [6, 3, 3], data: (0..<54).map { _ in rng.normal() })
        var dy = Tensor(shape: [6, 3, 10], data: (0..<180).map { _ in rng.normal() })
        func run(_ x: Tensor, _ dy: Tensor) -> [Tensor] {
            var r = RNG(seed: 9)
            gru.zeroGrad()
            let (o, h) = gru.forward(x, lengths: lengths, rng: &r)
            let (dx, dh0) = gru.backward(dy)
            return [o, h, dx, dh0] + gru.parameters.map { $0.grad }
        }
        let clean = run(x, dy)
        for t in 0..<6 { for b in 0..<3 where t >= lengths[b] {
            for i in 0..<3 { x[t, b, i] = 1e3 * rng.normal() }
            for i in 0..<10 { dy[t, b, i] = 1e3 * rng.normal() }
        } }
        let dirty = run(x, dy)
        for (a, b) in zip(clean, dirty) { XCTAssertEqual(a, b) }
        // Padded outputs and input gradients are zero.
        for t in 0..<6 { for b in 0..<3 where t >= lengths[b] {
            for i in 0..<10 { XCTAssertEqual(clean[0][t, b, i], 0) }
            for i in 0..<3 { XCTAssertEqual(clean[2][t, b, i], 0) }
        } }
    }

    /// The batch order does not matter: each sequence gets the same result alone or in any batch.
    func testBatchOrderAndCompositionDoNotMatter() {
        let config = GRUConfig(inputSize: 2, hiddenSize: 4, numLayers: 1, bidirectional: true)
        var rng = RNG(seed: 4)
        let gru = GRUEncoder(config, rng: &rng)
        let lengths = [3, 5]
        let x = Tensor(shape: [5, 2, 2], data: (0..<20).map { _ in rng.normal() })
        let (out, hN) = gru.forward(x, lengths: lengths, rng: &rng)
        // Sequence 0 alone.
        var x0 = Tensor(zeros: [3, 1, 2])
        for t in 0..<3 { for i in 0..<2 { x0[t, 0, i] = x[t, 0, i] } }
        let (o0, h0) = gru.forward(x0, lengths: [3], rng: &rng)
        for t in 0..<3 { for j in 0..<8 { XCTAssertEqual(o0[t, 0, j], out[t, 0, j], accuracy: 1e-6) } }
        for k in 0..<2 { for j in 0..<4 { XCTAssertEqual(h0[k, 0, j], hN[k, 0, j], accuracy: 1e-6) } }
    }
}
