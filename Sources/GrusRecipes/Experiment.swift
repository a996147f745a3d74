import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusNN
import GrusText

/// Writes to the console and appends to the experiment's log.txt. On a terminal, `progress`
/// redraws one status line (not logged); without one, progress goes through `callAsFunction`
/// every `log_every` steps instead.
final class RunLog {
    let terminal = isatty(STDOUT_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var drawn = false

    func progress(_ line: @autoclosure () -> String, force: Bool = false) {
        guard terminal, force || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let text = line()
        print("\r" + text + "\u{1B}[K", terminator: "")
        fflush(stdout)
        drawn = true
    }

    private func clearProgress() {
        if drawn { print("\r\u{1B}[K", terminator: ""); drawn = false }
    }

    let handle: FileHandle?
    init(_ url: URL) {
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        handle = try? FileHandle(forWritingTo: url)
        _ = try? handle?.seekToEnd()
    }
    func callAsFunction(_ line: String) {
        clearProgress()
        print(line)
        fflush(stdout)
        handle?.write(Data((line + "\n").utf8))
    }
}

/// Fault injection for the kill-and-resume tests: GRUS_FAULT=step:N (after N optimiser steps),
/// checkpoint:N (during the N-th checkpoint write, after the temporary file, before the rename)
/// or eval:N (during the N-th dev evaluation) makes the process kill itself with SIGKILL.
enum Fault {
    static let spec: (kind: String, n: Int)? = {
        guard let v = ProcessInfo.processInfo.environment["GRUS_FAULT"], let c = v.firstIndex(of: ":"), let n = Int(v[v.index(after: c)...]) else { return nil }
        return (String(v[..<c]), n)
    }()
    nonisolated(unsafe) static var counts: [String: Int] = [:]

    static func point(_ kind: String) {
        guard let s = spec, s.kind == kind else { return }
        counts[kind, default: 0] += 1
        if counts[kind] == s.n { kill(getpid(), SIGKILL) }
    }
}

/// `grus run`: prepare → features → train → evaluate, leaving an experiment folder:
/// recipe.yaml, model/, checkpoints/, metrics.json, dev-metrics.json, predictions.jsonl,
/// train-log.csv, log.txt (and bad-inputs.jsonl when inputs were skipped).
public final class Experiment {
    public let recipe: Recipe
    public let folder: URL
    let resolvedYAML: String
    let log: RunLog
    var labels: [String] = []
    var examples: [Example] = []
    var bad: [BadInput] = []
    var bundle: ModelBundle!
    var audioFrontEnd: AudioFrontEnd?
    var augmenter: Augmenter?
    var cmvn: CMVNStats?
    var store: FeatureStore?

    public init(_ loaded: RecipeLoader.Loaded, out: String? = nil) throws {
        recipe = loaded.recipe
        resolvedYAML = loaded.resolvedYAML
        folder = URL(fileURLWithPath: out ?? recipe.experiment.out)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        for sub in ["", "checkpoints", "model", "cache"] { AtomicFile.removeLeftovers(in: folder.appendingPathComponent(sub)) }
        if Fault.spec?.kind == "checkpoint" {
            AtomicFile.beforeRename = { url in if url.lastPathComponent == "last.safetensors" { Fault.point("checkpoint") } }
        }
        try AtomicFile.write(resolvedYAML, to: folder.appendingPathComponent("recipe.yaml"))
        log = RunLog(folder.appendingPathComponent("log.txt"))
    }

    public enum Stage: Int, CaseIterable, Comparable {
        case prepare, features, train, evaluate
        public static func < (a: Stage, b: Stage) -> Bool { a.rawValue < b.rawValue }
        public var name: String { ["prepare", "features", "train", "evaluate"][rawValue] }
        public init?(name: String) { guard let s = Stage.allCases.first(where: { $0.name == name }) else { return nil }; self = s }
    }

