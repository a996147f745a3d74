import Foundation
import GrusAudio
import GrusCore
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
import GrusNN
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// ONNX export of every task, both GRU forms, bidirectional and stacked, on ragged batches.
///
/// Fixtures/onnx/ holds, per case, the exported model and the inputs with Grus's outputs;
/// Fixtures/onnx/check_onnx.py runs the models in onnxruntime and requires its outputs to be
/// within 1e-5 of Grus's on every valid step. This test requires the export and Grus's outputs
/// to be the ones the script verified: the same bytes, the same numbers. After a deliberate
/// change, rerun with GRUS_WRITE_ONNX_FIXTURES=1, then the script.
final class ONNXExportTests: XCTestCase {
    struct Case {
        var name: String
        var model: any Module
        var cmvn: CMVNStats?
        var inputs: [String: Any]
        var outputs: [String: Any]
    }

    /// JSON has no infinities: −∞ (forbidden CRF moves) is written "-inf".
    static func tensorJSON(_ t: Tensor) -> [String: Any] {
        ["shape": t.shape, "data": t.data.map { $0.isFinite ? Double($0) as Any : "-inf" as Any }]
    }

    static func numbers(_ a: [Any]) -> [Double] { a.map { ($0 as? Double) ?? ($0 as? Int).map(Double.init) ?? -Double.infinity } }

    /// Ragged lengths, longest 9, and a batch of 4.
    static let lengths = [9, 4, 6, 1]

    static func audioBatch(_ f: Int, rng: inout RNG) -> (Tensor, [[Float]]) {
        var x = Tensor(zeros: [9, 4, f])
        for i in 0..<x.count { x.data[i] = 2 * rng.normal() + 1 }
        for (b, n) in lengths.enumerated() { for t in n..<9 { for k in 0..<f { x.data[(t * 4 + b) * f + k] = 0 } } }
        return (x, [])
    }

    static func tokens(_ vocab: Int, rng: inout RNG) -> [Int] {
        var ids = [Int](repeating: 0, count: 9 * 4)
        for (b, n) in lengths.enumerated() { for t in 0..<n { ids[t * 4 + b] = 1 + rng.int(below: vocab - 1) } }
        return ids
    }

    static func softmaxRows(_ t: Tensor) -> Tensor {
        let c = t.shape[1]
        var out = t
        for r in 0..<t.shape[0] {
            let row = t.data[(r * c)..<((r + 1) * c)]
            let m = row.max()!
            let e = row.map { Double(exp($0 - m)) }
            let s = e.reduce(0, +)
            for j in 0..<c { out.data[r * c + j] = Float(e[j] / s) }
        }
        return out
    }

    static func logSoftmaxRows(_ t: Tensor) -> Tensor {
        let c = t.shape[1]
        var out = t
        for r in 0..<t.shape[0] {
            let row = t.data[(r * c)..<((r + 1) * c)].map(Double.init)
            let m = row.max()!
            let lse = m + log(row.map { exp($0 - m) }.reduce(0, +))
            for j in 0..<c { out.data[r * c + j] = Float(row[j] - lse) }
        }
        return out
    }

