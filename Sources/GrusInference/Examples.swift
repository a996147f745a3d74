import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusNN
import GrusTasks

/// One item after its front end: token ids (text), or audio features [frames, dim] held either
/// here (`features`) or as entry `stored` of a FeatureStore.
package struct Example {
    package var item: Item
    package var features: Tensor?
    package var tokens: [Int]?
    /// Text with a character encoder: each token's character ids.
    package var chars: [[Int]]?
    package var stored: Int?
    package var frames = 0
    /// Text cut to the model's max_length: how many tokens the whole text has.
    package var truncatedFrom: Int?
    package var length: Int { features?.shape[0] ?? tokens?.count ?? frames }

    package init(item: Item, features: Tensor? = nil, tokens: [Int]? = nil, chars: [[Int]]? = nil, stored: Int? = nil, frames: Int = 0) {
        self.item = item
        self.features = features
        self.tokens = tokens
        self.chars = chars
        self.stored = stored
        self.frames = frames
    }

    package func audioFeatures(_ store: FeatureStore?) throws -> Tensor {
        if let f = features { return f }
        guard let k = stored, let store else { preconditionFailure("example \(item.origin) has no features") }
        return try store.read(k)
    }
}

/// Pads examples into a time-major batch; stored features are read from `store`, and
/// `transform` (training augmentation) may replace an example's features.
package func makeBatch(_ examples: [Example], _ indices: [Int], store: FeatureStore? = nil,
                       transform: ((Int, Tensor) throws -> Tensor)? = nil) throws -> SequenceBatch {
    if examples[indices[0]].tokens != nil {
        var batch = SequenceBatch.padding(indices.map { examples[$0].tokens! })
        if examples[indices[0]].chars != nil { batch.setCharacters(indices.map { examples[$0].chars ?? [] }) }
        return batch
    }
    let feats = try indices.map { i -> Tensor in
        let f = try examples[i].audioFeatures(store)
        return try transform?(i, f) ?? f
    }
    let t = feats.map { $0.shape[0] }.max()!, b = feats.count, d = feats[0].shape[1]
    var x = Tensor(zeros: [t, b, d])
    x.data.withUnsafeMutableBufferPointer { xp in
        for (j, f) in feats.enumerated() {
            f.data.withUnsafeBufferPointer { fp in
                for s in 0..<f.shape[0] { (xp.baseAddress! + (s * b + j) * d).update(from: fp.baseAddress! + s * d, count: d) }
            }
        }
    }
    return SequenceBatch(features: x, lengths: feats.map { $0.shape[0] })
}

/// The task's outputs for every example, in the examples' order, batched longest first.
/// In an MPI job each rank runs every size-th example (by length, so the work is even) and the
/// outputs are gathered on every rank.
package func predictAll<T: SequenceTask>(_ task: T, _ model: T.Model, _ examples: [Example], store: FeatureStore? = nil,
                                         batchSize: Int = 128) throws -> [T.Output] {
    var out = [T.Output?](repeating: nil, count: examples.count)
    var order = examples.indices.sorted { examples[$0].length > examples[$1].length }
    if Distributed.active { order = stride(from: Distributed.rank, to: order.count, by: Distributed.size).map { order[$0] } }
    for start in stride(from: 0, to: order.count, by: batchSize) {
        let idx = Array(order[start..<min(start + batchSize, order.count)])
        for (o, i) in zip(task.outputs(model, try makeBatch(examples, idx, store: store)), idx) { out[i] = o }
    }
    if Distributed.active { try gatherOutputs(&out, mine: order) }
    return out.map { $0! }
}

/// The outputs of several models of one task and architecture, averaged before the decision:
/// each batch's scores (`AveragingTask.scores`) are summed over the models, divided by their
/// number and turned into outputs.
package func predictAveraged<T: AveragingTask>(_ task: T, _ models: [T.Model], _ examples: [Example], batchSize: Int = 128) throws -> [T.Output] {
    var out = [T.Output?](repeating: nil, count: examples.count)
    let order = examples.indices.sorted { examples[$0].length > examples[$1].length }
    for start in stride(from: 0, to: order.count, by: batchSize) {
        let idx = Array(order[start..<min(start + batchSize, order.count)])
        let batch = try makeBatch(examples, idx, store: nil)
        var sum = task.scores(models[0], batch)
        for m in models.dropFirst() {
            for (k, s) in task.scores(m, batch).enumerated() { for j in s.indices { sum[k][j] += s[j] } }
        }
        let n = Float(models.count)
        for (k, i) in idx.enumerated() { out[i] = task.output(averaged: sum[k].map { $0 / n }, model: models[0]) }
    }
    return out.map { $0! }
}

/// One rank's share of the outputs: example indices and what the model gave for them.
package struct OutputPart<O: Codable>: Codable { var indices: [Int]; var outputs: [O] }

/// Fills `out` with every rank's outputs (each rank sends the indices and outputs it computed).
package func gatherOutputs<O: Codable>(_ out: inout [O?], mine: [Int]) throws {
    let enc = JSONEncoder(), dec = JSONDecoder()
    enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let part = OutputPart(indices: mine, outputs: mine.map { out[$0]! })
    for bytes in Distributed.allgather(Array(try enc.encode(part))) {
        let p = try dec.decode(OutputPart<O>.self, from: Data(bytes))
        for (i, o) in zip(p.indices, p.outputs) { out[i] = o }
    }
}

/// Scores examples: known targets are scored, unknown labels counted. Returns the report and
/// the outputs of the scored examples (in order), for predictions.
package func evaluate<T: SequenceTask>(_ task: T, _ model: T.Model, _ examples: [Example], store: FeatureStore?,
                                       topK: Int) throws -> (report: T.Report, scored: [(Example, T.Target, T.Output)]) {
    var known: [(Example, T.Target)] = [], unknown: [String: Int] = [:]
    for e in examples {
        if let t = task.target(e.item) { known.append((e, t)) } else { for l in task.unknownLabels(e.item) { unknown[l, default: 0] += 1 } }
    }
    let outputs = try predictAll(task, model, known.map(\.0), store: store)
    let report = task.report(known.map(\.1), outputs, unknown: unknown, topK: topK)
    return (report, zip(known, outputs).map { ($0.0, $0.1, $1) })
}

/// One line of predictions.jsonl: the input, its gold label, and the task's prediction fields.
package func predictionLine<T: SequenceTask>(_ task: T, item: Item, output: T.Output, topK: Int) throws -> String {
    var record = task.predictionRecord(output, topK: topK)
    record["input"] = item.origin
    record["label"] = item.label
    if let tags = item.tags { record["gold_tags"] = tags; record["tokens"] = item.tokens ?? [] }
    return String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
}

/// Reads the audio of an item at the front end's rate, cropped to `maxSeconds` (0 = no limit);
/// `segment` k reads the k-th `maxSeconds` stretch instead (long files split into examples).
package func loadAudio(_ path: String, frontEnd: AudioFrontEnd, maxSeconds: Double, segment: Int? = nil) throws -> [Float] {
    let rate = frontEnd.options.frame.sampleRate
    let start = Double(segment ?? 0) * maxSeconds
    var samples = try frontEnd.load(path, maxSeconds: maxSeconds > 0 ? maxSeconds : nil, startSeconds: start).samples
    if maxSeconds > 0 { samples = Array(samples.prefix(Int(maxSeconds * Double(rate)))) }
    let minimum = frontEnd.options.frame.windowLength
    if samples.count < minimum {
        throw AudioError.invalidSamples(path: path, reason: "too short: \(samples.count) samples at \(rate) Hz, one frame needs \(minimum)")
    }
    return samples
}
