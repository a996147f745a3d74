import XCTest
import GrusCore
@testable import GrusNN

/// Central finite differences against every layer's analytic backward.
/// Loss = Σ output · G for a fixed random G, accumulated in Double.
final class GradientCheckTests: XCTestCase {
    let eps: Float = 3e-3

    /// Compares analytic gradients with (L(v+ε) − L(v−ε)) / 2ε for every element of `values`.
    func check(_ what: String, values start: Tensor, analytic: Tensor,
               rtol: Double = 2e-2, atol: Double = 2e-3, file: StaticString = #filePath, line: UInt = #line,
               loss: (Tensor) -> Double) {
        var values = start
        XCTAssertEqual(values.shape, analytic.shape, what, file: file, line: line)
        var worst = 0.0
        for i in values.data.indices {
            let v = values.data[i]
            values.data[i] = v + eps
            let up = loss(values)
            values.data[i] = v - eps
            let down = loss(values)
            values.data[i] = v
            let numeric = (up - down) / Double(2 * eps)
            let excess = abs(numeric - Double(analytic.data[i])) - (atol + rtol * abs(numeric))
            worst = max(worst, excess)
            if excess > 0 {
                XCTFail("\(what)[\(i)]: analytic \(analytic.data[i]), numeric \(numeric)", file: file, line: line)
                break
            }
        }
        _ = loss(start)   // leave the model as it was
    }

    /// Every element of every parameter against finite differences of `lossValue` (rtol 1e-2, atol 2e-4).
    func checkParameters(_ params: [Parameter], _ lossValue: () -> Double, file: StaticString = #filePath, line: UInt = #line) {
        for p in params {
            check(p.name, values: p.value, analytic: p.grad, rtol: 1e-2, atol: 2e-4, file: file, line: line) { v in
                let keep = p.value
                p.value = v
                defer { p.value = keep }
                return lossValue()
            }
        }
    }