    static func cases() -> [Case] {
        var out: [Case] = []
        var rng = RNG(seed: 77)
        let lengths = ONNXExportTests.lengths
        var noRNG = RNG(seed: 0)

        // Audio classifiers: PyTorch form with global CMVN and mean pooling; Cho 2014 with max pooling.
        for (name, form, pooling, hidden) in [("classify_pytorch_bi2_mean_cmvn", GRUForm.pytorch, Pooling.Kind.mean, 16),
                                              ("classify_cho2014_bi2_max", GRUForm.cho2014, Pooling.Kind.max, 8)] {
            let config = ClassifierConfig(encoder: GRUConfig(inputSize: 5, hiddenSize: hidden, numLayers: 2, bidirectional: true, form: form),
                                          pooling: pooling, numClasses: 3)
            let model = SequenceClassifier(config, rng: &rng)
            let (x, _) = audioBatch(5, rng: &rng)
            var cmvn: CMVNStats?
            var fed = x
            if name.hasSuffix("cmvn") {
                var s = CMVNStats(dimension: 5)
                s.relativeFloor = 0.1
                var sample = Tensor(zeros: [50, 5])
                for i in 0..<sample.count { sample.data[i] = 1.5 * rng.normal() + 0.5 }
                s.add(sample)
                cmvn = s
                // Grus normalises padded rows too; only valid steps matter.
                fed = Tensor(shape: x.shape, data: s.apply(x.reshaped([36, 5])).data)
            }
            let probs = model.predict(SequenceBatch(features: fed, lengths: lengths))
            out.append(Case(name: name, model: model, cmvn: cmvn, inputs: ["features": tensorJSON(x), "lengths": lengths],
                            outputs: ["probabilities": tensorJSON(probs)]))
        }
        // Text classifier: one direction, last-state pooling.
        do {
            let config = ClassifierConfig(vocabSize: 20, encoder: GRUConfig(inputSize: 6, hiddenSize: 16, numLayers: 1), pooling: .last, numClasses: 4)
            let model = SequenceClassifier(config, rng: &rng)
            let ids = tokens(20, rng: &rng)
            let probs = model.predict(SequenceBatch(tokens: ids, steps: 9, lengths: lengths))
            out.append(Case(name: "classify_text_uni_last", model: model, cmvn: nil, inputs: ["tokens": ids, "lengths": lengths],
                            outputs: ["probabilities": tensorJSON(probs)]))
        }
        // Text tagger with a masked CRF (bidirectional, stacked).
        do {
            var config = TaggerConfig(vocabSize: 20, encoder: GRUConfig(inputSize: 6, hiddenSize: 8, numLayers: 2, bidirectional: true), numTags: 5, crf: true)
            config.allowed = (0..<25).map { $0 % 7 != 3 }
            config.allowedStart = [true, true, false, true, true]
            config.allowedEnd = [true, false, true, true, true]
            let model = SequenceTagger(config, rng: &rng)
            let ids = tokens(20, rng: &rng)
            let scores = model.forward(SequenceBatch(tokens: ids, steps: 9, lengths: lengths), training: false, keepForBackward: false, rng: &noRNG)
            func masked(_ p: Parameter, _ a: [Bool]?) -> Tensor {
                Tensor(shape: p.value.shape, data: p.value.data.enumerated().map { i, v in a.map { $0[i] } ?? true ? v : -Float.infinity })
            }
            let crf = model.crf!
            out.append(Case(name: "tag_text_bi2_crf", model: model, cmvn: nil, inputs: ["tokens": ids, "lengths": lengths],
                            outputs: ["scores": tensorJSON(scores.reshaped([9, 4, 5])),
                                      "transitions": tensorJSON(masked(crf.transitions, crf.allowed)),
                                      "start_transitions": tensorJSON(masked(crf.start, crf.allowedStart)),
                                      "end_transitions": tensorJSON(masked(crf.end, crf.allowedEnd))]))
        }
        // Joint intent + slots, Cho 2014 form.
        do {
            let tagger = TaggerConfig(vocabSize: 20, encoder: GRUConfig(inputSize: 6, hiddenSize: 16, numLayers: 1, bidirectional: true, form: .cho2014),
                                      numTags: 4)
            let model = JointModel(JointConfig(tagger: tagger, pooling: .max, numIntents: 3), rng: &rng)
            let ids = tokens(20, rng: &rng)
            let (intent, slots) = model.forward(SequenceBatch(tokens: ids, steps: 9, lengths: lengths), training: false, keepForBackward: false, rng: &noRNG)
            out.append(Case(name: "joint_text_bi_cho2014", model: model, cmvn: nil, inputs: ["tokens": ids, "lengths": lengths],
                            outputs: ["intent_probabilities": tensorJSON(softmaxRows(intent)), "slot_scores": tensorJSON(slots.reshaped([9, 4, 4]))]))
        }
        // CTC transcriber over audio frames stacked 3 at a time (bidirectional, stacked).
        do {
            let tagger = TaggerConfig(encoder: GRUConfig(inputSize: 15, hiddenSize: 16, numLayers: 2, bidirectional: true), numTags: 6)
            let model = Transcriber(TranscriberConfig(tagger: tagger, stackFrames: 3), rng: &rng)
            let (x, _) = audioBatch(5, rng: &rng)
            let (logits, steps) = model.forward(SequenceBatch(features: x, lengths: lengths), training: false, keepForBackward: false, rng: &noRNG)
            out.append(Case(name: "transcribe_stack3_bi2", model: model, cmvn: nil, inputs: ["features": tensorJSON(x), "lengths": lengths],
                            outputs: ["log_probs": tensorJSON(logSoftmaxRows(logits).reshaped([3, 4, 6])), "steps": steps]))
        }
        // An LSTM audio classifier (bidirectional, stacked; ONNX's LSTM operator).
        do {
            var encoder = GRUConfig(inputSize: 5, hiddenSize: 16, numLayers: 2, bidirectional: true)
            encoder.cell = .lstm
            let model = SequenceClassifier(ClassifierConfig(encoder: encoder, pooling: .mean, numClasses: 3), rng: &rng)
            let (x, _) = audioBatch(5, rng: &rng)
            let probs = model.predict(SequenceBatch(features: x, lengths: lengths))
            out.append(Case(name: "classify_lstm_bi2_mean", model: model, cmvn: nil, inputs: ["features": tensorJSON(x), "lengths": lengths],
                            outputs: ["probabilities": tensorJSON(probs)]))
        }
        // A text tagger with a character encoder (a BiGRU over each token's characters).
        do {
            let chars = CharEncoderConfig(alphabet: 12, dim: 4, hidden: 5)
            var config = TaggerConfig(vocabSize: 20, encoder: GRUConfig(inputSize: 6 + 10, hiddenSize: 8, numLayers: 1, bidirectional: true), numTags: 4)
            config.chars = chars
            let model = SequenceTagger(config, rng: &rng)
            let ids = tokens(20, rng: &rng)
            // Each real token slot gets 1-7 characters (ids 1...11); padding slots none.
            var perSlot = [[Int]](repeating: [], count: 36)
            for slot in 0..<36 where ids[slot] != 0 { perSlot[slot] = (0..<(1 + rng.int(below: 7))).map { _ in 1 + rng.int(below: 11) } }
            var batch = SequenceBatch(tokens: ids, steps: 9, lengths: lengths)
            batch.characters = perSlot
            let scores = model.forward(batch, training: false, keepForBackward: false, rng: &noRNG)
            let width = perSlot.map(\.count).max()!
            let padded = perSlot.flatMap { $0 + [Int](repeating: 0, count: width - $0.count) }
            out.append(Case(name: "tag_text_chars_bi", model: model, cmvn: nil,
                            inputs: ["tokens": ids, "lengths": lengths, "characters": ["shape": [36, width], "data": padded],
                                     "character_lengths": perSlot.map(\.count)],
                            outputs: ["scores": tensorJSON(scores.reshaped([9, 4, 4]))]))
        }
        return out
    }