    /// Runs the stages through `stopAfter`. A finished stage whose outputs exist for the same
    /// inputs (keys in cache/) is loaded instead of run, unless `from` asks to rerun it (and every
    /// stage after it). `resume` continues training from checkpoints/last. Returns the evaluation
    /// metrics (nil when stopping earlier).
    @discardableResult
    public func run(resume: Bool = false, from: Stage? = nil, stopAfter: Stage = .evaluate) throws -> Metrics? {
        func reuse(_ s: Stage) -> Bool { from.map { $0 > s } ?? true }
        let t0 = Date()
        log("experiment folder: \(folder.path)")
        try prepare()
        if stopAfter == .prepare { return nil }
        let cache = FeatureCache(folder: folder.appendingPathComponent("cache"), key: featureKey())
        if recipe.frontend.type == "audio" { try setUpAudio() }
        let cached = reuse(.features) ? try cache.load(into: self) : false
        if !cached {
            cache.invalidate()
            try features(cache)
            try cache.save(from: self)
        } else {
            log("features: \(examples.count) examples from the cache (inputs unchanged)")
        }
        try handleBadInputs()
        if stopAfter == .features { return nil }
        let trainKey = StageKey.hash([featureKey(), recipe.model, recipe.training, recipe.experiment.seed])
        let trainStamp = folder.appendingPathComponent("cache/train.json")
        let model: SequenceClassifier
        if reuse(.train) && !resume, StageKey.read(trainStamp) == trainKey, let done = try? ModelBundle.load(folder.path) {
            model = done.model
            bundle = done.bundle
            log("train: model from \(folder.path)/model (inputs unchanged)")
        } else {
            model = try train(resume: resume)
            try StageKey.write(trainKey, to: trainStamp)
        }
        if stopAfter == .train { return nil }
        let evalKey = StageKey.hash([trainKey, recipe.evaluation])
        let evalStamp = folder.appendingPathComponent("cache/evaluate.json")
        let metricsURL = folder.appendingPathComponent("metrics.json")
        if reuse(.evaluate), StageKey.read(evalStamp) == evalKey, let data = readWholeFile(metricsURL.path),
           let stored = try? JSONDecoder().decode(Metrics.self, from: data) {
            log(stored.table(title: "metrics.json (inputs unchanged)"))
            log(String(format: "done in %.1f s (peak memory %.0f MB); experiment folder: %@", Date().timeIntervalSince(t0), peakMemoryMB(), folder.path))
            return stored
        }
        let metrics = try evaluate(model)
        try StageKey.write(evalKey, to: evalStamp)
        log(String(format: "done in %.1f s (peak memory %.0f MB); experiment folder: %@", Date().timeIntervalSince(t0), peakMemoryMB(), folder.path))
        return metrics
    }

    /// Inputs of the features stage: the corpus as read, the corpus and front-end settings.
    func featureKey() -> String {
        StageKey.hash([recipe.corpus, recipe.frontend, recipe.experiment.seed,
                       examples.map { "\($0.item.split.rawValue)\t\($0.item.label)\t\($0.item.origin)" }] as [Any])
    }

    // MARK: prepare

    func prepare() throws {
        let c = recipe.corpus
        var items: [Item] = []
        switch c.format {
        case "fsdd":
            let r = try CorpusReader.fsdd(c.path, testSpeaker: c.split == "speaker" ? c.testSpeaker : nil)
            items = r.items; bad += r.bad
        case "speech_commands", "synthetic_speech_commands":
            if c.format == "synthetic_speech_commands" {
                var settings = SyntheticSpeechCommands.Settings()
                settings.seed = UInt64(recipe.experiment.seed)
                try SyntheticSpeechCommands.ensure(c.path, settings: settings) { self.log($0) }
            }
            let r = try CorpusReader.speechCommands(c.path)
            items = r.items; bad += r.bad
            if c.twelveClass { items = try twelveClass(items, corpus: c.path) }
        case "manifest":
            let audio = recipe.frontend.type == "audio"
            let r = try CorpusReader.manifest(c.path, inputColumn: audio ? c.pathColumn : c.textColumn, labelColumn: c.labelColumn,
                                              splitColumn: c.splitColumn, audio: audio)
            items = r.items; bad += r.bad
        case "text_tsv", "text_pairs", "fasttext", "trec":
            let policy = InvalidUTF8Policy(rawValue: c.onInvalidUtf8)!
            for (name, split) in [(c.train, Split.train), (c.dev, .dev), (c.test, .test)] where !name.isEmpty {
                let p = (c.path as NSString).appendingPathComponent(name)
                if split != .train && !FileManager.default.fileExists(atPath: p) {
                    throw CorpusError("\(p): not found; set corpus.\(split.rawValue) to the \(split.rawValue) file, or '' for none")
                }
                let r = try CorpusReader.textFile(p, split: split, format: c.format, textColumn: c.textColumn,
                                                  labelColumn: c.labelColumn, order: c.order, trecLabel: c.trecLabel, invalidUTF8: policy)
                items += r.items; bad += r.bad
            }
        default:
            throw CorpusError("corpus.format '\(c.format)' is not supported by `grus run` yet")
        }
        if recipe.frontend.type == "audio" && c.longAudio == "split" && c.maxSeconds > 0 { items = splitLongAudio(items) }
        items = CorpusReader.carveDev(items, fraction: c.devFraction, seed: UInt64(recipe.experiment.seed))
        labels = Array(Set(items.filter { $0.split == .train }.map(\.label))).sorted { a, b in
            if let x = Int(a), let y = Int(b) { return x < y }
            return a < b
        }
        guard labels.count >= 2 else { throw CorpusError("\(c.path): the training split has \(labels.count) label(s); need at least 2") }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        examples = items.map { Example(item: $0, label: index[$0.label] ?? -1) }
        let counts = Dictionary(grouping: items, by: \.split).mapValues(\.count)
        log("prepare: \(items.count) items (train \(counts[.train] ?? 0), dev \(counts[.dev] ?? 0), test \(counts[.test] ?? 0)), \(labels.count) labels")
    }