    static func dot(_ a: Tensor, _ g: Tensor) -> Double {
        zip(a.data, g.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    func randomTensor(_ shape: [Int], _ rng: inout RNG, scale: Float = 1) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in scale * rng.normal() })
    }

    func checkGRU(form: GRUForm, cell: RecurrentCellKind = .gru) {
        var rng = RNG(seed: 10)
        var config = GRUConfig(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, form: form)
        config.cell = cell
        let gru = GRUEncoder(config, rng: &rng)
        let lengths = [3, 5, 1]
        var x = randomTensor([5, 3, 3], &rng)
        var h0 = randomTensor([4, 3, 4], &rng, scale: 0.5)
        let gOut = randomTensor([5, 3, 8], &rng), gH = randomTensor([4, 3, 4], &rng)
        func loss() -> Double {
            var r = RNG(seed: 0)
            let (o, h) = gru.forward(x, lengths: lengths, h0: h0, rng: &r)
            return Self.dot(o, gOut) + Self.dot(h, gH)
        }
        _ = loss()
        gru.zeroGrad()
        let (dx, dh0) = gru.backward(gOut, dHN: gH)
        let grads = gru.parameters.map { $0.grad }
        check("\(form) x", values: x, analytic: dx) { x = $0; return loss() }
        check("\(form) h0", values: h0, analytic: dh0) { h0 = $0; return loss() }
        for (p, g) in zip(gru.parameters, grads) {
            let v = p.value
            check("\(form) \(p.name)", values: v, analytic: g) { p.value = $0; return loss() }
        }
    }

    func testStackedBidirectionalGRUPyTorchForm() { checkGRU(form: .pytorch) }
    func testStackedBidirectionalLSTM() { checkGRU(form: .pytorch, cell: .lstm) }
    func testStackedBidirectionalGRUCho2014Form() { checkGRU(form: .cho2014) }

    func testGRUWithInterLayerDropout() {
        var rng = RNG(seed: 11)
        let gru = GRUEncoder(GRUConfig(inputSize: 2, hiddenSize: 3, numLayers: 3, dropout: 0.3), rng: &rng)
        var x = randomTensor([4, 2, 2], &rng)
        let gOut = randomTensor([4, 2, 3], &rng)
        func loss() -> Double {
            var r = RNG(seed: 5)   // same masks every call
            return Self.dot(gru.forward(x, lengths: [4, 2], training: true, rng: &r).output, gOut)
        }
        _ = loss()
        gru.zeroGrad()
        let dx = gru.backward(gOut).dInput
        let grads = gru.parameters.map { $0.grad }
        check("dropout x", values: x, analytic: dx) { x = $0; return loss() }
        for (p, g) in zip(gru.parameters, grads) {
            let v = p.value
            check("dropout \(p.name)", values: v, analytic: g) { p.value = $0; return loss() }
        }
    }

    func testLinear() {
        var rng = RNG(seed: 12)
        let lin = Linear(4, 3, rng: &rng)
        let x = randomTensor([5, 4], &rng)
        let g = randomTensor([5, 3], &rng)
        _ = lin.forward(x)
        lin.zeroGrad()
        let dx = lin.backward(g)
        let gw = lin.weight.grad, gb = lin.bias.grad
        check("linear x", values: x, analytic: dx) { Self.dot(lin.forward($0), g) }
        let w = lin.weight.value
        check("linear weight", values: w, analytic: gw) { lin.weight.value = $0; return Self.dot(lin.forward(x), g) }
        let b = lin.bias.value
        check("linear bias", values: b, analytic: gb) { lin.bias.value = $0; return Self.dot(lin.forward(x), g) }
    }

    func testEmbeddingWithPaddingIndex() {
        var rng = RNG(seed: 13)
        let emb = Embedding(vocabSize: 5, dim: 3, paddingIndex: 0, rng: &rng)
        let ids = [1, 0, 4, 1, 2, 0]
        let g = randomTensor([3, 2, 3], &rng)
        _ = emb.forward(ids, shape: [3, 2])
        emb.zeroGrad()
        emb.backward(g)
        let gw = emb.weight.grad
        for j in 0..<3 { XCTAssertEqual(gw[0, j], 0, "padding row takes no gradient") }
        // The padding row gets no gradient by design (its numeric gradient is not zero).
        let original = emb.weight.value
        let w = original
        check("embedding", values: w, analytic: gw) { v in
            var v = v
            for j in 0..<3 { v[0, j] = original[0, j] }
            emb.weight.value = v
            return Self.dot(emb.forward(ids, shape: [3, 2]), g)
        }
    }

    func testPooling() {
        // 6 features run the scalar path; 22 run two eight-lane blocks and a scalar tail.
        for f in [6, 22] {
            for kind in Pooling.Kind.allCases {
                var rng = RNG(seed: 14)
                let pool = Pooling(kind, directions: 2)
                let lengths = [2, 4, 1]
                let x = randomTensor([4, 3, f], &rng)
                let g = randomTensor([3, f], &rng)
                let y = pool.forward(x, lengths: lengths)
                if kind == .max {
                    for b in 0..<3 { for j in 0..<f { XCTAssertEqual(y[b, j], (0..<lengths[b]).map { x[$0, b, j] }.max()!) } }
                }
                let dx = pool.backward(g)
                check("pool \(kind) f=\(f)", values: x, analytic: dx) { Self.dot(pool.forward($0, lengths: lengths), g) }
                // Padded frames get no gradient.
                for t in 0..<4 { for b in 0..<3 where t >= lengths[b] { for j in 0..<f { XCTAssertEqual(dx[t, b, j], 0) } } }
            }
        }
    }

    /// A window pools each sequence's last frames only: the same as pooling that slice alone,
    /// gradients by finite differences, none before the window.
    func testPoolingWindow() {
        for f in [6, 22] {
            for kind in Pooling.Kind.allCases {
                var rng = RNG(seed: 16)
                let window = 3, lengths = [5, 2, 4]
                let pool = Pooling(kind, directions: 2, window: window)
                let x = randomTensor([5, 3, f], &rng)
                let g = randomTensor([3, f], &rng)
                let y = pool.forward(x, lengths: lengths)
                for b in 0..<3 {
                    let start = max(0, lengths[b] - window), n = lengths[b] - start
                    var slice = Tensor(zeros: [n, 1, f])
                    for t in 0..<n { for j in 0..<f { slice[t, 0, j] = x[start + t, b, j] } }
                    let alone = Pooling(kind, directions: 2).forward(slice, lengths: [n])
                    for j in 0..<f { XCTAssertEqual(y[b, j], alone[0, j], accuracy: 1e-6, "\(kind) f=\(f) b=\(b)") }
                }
                let dx = pool.backward(g)
                check("pool window \(kind) f=\(f)", values: x, analytic: dx) { Self.dot(pool.forward($0, lengths: lengths), g) }
                for t in 0..<5 { for b in 0..<3 where t < max(0, lengths[b] - window) || t >= lengths[b] { for j in 0..<f { XCTAssertEqual(dx[t, b, j], 0) } } }
            }
        }
    }

    func testDropout() {
        var rng = RNG(seed: 15)
        let drop = Dropout(0.4)
        let x = randomTensor([6, 5], &rng)
        let g = randomTensor([6, 5], &rng)
        var r0 = RNG(seed: 1)
        let y = drop.forward(x, training: true, rng: &r0)
        let dx = drop.backward(g)
        let zeros = y.data.filter { $0 == 0 }.count
        XCTAssertGreaterThan(zeros, 0)
        XCTAssertLessThan(zeros, 30)
        check("dropout", values: x, analytic: dx) { var r = RNG(seed: 1); return Self.dot(drop.forward($0, training: true, rng: &r), g) }
        var r1 = RNG(seed: 1)
        XCTAssertEqual(drop.forward(x, training: false, rng: &r1), x, "identity at evaluation")
    }

    func testCrossEntropyWithSmoothingAndWeights() {
        var rng = RNG(seed: 16)
        let logits = randomTensor([4, 3], &rng)
        let ce = CrossEntropy(labelSmoothing: 0.1, classWeights: [1, 2, 0.5])
        let targets = [0, 2, 1, 1]
        let grad = ce(logits, targets: targets).grad
        check("cross-entropy", values: logits, analytic: grad, rtol: 1e-2, atol: 1e-3) { Double(ce($0, targets: targets).loss) }
    }
}

