import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusNN
import GrusTasks
import GrusText

/// A trained model loaded with its front end, whatever its task: what `grus predict`, `grus eval`
/// and programs use. `Models.load` opens one; `label(_:)` and `label(samples:sampleRate:)` label
/// one input.
public protocol LoadedModel: AnyObject {
    /// The task it was trained for (one of `Tasks.names`).
    var taskName: String { get }
    /// Its label inventory (tags, intents as "intent=X", CTC tokens after "<blank>").
    var labels: [String] { get }
    /// The front end its inputs go through: audio features with their normalisation, or the tokenizer.
    var frontEnd: ModelFrontEnd { get }
    /// Evaluates labelled items; labels the model does not know are counted, not scored.
    /// `predictions` receives one JSON line per scored input (written atomically).
    func evaluate(_ items: [Item], topK: Int, predictions: URL?, log: (String) -> Void) throws -> (report: any TaskReport, bad: [BadInput])
    /// Speaker CMVN: treat every input of the call as one speaker's (statistics pooled over them).
    var oneSpeaker: Bool { get set }
    /// Averages `other`'s outputs with this model's from now on (an ensemble); refused unless
    /// task, labels, architecture and front end agree.
    func join(_ other: any LoadedModel, path: String) throws
    /// Labels unlabelled inputs in order: a plain-text line and a JSON record per input, or its error.
    func predict(_ inputs: AnySequence<(input: String, origin: String)>, topK: Int,
                 each: (String, Result<(text: String, record: [String: Any]), Error>) -> Void)
    /// Labels audio held in memory: mono samples in [-1, 1] at `sampleRate` (resampled to the
    /// model's rate, cropped as in training). Text models refuse it.
    func label(samples: [Float], sampleRate: Int, topK: Int) throws -> Prediction
}

/// Opens trained models.
public enum Models {
    /// Loads an experiment folder (or its model/) for whichever task wrote it. `halfPrecision`:
    /// the GRU streams its recurrent weights as Float16 (faster at batch 1; outputs move by about 1e-3).
    public static func load(_ path: String, halfPrecision: Bool = false) throws -> any LoadedModel {
        let folder = try ModelFolder.locate(path)
        return try open(folder.task, folder, halfPrecision: halfPrecision)
    }

    /// Several models of one task, labels, architecture and front end (seeds of one recipe) whose
    /// outputs are averaged: class probabilities, or CTC's per-step posteriors before decoding.
    public static func load(_ paths: [String], halfPrecision: Bool = false) throws -> any LoadedModel {
        let first = try load(paths[0], halfPrecision: halfPrecision)
        for p in paths.dropFirst() { try first.join(try load(p, halfPrecision: halfPrecision), path: p) }
        return first
    }

    /// The task a model folder was trained for (one of `Tasks.names`).
    public static func task(at path: String) throws -> String { try ModelFolder.locate(path).task.name }

    package static func open<T: SequenceTask>(_: T.Type, _ folder: ModelFolder, halfPrecision: Bool) throws -> any LoadedModel {
        try Predictor<T>(folder, halfPrecision: halfPrecision)
    }
}

