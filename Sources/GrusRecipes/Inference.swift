import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusNN
import GrusText

/// A trained model with its front end, for `grus eval` and `grus predict`. Inputs are processed
/// in chunks, features on both cores, so memory does not grow with the number of inputs.
public final class Predictor {
    public let bundle: ModelBundle
    let model: SequenceClassifier
    let audio: AudioFrontEnd?
    let chunk = 256

    /// `halfPrecision`: the GRU streams its recurrent weights as Float16 (faster at batch 1;
    /// probabilities move by about 1e-3).
    public init(modelPath: String, halfPrecision: Bool = false) throws {
        (bundle, model) = try ModelBundle.load(modelPath)
        model.encoder.halfPrecisionInference = halfPrecision
        if case let .audio(options, _, _) = bundle.frontEnd { audio = AudioFrontEnd(options) } else { audio = nil }
    }

    public var labels: [String] { bundle.labels }

    /// Features or token ids for one input (an audio path, or a text).
    func example(_ input: String, origin: String, label: String = "", split: Split = .test) throws -> Example {
        let item = Item(input: input, label: label, split: split, origin: origin)
        let index = bundle.labels.firstIndex(of: label) ?? -1
        switch bundle.frontEnd {
        case let .audio(_, cmvn, maxSeconds):
            var f = audio!.extractor.compute(try loadAudio(input, frontEnd: audio!, maxSeconds: maxSeconds))
            if let s = cmvn { f = s.apply(f) }
            return Example(item: item, label: index, features: f)
        case let .text(encoder):
            let ids = encoder.encode(input)
            if ids.isEmpty { throw CorpusError("\(origin): no tokens after normalisation") }
            return Example(item: item, label: index, tokens: ids)
        }
    }

    /// Probabilities for each input of a chunk, or the error that input met.
    func run(_ inputs: [(input: String, origin: String, label: String)]) -> [Result<(Example, [Float]), Error>] {
        var made = [Result<Example, Error>?](repeating: nil, count: inputs.count)
        made.withUnsafeMutableBufferPointer { mp in
            let out = mp.baseAddress!
            parallelFor(min(2, availableCores)) { k in
                for i in stride(from: k, to: inputs.count, by: 2) {
                    out[i] = Result { try self.example(inputs[i].input, origin: inputs[i].origin, label: inputs[i].label) }
                }
            }
        }
        let good = made.enumerated().compactMap { i, r -> (Int, Example)? in if case let .success(e)? = r { return (i, e) }; return nil }
        // Features are in memory here (no store), so batching cannot fail.
        let probs = good.isEmpty ? [] : try! predictAll(model, good.map(\.1), batchSize: 64)
        var results = made.map { r -> Result<(Example, [Float]), Error> in
            if case let .failure(e)? = r { return .failure(e) }
            return .failure(CorpusError("internal: no result"))
        }
        for (j, (i, e)) in good.enumerated() { results[i] = .success((e, probs[j])) }
        return results
    }

    /// Evaluates labelled items; labels the model does not know are counted, not scored.
    public func evaluate(_ items: [Item], topK: Int, predictions: URL?, log: (String) -> Void) throws -> (metrics: Metrics, bad: [BadInput]) {
        var truth: [Int] = [], scores: [[Float]] = [], bad: [BadInput] = [], unknown: [String: Int] = [:]
        // Predictions stream to a temporary file beside the target, renamed into place at the end.
        var out: FileHandle?
        var tmp: URL?
        if let url = predictions {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
            _ = FileManager.default.createFile(atPath: tmp!.path, contents: nil)
            out = try FileHandle(forWritingTo: tmp!)
        }
        defer { if let t = tmp, FileManager.default.fileExists(atPath: t.path) { try? FileManager.default.removeItem(at: t) } }
        for start in stride(from: 0, to: items.count, by: chunk) {
            let part = items[start..<min(start + chunk, items.count)]
            var lines = ""
            for (item, r) in zip(part, run(part.map { ($0.input, $0.origin, $0.label) })) {
                switch r {
                case let .failure(e): bad.append(BadInput(origin: item.origin, reason: "\(e)"))
                case let .success((ex, p)):
                    if ex.label < 0 { unknown[item.label, default: 0] += 1; continue }
                    truth.append(ex.label)
                    scores.append(p)
                    if predictions != nil {
                        let best = p.indices.max { p[$0] < p[$1] }!
                        let obj: [String: Any] = ["input": item.origin, "label": item.label, "prediction": labels[best], "probability": Double(p[best])]
                        lines += String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
                    }
                }
            }
            try out?.write(contentsOf: Data(lines.utf8))
            log("evaluated \(min(start + chunk, items.count))/\(items.count)")
        }
        if let url = predictions, let t = tmp, let h = out {
            try h.synchronize()
            try h.close()
            guard rename(t.path, url.path) == 0 else { throw GrusError.io(path: url.path, message: "cannot rename the predictions into place") }
        }
        var nll = 0.0
        for (t, p) in zip(truth, scores) { nll -= Foundation.log(max(Double(p[t]), 1e-12)) }
        var m = Metrics.compute(labels: labels, truth: truth, scores: scores, k: topK, loss: truth.isEmpty ? nil : nll / Double(truth.count))
        if !unknown.isEmpty { m.unknownLabels = unknown }
        return (m, bad)
    }

    /// Top-k labels and probabilities for unlabelled inputs, in order, chunk by chunk.
    public func predict(_ inputs: AnySequence<(input: String, origin: String)>, topK: Int,
                        each: (String, Result<[(String, Float)], Error>) -> Void) {
        var pending: [(input: String, origin: String)] = []
        func flush() {
            for (inp, r) in zip(pending, run(pending.map { ($0.input, $0.origin, "") })) {
                each(inp.origin, r.map { _, p in
                    p.indices.sorted { p[$0] > p[$1] }.prefix(topK).map { (labels[$0], p[$0]) }
                })
            }
            pending.removeAll(keepingCapacity: true)
        }
        for x in inputs {
            pending.append(x)
            if pending.count == chunk { flush() }
        }
        if !pending.isEmpty { flush() }
    }
}