extension GradientCheckTests {
    /// The per-step tagger with ragged lengths: the loss over valid steps only, every parameter's
    /// gradient against finite differences, and padding that changes nothing.
    func testTaggerGradientsOverValidStepsOnly() {
        var rng = RNG(seed: 21)
        let config = TaggerConfig(vocabSize: 9, encoder: GRUConfig(inputSize: 4, hiddenSize: 3, numLayers: 2, bidirectional: true), numTags: 5)
        let model = SequenceTagger(config, rng: &rng)
        let lengths = [4, 2, 3]
        var seqs = lengths.map { n in (0..<n).map { _ in 2 + rng.int(below: 7) } }
        let rows = SequenceTagger.validRows(lengths: lengths)
        let targets = rows.map { _ in rng.int(below: 5) }
        func lossValue() -> Double {
            var r = RNG(seed: 0)
            let logits = model.forward(SequenceBatch.padding(seqs), training: false, rng: &r)
            return Double(stepCrossEntropy(logits, rows: rows, targets: targets).loss)
        }
        model.zeroGrad()
        var r = RNG(seed: 0)
        let logits = model.forward(SequenceBatch.padding(seqs), training: false, rng: &r)
        let (base, grad) = stepCrossEntropy(logits, rows: rows, targets: targets)
        let padded = Set(0..<(4 * 3)).subtracting(rows)
        XCTAssertTrue(padded.allSatisfy { row in (0..<5).allSatisfy { grad.data[row * 5 + $0] == 0 } }, "no gradient on padded rows")
        model.backward(grad)
        checkParameters(model.parameters.filter { $0.name != "embedding.weight" }, lossValue)
        // Longer padding with garbage ids changes no valid logit.
        seqs[1] += [8, 8]
        var r2 = RNG(seed: 0)
        let again = model.forward(SequenceBatch(tokens: SequenceBatch.padding(seqs).tokens!, steps: 4, lengths: lengths), training: false, rng: &r2)
        XCTAssertEqual(Double(stepCrossEntropy(again, rows: rows, targets: targets).loss), Double(base), accuracy: 1e-6)
    }
}