/// Inputs are processed in chunks, features on `Threads.count` threads, so memory does not grow
/// with the number of inputs.
package final class Predictor<T: SequenceTask>: LoadedModel {
    package let bundle: ModelBundle<T>
    package let task: T
    package let model: T.Model
    package let audio: AudioFrontEnd?
    package let chunk = 256
    /// Speaker CMVN: each speaker's statistics over the inputs being evaluated, by
    /// `SpeakerCMVN.group`. An input with no statistics here is normalised over itself.
    package var speakerStats: [String: CMVNStats] = [:]
    package var oneSpeaker = false
    /// Ensemble: every model whose outputs are averaged, this one first.
    package var members: [T.Model]

    package func join(_ other: any LoadedModel, path: String) throws {
        guard let o = other as? Predictor<T> else {
            throw CorpusError("\(path): a \(other.taskName) model cannot be averaged with a \(T.name) model")
        }
        guard T.self is any AveragingTask.Type else {
            let can = Tasks.all.filter { $0 is any AveragingTask.Type }.map { $0.name }.joined(separator: " and ")
            throw CorpusError("\(path): \(T.name) outputs cannot be averaged (\(can) can)")
        }
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        guard o.bundle.labels == bundle.labels, o.bundle.architecture == bundle.architecture,
              try enc.encode(o.bundle.frontEnd) == enc.encode(bundle.frontEnd) else {
            throw CorpusError("\(path): an ensemble needs the same labels, architecture and front end (seeds of one recipe); this model differs")
        }
        members.append(o.model)
    }

    /// Outputs of the examples: this model's, or the ensemble's averaged.
    package func outputs(_ examples: [Example]) throws -> [T.Output] {
        members.count == 1 ? try predictAll(task, model, examples) : try averaged(examples)
    }

    /// The ensemble's outputs (`join` admits only tasks that average).
    func averaged(_ examples: [Example]) throws -> [T.Output] {
        func run<A: AveragingTask>(_: A.Type) throws -> [T.Output] {
            try predictAveraged(task as! A, members as! [A.Model], examples).map { $0 as! T.Output }
        }
        guard let a = T.self as? any AveragingTask.Type else { preconditionFailure("\(T.name) outputs cannot be averaged") }
        return try run(a)
    }

    /// The speaker CMVN group of an input at inference.
    package func group(_ item: Item) -> String { oneSpeaker ? "one speaker" : SpeakerCMVN.group(item) }

    package init(_ folder: ModelFolder, halfPrecision: Bool) throws {
        (bundle, model) = try ModelBundle<T>.load(folder)
        members = [model]
        task = T(labels: bundle.labels)
        model.encoder.halfPrecisionInference = halfPrecision
        if case let .audio(options, _, _) = bundle.frontEnd { audio = try AudioFrontEnd(options) } else { audio = nil }
    }

    package var taskName: String { T.name }
    package var labels: [String] { bundle.labels }
    package var frontEnd: ModelFrontEnd { bundle.frontEnd }

    /// Features or token ids for one input (an audio path, or a text).
    package func example(_ item: Item) throws -> Example {
        switch bundle.frontEnd {
        case let .audio(_, _, maxSeconds):
            return audioExample(item, samples: try loadAudio(item.input, frontEnd: audio!, maxSeconds: maxSeconds))
        case let .text(encoder):
            let ids = encoder.encode(item.input)
            if ids.isEmpty { throw CorpusError("\(item.origin): no tokens after normalisation") }
            var example = Example(item: item, tokens: ids)
            if let m = encoder.maxLength, ids.count == m {
                // Cut to the model's max_length: the whole text's length, so the prediction can say so.
                var whole = encoder
                whole.maxLength = nil
                let n = whole.encode(item.input).count
                if n > m { example.truncatedFrom = n }
            }
            if encoder.characters != nil { example.chars = encoder.characterIDs(item.input) }
            return example
        }
    }

    /// The example of audio already read (at the model's rate, cropped): features and CMVN.
    package func audioExample(_ item: Item, samples: [Float]) -> Example {
        guard case let .audio(options, cmvn, _) = bundle.frontEnd, let audio else { preconditionFailure("not an audio model") }
        var f = audio.extractor.compute(samples)
        if let s = cmvn { f = s.apply(f) }
        if options.cmvn == .speaker {
            var own = SpeakerCMVN.emptyStats(f.shape[1])
            own.add(f)
            f = (speakerStats[group(item)] ?? own).apply(f)
        }
        return Example(item: item, features: f)
    }

    /// The examples of a chunk (features in memory), or the error each input met.
    package func examples(_ items: [Item]) -> [Result<Example, Error>] {
        var made = [Result<Example, Error>?](repeating: nil, count: items.count)
        made.withUnsafeMutableBufferPointer { mp in
            let out = mp.baseAddress!
            Threads.forEach(items.count) { i in out[i] = Result { try self.example(items[i]) } }
        }
        return made.map { $0! }
    }

    /// Speaker CMVN: a first pass over the inputs' audio gathers each speaker's statistics.
    package func gatherSpeakerStats(_ items: [Item], log: (String) -> Void) {
        guard case let .audio(options, _, maxSeconds) = bundle.frontEnd, options.cmvn == .speaker, let audio else { return }
        speakerStats = [:]
        for start in stride(from: 0, to: items.count, by: chunk) {
            let part = Array(items[start..<min(start + chunk, items.count)])
            var feats = [Tensor?](repeating: nil, count: part.count)
            feats.withUnsafeMutableBufferPointer { fp in
                let out = fp.baseAddress!
                Threads.forEach(part.count) { i in out[i] = try? audio.extractor.compute(loadAudio(part[i].input, frontEnd: audio, maxSeconds: maxSeconds)) }
            }
            for (item, f) in zip(part, feats) {
                if let f { speakerStats[group(item), default: SpeakerCMVN.emptyStats(options.dimension)].add(f) }
            }
        }
        if oneSpeaker { log("speaker CMVN: statistics of all \(items.count) inputs, as one speaker's"); return }
        let named = Set(items.compactMap(\.speaker)).count
        log("speaker CMVN: statistics of \(named) speaker(s)" + (items.contains { $0.speaker == nil } ? "; inputs with no speaker are normalised over themselves (--one-speaker pools them)" : ""))
    }

    package func evaluate(_ items: [Item], topK: Int, predictions: URL?, log: (String) -> Void) throws -> (report: any TaskReport, bad: [BadInput]) {
        gatherSpeakerStats(items, log: log)
        var targets: [T.Target] = [], outputs: [T.Output] = [], bad: [BadInput] = [], unknown: [String: Int] = [:]
        let writer = try predictions.map { try AtomicFile.Writer($0) }
        do {
            for start in stride(from: 0, to: items.count, by: chunk) {
                var good: [Example] = []
                for (item, r) in zip(items[start..<min(start + chunk, items.count)], examples(Array(items[start..<min(start + chunk, items.count)]))) {
                    switch r {
                    case let .failure(e): bad.append(BadInput(origin: item.origin, reason: "\(e)"))
                    case let .success(ex):
                        if task.target(item) == nil { for l in task.unknownLabels(item) { unknown[l, default: 0] += 1 } } else { good.append(ex) }
                    }
                }
                let out = try self.outputs(good)
                var lines = ""
                for (ex, o) in zip(good, out) {
                    targets.append(task.target(ex.item)!)
                    outputs.append(o)
                    if writer != nil { lines += try predictionLine(task, item: ex.item, output: o, topK: topK) + "\n" }
                }
                try writer?.append(Data(lines.utf8))
                log("evaluated \(min(start + chunk, items.count))/\(items.count)")
            }
            try writer?.commit()
        } catch {
            writer?.abort()
            throw error
        }
        return (task.report(targets, outputs, unknown: unknown, topK: topK), bad)
    }

    package func predict(_ inputs: AnySequence<(input: String, origin: String)>, topK: Int,
                         each: (String, Result<(text: String, record: [String: Any]), Error>) -> Void) {
        var pending: [Item] = []
        func flush() {
            let made = examples(pending)
            let good = made.compactMap { try? $0.get() }
            // Features are in memory here (no store), so batching cannot fail.
            var outputs = (try? self.outputs(good))?.makeIterator()
            for (item, r) in zip(pending, made) {
                each(item.origin, r.map { example in
                    let o = outputs!.next()!
                    var text = task.predictionText(o, topK: topK), record = task.predictionRecord(o, topK: topK)
                    if let n = example.truncatedFrom, let kept = example.tokens?.count {
                        // Never silently: the text was cut to the model's max_length.
                        record["truncated"] = ["kept_tokens": kept, "tokens": n]
                        text += "\t(truncated: the model read \(kept) of \(n) tokens)"
                    }
                    return (text, record)
                })
            }
            pending.removeAll(keepingCapacity: true)
        }
        if oneSpeaker, case let .audio(options, _, _) = bundle.frontEnd, options.cmvn == .speaker {
            // All inputs first: their statistics normalise each of them.
            let all = inputs.map { Item(input: $0.input, label: "", split: .test, origin: $0.origin) }
            gatherSpeakerStats(all) { _ in }
            for start in stride(from: 0, to: all.count, by: chunk) {
                pending = Array(all[start..<min(start + chunk, all.count)])
                flush()
            }
            return
        }
        for x in inputs {
            pending.append(Item(input: x.input, label: "", split: .test, origin: x.origin))
            if pending.count == chunk { flush() }
        }
        if !pending.isEmpty { flush() }
    }
}