    func fixtures() throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/onnx", withExtension: nil))
    }

    func testExportMatchesTheVerifiedFixtures() throws {
        let write = ProcessInfo.processInfo.environment["GRUS_WRITE_ONNX_FIXTURES"] == "1"
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/onnx")
        for c in Self.cases() {
            let (data, _) = try ONNXExport.serialize(c.model, task: c.name.components(separatedBy: "_")[0], labels: [], cmvn: c.cmvn, note: "test")
            let record: [String: Any] = ["inputs": c.inputs, "outputs": c.outputs]
            let json = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            if write {
                try data.write(to: source.appendingPathComponent(c.name + ".onnx"))
                try json.write(to: source.appendingPathComponent(c.name + ".json"))
                continue
            }
            let dir = try fixtures()
            let verified = try Data(contentsOf: dir.appendingPathComponent(c.name + ".onnx"))
            XCTAssertEqual(data, verified, "\(c.name): the export changed; rerun with GRUS_WRITE_ONNX_FIXTURES=1 and verify with check_onnx.py")
            // Grus's outputs are the ones onnxruntime was checked against.
            let stored = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(c.name + ".json"))) as? [String: Any])
            let outputs = try XCTUnwrap(stored["outputs"] as? [String: Any])
            for (k, v) in c.outputs {
                if let t = v as? [String: Any], let o = outputs[k] as? [String: Any] {
                    let a = Self.numbers(t["data"] as! [Any]), b = Self.numbers(o["data"] as! [Any])
                    XCTAssertEqual(a.count, b.count, "\(c.name) \(k)")
                    for (x, y) in zip(a, b) {
                        if x.isFinite { XCTAssertEqual(x, y, accuracy: 1e-6, "\(c.name) \(k)") } else { XCTAssertEqual(x, y, "\(c.name) \(k)") }
                    }
                } else {
                    XCTAssertEqual(v as? [Int], outputs[k] as? [Int], "\(c.name) \(k)")
                }
            }
        }
    }
}