    /// The 12-class protocol: the command words keep their labels, every other word becomes
    /// `_unknown_`, and `_silence_` examples are one-second stretches cut (at random gains) from
    /// `_background_noise_`, written once to cache/silence and split 80/10/10.
    func twelveClass(_ items: [Item], corpus: String) throws -> [Item] {
        let words = Set(recipe.corpus.words)
        var out = items.filter { $0.label != "_silence_" }.map { item -> Item in
            var i = item
            if !words.contains(i.label) { i.label = "_unknown_" }
            return i
        }
        let noiseDir = (corpus as NSString).appendingPathComponent("_background_noise_")
        guard FileManager.default.fileExists(atPath: noiseDir) else {
            throw CorpusError("\(noiseDir): the 12-class protocol cuts _silence_ from this folder; it is missing")
        }
        let rate = recipe.frontend.audio.sampleRate
        let (clips, skipped) = try Augmenter.loadNoiseFolder(noiseDir, sampleRate: rate)
        bad += skipped.map { BadInput(origin: $0.path, reason: $0.description) }
        guard !clips.isEmpty else { throw CorpusError("\(noiseDir): no readable noise clips for _silence_") }
        let perClass = max(1, out.count / (words.count + 1))
        let folder = self.folder.appendingPathComponent("cache/silence")
        var rng = RNG(seed: UInt64(recipe.experiment.seed) &+ 12)
        for k in 0..<perClass {
            let clip = clips[rng.int(below: clips.count)]
            let piece = Augmenter.segment(of: clip, count: rate, rng: &rng)
            let gain = Float(pow(10, -2 * rng.uniformDouble()))   // 0 to -40 dB
            let url = folder.appendingPathComponent("silence_\(k).wav")
            if !FileManager.default.fileExists(atPath: url.path) {
                try AudioFile.write(Audio(samples: piece.map { $0 * gain }, sampleRate: rate), to: url.path)
            }
            let r = rng.uniformDouble()
            out.append(Item(input: url.path, label: "_silence_", split: r < 0.8 ? .train : (r < 0.9 ? .dev : .test), origin: url.path))
        }
        return out
    }

    /// Audio longer than max_seconds becomes one example per max_seconds stretch (the last one
    /// kept if it holds at least half a stretch). Only headers are read here.
    func splitLongAudio(_ items: [Item]) -> [Item] {
        let limit = recipe.corpus.maxSeconds
        var out: [Item] = []
        for item in items {
            guard let info = try? AudioFile.info(item.input), info.sampleRate > 0 else { out.append(item); continue }
            let seconds = Double(info.frames) / Double(info.sampleRate)
            if seconds <= limit { out.append(item); continue }
            let whole = Int(seconds / limit), rest = seconds - Double(whole) * limit
            for k in 0..<(whole + (rest >= limit / 2 ? 1 : 0)) {
                var s = item
                s.segment = k
                s.origin = "\(item.origin)#\(k)"
                out.append(s)
            }
        }
        return out
    }

