import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusInference
import GrusNN
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain
import GrusText

/// The prepare stage's result: every item with its split, the inputs that could not be used,
/// the task with its label inventory, and (audio) the rate features are computed at.
package struct PreparedCorpus<T: TrainableTask> {
    package var items: [Item]
    package var bad: [BadInput]
    package var task: T
    package var sampleRate: Int
}

/// The train stage's result: the model with the best dev weights, and what model.json says of it.
package struct TrainedModel<T: TrainableTask> {
    package var model: T.Model
    package var bundle: ModelBundle<T>
}

/// The four stages of `grus run` for one task. Each takes the previous stage's value and returns
/// its own; `Experiment` decides which to run and which to reuse.
package struct Stages<T: TrainableTask> {
    package let recipe: Recipe
    package let recipeFile: String
    package let folder: URL
    package let log: RunLog

    package var cache: URL { folder.appendingPathComponent("cache") }

    // MARK: prepare

    package func prepare() throws -> PreparedCorpus<T> {
        // Corpora made on first use (and 12-class silence clips) are made by rank 0 of an MPI job.
        let (items, bad) = try Distributed.writerFirst { try CorpusSource(recipe, scratch: cache, test: recipe.evaluation.splits.contains(.test)).read(log: log.callAsFunction) }
        if recipe.frontend.type == .audio && recipe.frontend.audio.cmvn == .speaker && !items.contains(where: { $0.speaker != nil }) {
            throw RecipeError(issues: [RecipeIssue(file: recipeFile, keyPath: "frontend.audio.cmvn",
                message: "speaker CMVN needs to know each input's speaker, and \(recipe.corpus.path) names none (a manifest names them in a 'speaker' column); use utterance or global")])
        }
        let task: T
        do { task = try T.fromTraining(items.filter { $0.split == .train }, corpus: recipe.corpus.path) } catch let e as CorpusError where !bad.isEmpty {
            // Say why: a corpus whose lines could not be read has nothing to learn from.
            throw CorpusError("\(e.message); \(bad.count) input(s) could not be used, the first: \(bad[0])")
        }
        let counts = Dictionary(grouping: items, by: \.split).mapValues(\.count)
        log("prepare: \(items.count) items (train \(counts[.train] ?? 0), dev \(counts[.dev] ?? 0), test \(counts[.test] ?? 0)), \(task.labels.count) labels")
        return PreparedCorpus(items: items, bad: bad, task: task, sampleRate: recipe.frontend.type == .audio ? try featureRate(items) : 0)
    }

    /// `frontend.audio.sample_rate`, or the training audio's own rate for `native`. Computing
    /// features above the audio's rate is refused: those bins would hold only resampler noise.
    package func featureRate(_ items: [Item]) throws -> Int {
        let native = try AudioRates.native(of: items)
        let asked = recipe.frontend.audio.sampleRate
        if asked == 0 {
            log("features at the audio's native rate, \(native.rate) Hz")
            return native.rate
        }
        if asked > native.rate {
            throw RecipeError(issues: [RecipeIssue(file: recipeFile, keyPath: "frontend.audio.sample_rate",
                message: "\(asked) Hz is above the audio's own rate (\(native.rate) Hz, e.g. \(native.example)); bins above \(native.rate / 2) Hz would hold only resampler noise. Use 'native' or at most \(native.rate)")])
        }
        return asked
    }

    // MARK: features

    /// Inputs of the features stage, the shared cache's key: corpus and front-end settings, and
    /// every item's split, label, origin and content identity. The seed is not among them (it
    /// acts through the splits, which are), so the runs of `--seeds N` share their features.
    package func featureKey(_ p: PreparedCorpus<T>) -> String {
        let audio = recipe.frontend.type == .audio
        return StageKey.hash([recipe.corpus, recipe.frontend, p.sampleRate, recipe.model.charEncoder.dim > 0,
                              p.items.map { "\($0.split.rawValue)\t\($0.label)\t\($0.origin)\t\(InputIdentity.of($0, audio: audio))" }] as [Any])
    }

    package func audioSetup(_ p: PreparedCorpus<T>) throws -> (AudioSetup, [BadInput])? {
        guard recipe.frontend.type == .audio else { return nil }
        return try AudioSetup.make(recipe.frontend.audio, rate: p.sampleRate, maxSeconds: recipe.corpus.maxSeconds, recipeFile: recipeFile)
    }

    package func features(_ p: PreparedCorpus<T>, audio: AudioSetup?, into cache: FeatureCache) throws -> FeatureSet {
        let t0 = Date()
        RunEvents.reach(.features)
        var set: FeatureSet
        if let audio {
            let r = try audio.extract(p.items, to: cache.binURL)
            if r.cropped > 0 {
                log("features: \(r.cropped) file(s) longer than corpus.max_seconds (\(audio.maxSeconds) s) were cropped to it; corpus.long_audio: split keeps all of it as several examples")
            }
            set = FeatureSet(examples: r.examples, bad: p.bad + r.bad, store: r.store,
                             frontEnd: .audio(options: audio.frontEnd.options, cmvn: r.cmvn, maxSeconds: audio.maxSeconds))
        } else {
            let r = TextFeatures.encode(p.items, settings: recipe.frontend.text.settings, characters: recipe.model.charEncoder.dim > 0,
                                        log: log.callAsFunction)
            set = FeatureSet(examples: r.examples, bad: p.bad + r.bad, store: nil, frontEnd: .text(r.encoder))
        }
        let lengths = set.examples.map(\.length)
        log(String(format: "features: %d examples in %.1f s; lengths %d-%d; peak memory %.0f MB", set.examples.count, Date().timeIntervalSince(t0),
                   lengths.min() ?? 0, lengths.max() ?? 0, peakMemoryMB()))
        try cache.save(set, corpus: recipe.corpus.path)
        return set
    }

    /// Applies the bad-input policy: fail lists every bad item; skip writes bad-inputs.jsonl.
    package func handleBadInputs(_ bad: [BadInput]) throws {
        let url = folder.appendingPathComponent("bad-inputs.jsonl")
        guard !bad.isEmpty else { if Distributed.isWriter { try? FileManager.default.removeItem(at: url) }; return }
        let failing = bad.filter { $0.byPolicy != true }
        if recipe.corpus.onBadInput == .fail && !failing.isEmpty {
            let list = failing.prefix(50).map { "  \($0)" }.joined(separator: "\n")
            throw CorpusError("\(failing.count) bad input(s); fix them or set corpus.on_bad_input: skip\n\(list)" + (failing.count > 50 ? "\n  ..." : ""))
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try bad.map { String(decoding: try enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n", to: url)
        log("skipped \(bad.count) bad input(s), listed in bad-inputs.jsonl")
    }

    // MARK: train

    package func train(_ p: PreparedCorpus<T>, _ data: FeatureSet, audio: AudioSetup?, resume: Bool) throws -> TrainedModel<T> {
        BLAS.configureOnce()
        var rng = RNG(seed: UInt64(recipe.experiment.seed))
        let (model, inputNote) = try makeModel(p.task, data, rng: &rng)
        if let inputNote { log(inputNote) }
        if !recipe.model.initFrom.isEmpty {
            for line in try Transfer.initialise(model, task: T.name, labels: p.task.labels, frontEnd: data.frontEnd, recipe: recipe, recipeFile: recipeFile) {
                log(line)
            }
        }
        let bundle = ModelBundle<T>(labels: p.task.labels, architecture: model.config, frontEnd: data.frontEnd)
        try Trainer(task: p.task, model: model, rng: rng.fork(), options: recipe.training, seed: recipe.experiment.seed,
                    topK: recipe.evaluation.topK, prefixClips: recipe.frontend.audio.augment.prefixClips, data: data, audio: audio,
                    folder: folder, observer: RunObserver(log: log, folder: folder)).run(resume: resume)
        try bundle.save(model: model, to: folder.appendingPathComponent("model"))
        return TrainedModel(model: model, bundle: bundle)
    }

    /// The task's model on this front end, with pretrained vectors loaded into the embedding.
    package func makeModel(_ task: T, _ data: FeatureSet, rng: inout RNG) throws -> (T.Model, String?) {
        var inputSize = data.featureDimension ?? recipe.model.embeddingDim
        var vectors: PretrainedVectors?
        let text = recipe.frontend.text
        if let enc = data.textEncoder, !text.pretrainedVectors.isEmpty {
            let v = try PretrainedVectors.load(text.pretrainedVectors, only: Set(enc.vocabulary.tokens))
            inputSize = v.dimension
            vectors = v
        }
        let spec = ModelSpec(vocabularySize: data.textEncoder?.vocabulary.count, encoder: recipe.model.encoder.gruConfig(inputSize: inputSize),
                             head: recipe.model.headOptions, alphabetSize: data.textEncoder?.characters?.count, beamWidth: recipe.evaluation.beamWidth,
                             trainingTags: data.examples.compactMap { $0.item.split == .train ? $0.item.tags : nil })
        let model = task.makeModel(spec, rng: &rng)
        guard let v = vectors, let enc = data.textEncoder, let emb = model.embedding else { return (model, nil) }
        let (rows, found) = v.matrix(for: enc.vocabulary) { _ in (0..<v.dimension).map { _ in 0.1 * rng.normal() } }
        emb.load(rows: rows, freeze: text.freezeEmbeddings)
        return (model, String(format: "pretrained vectors: %d of %d vocabulary entries covered (%.1f%%)", found, enc.vocabulary.count,
                              100 * Double(found) / Double(enc.vocabulary.count)))
    }

    // MARK: evaluate

    /// Evaluates the splits the recipe names; dev-metrics.json for dev, metrics.json for the last
    /// split present (test when it has examples), predictions.jsonl for that same split.
    package func evaluate(_ trained: TrainedModel<T>, _ data: FeatureSet) throws -> T.Report {
        let task = T(labels: trained.bundle.labels)
        var final: (Split, T.Report, [(Example, T.Target, T.Output)])?
        for split in recipe.evaluation.splits {
            let subset = data.examples.filter { $0.item.split == split }
            if subset.isEmpty { continue }
            var (report, scored) = try GrusInference.evaluate(task, trained.model, subset, store: data.store, topK: recipe.evaluation.topK)
            report.split = split.rawValue
            log(report.table(title: split.rawValue))
            if split == .dev { try AtomicFile.write(try report.json(), to: folder.appendingPathComponent("dev-metrics.json")) }
            if final == nil || split == .test { final = (split, report, scored) }
        }
        guard let (split, report, scored) = final else {
            throw CorpusError("no dev or test examples to evaluate (evaluation.splits: \(recipe.evaluation.splits.map(\.rawValue).joined(separator: ", ")))")
        }
        try AtomicFile.write(try report.json(), to: folder.appendingPathComponent("metrics.json"))
        let lines = try scored.map { try predictionLine(task, item: $0.0.item, output: $0.2, topK: recipe.evaluation.topK) }
        try AtomicFile.write(lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n"), to: folder.appendingPathComponent("predictions.jsonl"))
        log("metrics.json and predictions.jsonl describe the \(split.rawValue) split")
        return report
    }
}