extension GradientCheckTests {
    /// The joint model: the intent head's gradient and the slot head's meet in the shared encoder.
    func testJointModelGradients() {
        var rng = RNG(seed: 23)
        let tagger = TaggerConfig(vocabSize: 9, encoder: GRUConfig(inputSize: 4, hiddenSize: 3, bidirectional: true), numTags: 4)
        let model = JointModel(JointConfig(tagger: tagger, pooling: .mean, numIntents: 3), rng: &rng)
        let lengths = [3, 2]
        let seqs = lengths.map { n in (0..<n).map { _ in 2 + rng.int(below: 7) } }
        let rows = SequenceTagger.validRows(lengths: lengths)
        let tags = rows.map { _ in rng.int(below: 4) }, intents = [2, 0]
        func lossValue() -> Double {
            var r = RNG(seed: 0)
            let (i, s) = model.forward(SequenceBatch.padding(seqs), training: false, rng: &r)
            return Double(CrossEntropy()(i, targets: intents).loss) + Double(stepCrossEntropy(s, rows: rows, targets: tags).loss)
        }
        model.zeroGrad()
        var r = RNG(seed: 0)
        let (i, s) = model.forward(SequenceBatch.padding(seqs), training: false, rng: &r)
        model.backward(intent: CrossEntropy()(i, targets: intents).grad, slots: stepCrossEntropy(s, rows: rows, targets: tags).grad)
        checkParameters(model.parameters.filter { $0.name != "embedding.weight" }, lossValue)
    }
}

extension GradientCheckTests {
    /// The tagger with a character encoder: every parameter's gradient, the character encoder's
    /// included, with a token repeated (read once, gradients summed) and one cut to its head and tail.
    func testTaggerWithCharacterEncoderGradients() {
        var rng = RNG(seed: 29)
        var config = TaggerConfig(vocabSize: 9, encoder: GRUConfig(inputSize: 3 + 4, hiddenSize: 3, bidirectional: true), numTags: 4)
        config.chars = CharEncoderConfig(alphabet: 6, dim: 3, hidden: 2, maxLength: 4)
        let model = SequenceTagger(config, rng: &rng)
        XCTAssertEqual(model.embedding?.dim, 3)
        let lengths = [3, 2]
        let seqs = [[2, 3, 2], [4, 5]]
        let chars: [[[Int]]] = [[[2, 3], [4, 5, 1, 2, 3, 4, 5], [2, 3]], [[5], [3, 3, 2]]]
        let rows = SequenceTagger.validRows(lengths: lengths)
        let targets = rows.map { _ in rng.int(below: 4) }
        func batch() -> SequenceBatch { var b = SequenceBatch.padding(seqs); b.setCharacters(chars); return b }
        func lossValue() -> Double {
            var r = RNG(seed: 0)
            return Double(stepCrossEntropy(model.forward(batch(), training: false, rng: &r), rows: rows, targets: targets).loss)
        }
        model.zeroGrad()
        var r = RNG(seed: 0)
        let logits = model.forward(batch(), training: false, rng: &r)
        model.backward(stepCrossEntropy(logits, rows: rows, targets: targets).grad)
        XCTAssertTrue(model.parameters.contains { $0.name == "chars.encoder.weight_hh_l0_reverse" })
        checkParameters(model.parameters, lossValue)
    }
}