    /// Applies the bad-input policy: fail lists every bad item; skip writes bad-inputs.jsonl.
    func handleBadInputs() throws {
        guard !bad.isEmpty else { return }
        if recipe.corpus.onBadInput == "fail" {
            let list = bad.prefix(50).map { "  \($0)" }.joined(separator: "\n")
            throw CorpusError("\(bad.count) bad input(s); fix them or set corpus.on_bad_input: skip\n\(list)" + (bad.count > 50 ? "\n  ..." : ""))
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let lines = try bad.map { String(decoding: try enc.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try AtomicFile.write(lines, to: folder.appendingPathComponent("bad-inputs.jsonl"))
        log("skipped \(bad.count) bad input(s), listed in bad-inputs.jsonl")
    }

    // MARK: features

    func features(_ cache: FeatureCache) throws {
        let t0 = Date()
        if recipe.frontend.type == "audio" { try audioFeatures(to: cache.binURL) } else { try textFeatures() }
        let lengths = examples.map(\.length)
        log(String(format: "features: %d examples in %.1f s; lengths %d-%d; peak memory %.0f MB", examples.count, Date().timeIntervalSince(t0),
                   lengths.min() ?? 0, lengths.max() ?? 0, peakMemoryMB()))
    }

    /// The audio front end and augmenter (noise clips loaded), whether features come from the cache or not.
    func setUpAudio() throws {
        let a = recipe.frontend.audio
        audioFrontEnd = AudioFrontEnd(featureOptions(a))
        let aug = augmentOptions(a.augment)
        var noiseClips: [[Float]] = []
        if aug.noise?.source == .clips {
            let (clips, skipped) = try Augmenter.loadNoiseFolder(a.augment.noiseFolder, sampleRate: a.sampleRate)
            noiseClips = clips
            bad += skipped.map { BadInput(origin: $0.path, reason: $0.description) }
            guard !clips.isEmpty else { throw CorpusError("\(a.augment.noiseFolder): no readable noise clips") }
        }
        augmenter = Augmenter(aug, sampleRate: a.sampleRate, noiseClips: noiseClips)
    }

    /// Decodes and extracts on both cores, a chunk at a time; each chunk's features are appended
    /// to the store file and dropped, so memory does not grow with the corpus. Global CMVN
    /// statistics are accumulated over the training split as the chunks pass.
    func audioFeatures(to url: URL) throws {
        let a = recipe.frontend.audio
        let frontEnd = audioFrontEnd!
        let writer = try FeatureStore.Writer(url, dimension: frontEnd.options.dimension)
        var stats = CMVNStats(dimension: frontEnd.options.dimension)
        var kept: [Example] = []
        let maxSeconds = recipe.corpus.maxSeconds, chunk = 16
        do {
            for start in stride(from: 0, to: examples.count, by: chunk) {
                let part = Array(examples[start..<min(start + chunk, examples.count)])
                var results = [Result<Tensor, Error>?](repeating: nil, count: part.count)
                results.withUnsafeMutableBufferPointer { rp in
                    let out = rp.baseAddress!
                    parallelFor(min(2, availableCores)) { k in
                        for i in stride(from: k, to: part.count, by: 2) {
                            out[i] = Result {
                                frontEnd.extractor.compute(try loadAudio(part[i].item.input, frontEnd: frontEnd, maxSeconds: maxSeconds,
                                                                         segment: part[i].item.segment))
                            }
                        }
                    }
                }
                for (i, r) in results.enumerated() {
                    switch r! {
                    case let .success(f):
                        var e = part[i]
                        e.stored = writer.frames.count
                        e.frames = f.shape[0]
                        try writer.append(f)
                        if a.cmvn == "global" && e.item.split == .train { stats.add(f) }
                        kept.append(e)
                    case let .failure(err):
                        bad.append(BadInput(origin: part[i].item.origin, reason: "\(err)"))
                    }
                }
            }
            cmvn = a.cmvn == "global" ? stats : nil
            store = try writer.commit(cmvn: cmvn)
        } catch {
            writer.file.abort()
            throw error
        }
        examples = kept
    }

    func textFeatures() throws {
        let t = recipe.frontend.text
        var s = TextEncoder.Settings()
        s.normalizer.unicode = NormalizerOptions.UnicodeForm(rawValue: t.unicode)!
        s.normalizer.caseFold = t.caseFold
        s.kind = TextEncoder.Settings.Kind(rawValue: t.tokenizer)!
        s.splitPunctuation = t.splitPunctuation
        s.pattern = t.pattern.isEmpty ? nil : t.pattern
        s.bpeVocabularySize = t.bpeVocabulary
        s.bpeMinFrequency = t.bpeMinFrequency
        s.minCount = t.minCount
        s.maxVocabulary = t.maxVocabulary > 0 ? t.maxVocabulary : nil
        s.maxLength = t.maxLength > 0 ? t.maxLength : nil
        s.truncation = t.truncation == "keep_end" ? .keepEnd : .keepStart
        let encoder = TextEncoder.fit(examples.filter { $0.item.split == .train }.map(\.item.input), settings: s)
        var unknown = 0, kept: [Example] = []
        for var e in examples {
            let ids = encoder.encode(e.item.input, unknown: &unknown)
            if ids.isEmpty { bad.append(BadInput(origin: e.item.origin, reason: "no tokens after normalisation")); continue }
            e.tokens = ids
            kept.append(e)
        }
        examples = kept
        log("text: vocabulary \(encoder.vocabulary.count) (\(t.tokenizer)), \(unknown) unknown tokens outside training")
        bundleText = encoder
    }

    var bundleText: TextEncoder?

    // MARK: train

    func makeModel(rng: inout RNG) throws -> SequenceClassifier {
        let m = recipe.model
        var inputSize = m.embeddingDim
        var vectors: PretrainedVectors?
        if let enc = bundleText, !recipe.frontend.text.pretrainedVectors.isEmpty {
            let v = try PretrainedVectors.load(recipe.frontend.text.pretrainedVectors, only: Set(enc.vocabulary.tokens))
            inputSize = v.dimension
            vectors = v
        }
        if let s = store { inputSize = s.dimension }
        let gru = GRUConfig(inputSize: inputSize, hiddenSize: m.encoder.hidden, numLayers: m.encoder.layers,
                            bidirectional: m.encoder.bidirectional, dropout: Float(m.encoder.dropout),
                            form: GRUForm(rawValue: m.encoder.form)!, recurrentInit: m.encoder.recurrentInit == "orthogonal" ? .orthogonal : .uniform)
        let config = ClassifierConfig(vocabSize: bundleText?.vocabulary.count, encoder: gru,
                                      pooling: Pooling.Kind(rawValue: m.head.pooling)!, dropout: Float(m.head.dropout), numClasses: labels.count)
        let model = SequenceClassifier(config, rng: &rng)
        if let v = vectors, let enc = bundleText, let emb = model.embedding {
            let (rows, found) = v.matrix(for: enc.vocabulary) { _ in (0..<v.dimension).map { _ in 0.1 * rng.normal() } }
            emb.load(rows: rows, freeze: recipe.frontend.text.freezeEmbeddings)
            log(String(format: "pretrained vectors: %d of %d vocabulary entries covered (%.1f%%)", found, enc.vocabulary.count,
                       100 * Double(found) / Double(enc.vocabulary.count)))
        }
        let front: ModelBundle.FrontEnd = bundleText.map { .text($0) }
            ?? .audio(options: audioFrontEnd!.options, cmvn: cmvn, maxSeconds: recipe.corpus.maxSeconds)
        bundle = ModelBundle(labels: labels, architecture: config, frontEnd: front)
        return model
    }

    func train(resume: Bool) throws -> SequenceClassifier {
        let tr = recipe.training
        BLAS.configureOnce()
        var initRNG = RNG(seed: UInt64(recipe.experiment.seed))
        let model = try makeModel(rng: &initRNG)
        var rng = initRNG.fork()
        let trainIdx = examples.indices.filter { examples[$0].item.split == .train && examples[$0].label >= 0 }
        let devIdx = examples.indices.filter { examples[$0].item.split == .dev && examples[$0].label >= 0 }
        let params = model.parameters
        let optimizer: Optimizer
        switch tr.optimizer {
        case "sgd": optimizer = SGD(params, learningRate: Float(tr.lr), momentum: Float(tr.momentum), weightDecay: Float(tr.weightDecay))
        case "adamw": optimizer = Adam.adamW(params, learningRate: Float(tr.lr), weightDecay: Float(tr.weightDecay))
        default: optimizer = Adam(params, learningRate: Float(tr.lr), weightDecay: Float(tr.weightDecay))
        }
        optimizer.lazyRowSparse = tr.lazyEmbeddingUpdates
        var weights: [Float]? = nil
        if tr.classWeights == "balanced" {
            var counts = [Int](repeating: 0, count: labels.count)
            for i in trainIdx { counts[examples[i].label] += 1 }
            weights = counts.map { Float(trainIdx.count) / Float(labels.count * max($0, 1)) }
        }
        let loss = CrossEntropy(labelSmoothing: Float(tr.labelSmoothing), classWeights: weights)
        let lengths = examples.map(\.length)
        let stepsPerEpoch = (trainIdx.count + tr.batchSize - 1) / tr.batchSize
        var schedule = LRSchedule(base: tr.lr, kind: tr.schedule.type, warmup: tr.schedule.warmupSteps, stepEpochs: tr.schedule.stepEpochs,
                                  gamma: tr.schedule.gamma, minLR: tr.schedule.minLr, totalSteps: stepsPerEpoch * tr.epochs, stepsPerEpoch: stepsPerEpoch)
        var state = TrainState()
        let checkpoints = folder.appendingPathComponent("checkpoints")
        if resume, let restored = try Checkpoint.loadLast(from: checkpoints, model: model, optimizer: optimizer) {
            state = restored
            rng = state.rng
            schedule.base = state.baseLR
            log("resuming after epoch \(state.epoch) (step \(state.step))")
        }
        // train-log.csv is rewritten whole (temporary file, then rename) after every epoch.
        let logURL = folder.appendingPathComponent("train-log.csv")
        var csv = "epoch,step,loss,dev_loss,dev_accuracy,dev_macro_f1,lr,seconds\n"
        if state.epoch > 0, let old = try? String(contentsOf: logURL, encoding: .utf8) {
            // Keep the rows of the epochs the checkpoint covers.
            csv = old.split(separator: "\n").prefix(state.epoch + 1).joined(separator: "\n") + "\n"
        }
        try AtomicFile.write(csv, to: logURL)
        let start = Date()
        let metricName = tr.earlyStopping.metric
        while state.epoch < tr.epochs {
            let epoch = state.epoch + 1
            let batches = makeBatches(lengths: lengths, indices: trainIdx, batchSize: tr.batchSize, bucket: tr.bucket, rng: &rng)
            var lossSum = 0.0, seen = 0, lossCount = 0
            let epochStart = Date()
            for (bi, b) in batches.enumerated() {
                let lr = schedule.rate(step: state.step)
                optimizer.learningRate = Float(lr)
                let batch = try makeBatch(examples, b, store: store, transform: augmentation(rng: &rng))
                model.zeroGrad()
                let logits = model.forward(batch, training: true, rng: &rng)
                let (l, grad, _) = loss(logits, targets: batch.labels)
                if !l.isFinite {
                    if tr.onNan == "skip" {
                        schedule.base /= 2
                        log("epoch \(epoch) step \(state.step + 1): loss is \(l); batch skipped, learning rate halved to \(schedule.base)")
                        state.step += 1
                        continue
                    }
                    throw CorpusError("epoch \(epoch) step \(state.step + 1): loss is \(l) (not finite); stopping. The last good checkpoint is in \(checkpoints.path). Lower training.lr, or set training.on_nan: skip")
                }
                model.backward(grad)
                if tr.clipNorm > 0 {
                    let norm = clipGradNorm(params, maxNorm: Float(tr.clipNorm))
                    if !norm.isFinite {
                        throw CorpusError("epoch \(epoch) step \(state.step + 1): gradient norm is \(norm); stopping. The last good checkpoint is in \(checkpoints.path)")
                    }
                }
                optimizer.step()
                state.step += 1
                Fault.point("step")
                lossSum += Double(l) * Double(b.count); seen += b.count; lossCount += 1
                let rate = Double(seen) / max(Date().timeIntervalSince(epochStart), 1e-9)
                if log.terminal {
                    let done = bi + 1, width = 24
                    let filled = width * done / batches.count
                    let eta = Double(batches.count - done) * Double(tr.batchSize) / max(rate, 1e-9)
                    log.progress(String(format: "epoch %d/%d [%@%@] %d/%d loss %.4f %.0f utt/s ETA %d:%02d", epoch, tr.epochs,
                                        String(repeating: "=", count: filled), String(repeating: " ", count: width - filled),
                                        done, batches.count, lossSum / Double(seen), rate, Int(eta) / 60, Int(eta) % 60),
                                 force: done == batches.count)
                } else if (bi + 1) % tr.logEvery == 0 {
                    log(String(format: "epoch %d step %d/%d loss %.4f lr %.2e %.0f utt/s", epoch, bi + 1, batches.count, lossSum / Double(seen), lr, rate))
                }
            }
            // Evaluate on dev, keep the best.
            Fault.point("eval")
            let dev = devIdx.isEmpty ? nil : try evaluateIndices(model, devIdx)
            let trainLoss = seen > 0 ? lossSum / Double(seen) : .nan
            let score: Double = dev.map { metricName == "loss" ? -($0.loss ?? 0) : (metricName == "macro_f1" ? $0.macroF1 : $0.accuracy) } ?? -trainLoss
            let improved = state.best == nil || score > state.best!
            if improved {
                state.best = score
                state.badEpochs = 0
                try Checkpoint.saveBest(model: model, to: checkpoints)
            } else {
                state.badEpochs += 1
                if tr.schedule.type == "plateau" && state.badEpochs > 0 && state.badEpochs % max(1, tr.schedule.patience) == 0 {
                    schedule.base = max(tr.schedule.minLr, schedule.base * tr.schedule.gamma)
                    log(String(format: "plateau: learning rate now %.2e", schedule.base))
                }
            }
            state.epoch = epoch
            state.rng = rng
            state.baseLR = schedule.base
            try Checkpoint.saveLast(model: model, optimizer: optimizer, state: state, to: checkpoints)
            let row = String(format: "%d,%d,%.6f,%@,%@,%@,%.6g,%.2f\n", epoch, state.step, trainLoss,
                             dev.map { String(format: "%.6f", $0.loss ?? .nan) } ?? "", dev.map { String(format: "%.6f", $0.accuracy) } ?? "",
                             dev.map { String(format: "%.6f", $0.macroF1) } ?? "", schedule.rate(step: max(0, state.step - 1)),
                             Date().timeIntervalSince(start))
            csv += row
            try AtomicFile.write(csv, to: logURL)
            log(String(format: "epoch %d/%d: loss %.4f", epoch, tr.epochs, trainLoss)
                + (dev.map { String(format: ", dev loss %.4f, dev accuracy %.2f%%, macro-F1 %.2f%%", $0.loss ?? .nan, 100 * $0.accuracy, 100 * $0.macroF1) } ?? "")
                + (improved ? " (best)" : "") + String(format: " [%.1f s]", Date().timeIntervalSince(epochStart)))
            if tr.earlyStopping.patience > 0 && state.badEpochs >= tr.earlyStopping.patience {
                log("early stopping: no dev improvement in \(state.badEpochs) epochs")
                break
            }
        }
        // The best checkpoint becomes the model.
        let best = try Safetensors.load(checkpoints.appendingPathComponent("best.safetensors"))
        try model.loadStateDict(best.tensors, source: checkpoints.appendingPathComponent("best.safetensors").path)
        try ModelBundle.save(bundle, model: model, to: folder.appendingPathComponent("model"))
        return model
    }

    /// Per-batch augmentation of training audio (nil when there is none). Waveform augmentation
    /// (noise, speed, shift) reads the example's audio again and recomputes its features.
    func augmentation(rng: inout RNG) -> ((Int, Tensor) throws -> Tensor)? {
        guard let aug = augmenter, let fe = audioFrontEnd,
              aug.options.specAugment != nil || aug.options.noise != nil || aug.options.speeds != nil || aug.options.maxShiftMs != nil else { return nil }
        let onWaveform = aug.options.noise != nil || aug.options.speeds != nil || aug.options.maxShiftMs != nil
        var local = rng.fork()
        let stats = cmvn, maxSeconds = recipe.corpus.maxSeconds
        return { [examples] i, f in
            var feats = f
            if onWaveform {
                let item = examples[i].item
                let w: [Float]
                do { w = try loadAudio(item.input, frontEnd: fe, maxSeconds: maxSeconds, segment: item.segment) } catch {
                    throw CorpusError("\(item.origin): could not be read again for augmentation: \(error)")
                }
                feats = fe.extractor.compute(aug.waveform(w, training: true, rng: &local), rng: &local)
                if let s = stats { feats = s.apply(feats) }
            }
            return aug.features(feats, training: true, rng: &local)
        }
    }

    // MARK: evaluate

    func evaluateIndices(_ model: SequenceClassifier, _ idx: [Int]) throws -> Metrics {
        let subset = idx.map { examples[$0] }
        let probs = try predictAll(model, subset, store: store, batchSize: 128)
        var nll = 0.0
        for (j, e) in subset.enumerated() { nll -= Foundation.log(max(Double(probs[j][e.label]), 1e-12)) }
        return Metrics.compute(labels: labels, truth: subset.map(\.label), scores: probs, k: recipe.evaluation.topK,
                               loss: nll / Double(max(1, subset.count)))
    }

    func evaluate(_ model: SequenceClassifier) throws -> Metrics {
        var final: Metrics?
        for name in recipe.evaluation.splits {
            let split = Split(rawValue: name)!
            let all = examples.indices.filter { examples[$0].item.split == split }
            if all.isEmpty { continue }
            let known = all.filter { examples[$0].label >= 0 }
            var m = try evaluateIndices(model, known)
            let unknown = Dictionary(grouping: all.filter { examples[$0].label < 0 }, by: { examples[$0].item.label }).mapValues(\.count)
            if !unknown.isEmpty { m.unknownLabels = unknown }
            log(m.table(title: name))
            let file = split == .test ? "metrics.json" : "dev-metrics.json"
            try AtomicFile.write(try m.json(), to: folder.appendingPathComponent(file))
            if split == .test || final == nil { final = m }
            if split == .test || !recipe.evaluation.splits.contains("test") {
                try writePredictions(model, known, to: folder.appendingPathComponent("predictions.jsonl"))
            }
        }
        guard let final else { throw CorpusError("no dev or test examples to evaluate") }
        if !FileManager.default.fileExists(atPath: folder.appendingPathComponent("metrics.json").path) {
            try AtomicFile.write(try final.json(), to: folder.appendingPathComponent("metrics.json"))
        }
        return final
    }

    func writePredictions(_ model: SequenceClassifier, _ idx: [Int], to url: URL) throws {
        let subset = idx.map { examples[$0] }
        let probs = try predictAll(model, subset, store: store, batchSize: 128)
        var out = ""
        for (j, e) in subset.enumerated() {
            let best = probs[j].indices.max { probs[j][$0] < probs[j][$1] }!
            let obj: [String: Any] = ["input": e.item.origin, "label": e.item.label, "prediction": labels[best],
                                      "probability": Double(probs[j][best])]
            out += String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self) + "\n"
        }
        try AtomicFile.write(out, to: url)
    }
}

/// Training progress saved with every checkpoint.
struct TrainState: Codable {
    var epoch = 0
    var step = 0
    var best: Double? = nil
    var badEpochs = 0
    var rng = RNG(seed: 0)
    var baseLR = 0.0
}

/// checkpoints/last.safetensors: weights, optimiser state (`optimizer.` prefix) and the
/// training state as metadata; checkpoints/best.safetensors: the best weights. Both atomic.
enum Checkpoint {
    static func saveLast(model: SequenceClassifier, optimizer: Optimizer, state: TrainState, to dir: URL) throws {
        var tensors = model.stateDict()
        for (k, v) in optimizer.state() { tensors["optimizer." + k] = v }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let meta = String(decoding: try enc.encode(state), as: UTF8.self)
        try Safetensors.save(tensors, metadata: ["grus_train_state": meta], to: dir.appendingPathComponent("last.safetensors"))
    }

    static func saveBest(model: SequenceClassifier, to dir: URL) throws {
        try Safetensors.save(model.stateDict(), metadata: ["format": "pt"], to: dir.appendingPathComponent("best.safetensors"))
    }

    static func loadLast(from dir: URL, model: SequenceClassifier, optimizer: Optimizer) throws -> TrainState? {
        let url = dir.appendingPathComponent("last.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let (tensors, meta) = try Safetensors.load(url)
        guard let s = meta["grus_train_state"], let state = try? JSONDecoder().decode(TrainState.self, from: Data(s.utf8)) else {
            throw GrusError.format(path: url.path, message: "checkpoint has no training state")
        }
        try model.loadStateDict(tensors.filter { !$0.key.hasPrefix("optimizer.") }, source: url.path)
        try optimizer.load(state: Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("optimizer.") }.map { (String($0.key.dropFirst(10)), $0.value) }))
        return state
    }
}
