import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusInference
import GrusNN
import GrusTasks

/// The training loop of any task: seeded length-bucketed batches, the optimiser and schedule,
/// the NaN policy, dev evaluation after each epoch (best checkpoint, reduce-on-plateau, early
/// stopping), checkpoints and train-log.csv, resumable bit for bit from checkpoints/last.
public final class Trainer<T: TrainableTask> {
    let task: T
    let model: T.Model
    let options: TrainingOptions
    /// The run's seed (MPI ranks' dropout and augmentation draw from seed, step and rank).
    let seed: Int
    /// Classification's top-k in dev reports.
    let topK: Int
    /// frontend.audio.augment.prefix_clips: other training clips run through the encoder first.
    let prefixClips: Int
    let data: FeatureSet
    let audio: AudioSetup?
    let folder: URL
    let observer: TrainingObserver
    /// The RNG after initialisation (model and embedding rows drawn), for shuffles, dropout and augmentation.
    var rng: RNG

    /// Checkpoints, train-log.csv and training.json are written in `folder`.
    package init(task: T, model: T.Model, rng: RNG, options: TrainingOptions, seed: Int, topK: Int, prefixClips: Int,
                 data: FeatureSet, audio: AudioSetup?, folder: URL, observer: TrainingObserver) {
        self.task = task
        self.model = model
        self.rng = rng
        self.options = options
        self.seed = seed
        self.topK = topK
        self.prefixClips = prefixClips
        self.data = data
        self.audio = audio
        self.folder = folder
        self.observer = observer
    }

    func log(_ line: String) { observer.log(line) }

    var checkpoints: URL { folder.appendingPathComponent("checkpoints") }

    /// Trains (continuing from checkpoints/last with `resume`) and leaves the best weights in the model.
    package func run(resume: Bool) throws {
        let tr = options
        let examples = data.examples
        var trainIdx: [Int] = [], devIdx: [Int] = []
        for (i, e) in examples.enumerated() where task.target(e.item) != nil {
            if e.item.split == .train { trainIdx.append(i) } else if e.item.split == .dev { devIdx.append(i) }
        }
        guard !trainIdx.isEmpty else { throw CorpusError("no training examples are left to train on") }
        var task = self.task
        task.configureLoss(tr.lossOptions, targets: trainIdx.map { task.target(examples[$0].item)! })
        let optimizer = tr.optimizer.make(model.parameters, learningRate: Float(tr.lr), momentum: Float(tr.momentum),
                                          weightDecay: Float(tr.weightDecay))
        optimizer.lazyRowSparse = tr.lazyEmbeddingUpdates
        let length = RunLength.resolve(tr, examples: trainIdx.count)
        log(length.reason)
        let stepsPerEpoch = length.stepsPerEpoch, epochs = length.epochs
        var schedule = LRSchedule(tr.schedule, lr: tr.lr, epochs: epochs, stepsPerEpoch: stepsPerEpoch)
        let warmup = LRSchedule.warmupSteps(tr.schedule, stepsPerEpoch: stepsPerEpoch, totalSteps: length.steps)
        if warmup.capped {
            log("warm-up capped at \(warmup.steps) steps (training.schedule.max_warmup_fraction \(tr.schedule.maxWarmupFraction) of \(length.steps) steps)")
        }
        var state = TrainState()
        if resume, let restored = try Checkpoint.loadLast(from: checkpoints, model: model, optimizer: optimizer) {
            state = restored
            rng = state.rng
            schedule.base = state.baseLR
            log("resuming after epoch \(state.epoch) (step \(state.step))")
        }
        var csv = try TrainLogCSV(folder.appendingPathComponent("train-log.csv"), columns: T.logColumns, keepEpochs: state.epoch)
        let lengths = examples.map(\.length)
        let start = Date()
        // A resumed run's log holds the checkpoint's epochs: what follows it (the TensorBoard
        // file) is made from it again at once, even when no epoch is left to run.
        if state.epoch > 0 { try observer.epochEnded(csv: csv.text, start: start) }
        let metric = tr.earlyStopping.metric.isEmpty ? task.defaultDevMetric : tr.earlyStopping.metric
        // training.freeze: the transferred parts stay fixed for the first freeze_epochs.
        let freezable = tr.freezeEpochs == 0 ? [] : model.parameters.filter { p in p.trainable && tr.freeze.contains { p.name.hasPrefix($0.prefix) } }
        var trained = 0, trainSeconds = 0.0, epochsRun = 0
        let parallel = Distributed.active ? DataParallel(model.parameters) : nil
        if parallel != nil { log("data-parallel training on \(Distributed.size) ranks, \(Threads.count) thread(s) each; each rank takes its share of every batch of \(tr.batchSize)") }
        while state.epoch < epochs {
            let epoch = state.epoch + 1
            if !freezable.isEmpty {
                let frozen = epoch <= tr.freezeEpochs
                if frozen != !freezable[0].trainable || epoch == 1 {
                    log(frozen ? "epochs 1-\(tr.freezeEpochs): \(freezable.count) transferred tensors kept fixed (training.freeze: \(tr.freeze.map(\.rawValue).joined(separator: ", ")))"
                               : "epoch \(epoch): every tensor trains")
                }
                for p in freezable { p.trainable = !frozen }
            }
            let batches = makeBatches(lengths: lengths, indices: trainIdx, batchSize: tr.batchSize, bucket: tr.bucket, rng: &rng)
            let progress = ProgressLine(observer: observer, epoch: epoch, epochs: epochs, batches: batches.count, batchSize: tr.batchSize, every: tr.logEvery)
            var lossSum = 0.0, seen = 0
            for (bi, b) in batches.enumerated() {
                let lr = schedule.rate(step: state.step)
                optimizer.learningRate = Float(lr)
                model.zeroGrad()
                var l: Float
                if let ranks = parallel {
                    // This rank's share of the global batch, divided by the whole batch's
                    // denominators; the sum over ranks is the batch's loss and gradient.
                    l = try ranks.step(share: b, rngSeed: UInt64(seed), step: state.step) { share, stepRNG in
                        var batch = try makeBatch(examples, share, store: data.store, transform: augmentation(from: &stepRNG, prefixes: trainIdx))
                        if tr.wordDropout > 0 { dropWords(&batch, probability: Float(tr.wordDropout), unknown: data.textEncoder?.vocabulary.unkID ?? 1, rng: &stepRNG) }
                        let (l, backward) = task.loss(model, batch, share.map { task.target(examples[$0].item)! },
                                                      denominators: task.lossDenominators(model, b.map { task.target(examples[$0].item)! }), rng: &stepRNG)
                        backward()
                        return l
                    }
                } else {
                    var batch = try makeBatch(examples, b, store: data.store, transform: augmentation(from: &rng, prefixes: trainIdx))
                    if tr.wordDropout > 0 { dropWords(&batch, probability: Float(tr.wordDropout), unknown: data.textEncoder?.vocabulary.unkID ?? 1, rng: &rng) }
                    let (loss, backward) = task.loss(model, batch, b.map { task.target(examples[$0].item)! }, rng: &rng)
                    l = loss
                    if l.isFinite { backward() }
                }
                if !l.isFinite {
                    guard tr.onNan == .skip else {
                        // CTC's +∞ is a transcript its (augmented) audio became too short for, not a divergence.
                        let why = (l == .infinity ? T.infiniteLossAdvice : nil) ?? "Lower training.lr, or set training.on_nan: skip"
                        throw CorpusError("epoch \(epoch) step \(state.step + 1): loss is \(l) (not finite); stopping. The last good checkpoint is in \(checkpoints.path). \(why)")
                    }
                    schedule.base /= 2
                    log("epoch \(epoch) step \(state.step + 1): loss is \(l); batch skipped, learning rate halved to \(schedule.base)")
                    state.step += 1
                    continue
                }
                if tr.clipNorm > 0 {
                    let norm = clipGradNorm(model.parameters.filter(\.trainable), maxNorm: Float(tr.clipNorm))
                    if !norm.isFinite {
                        throw CorpusError("epoch \(epoch) step \(state.step + 1): gradient norm is \(norm); stopping. The last good checkpoint is in \(checkpoints.path)")
                    }
                }
                optimizer.step()
                state.step += 1
                RunEvents.reach(.step)
                lossSum += Double(l) * Double(b.count); seen += b.count
                progress.update(done: bi + 1, seen: seen, meanLoss: lossSum / Double(max(seen, 1)), lr: lr)
            }
            let epochSeconds = Date().timeIntervalSince(progress.start)
            trained += seen
            trainSeconds += epochSeconds
            epochsRun += 1
            // Evaluate on dev, keep the best. Epochs that end inside the warm-up do not count
            // against early stopping or the plateau schedule.
            RunEvents.reach(.eval)
            let dev = devIdx.isEmpty ? nil : try evaluate(task, model, devIdx.map { examples[$0] }, store: data.store, topK: topK).report
            let trainLoss = seen > 0 ? lossSum / Double(seen) : .nan
            let improved = state.judge(score: dev.map { $0.score(metric) ?? -.infinity } ?? -trainLoss, loss: dev?.loss ?? trainLoss,
                                       warmupSteps: warmup.steps, minDelta: tr.earlyStopping.minDelta)
            if improved {
                try Checkpoint.saveBest(model: model, to: checkpoints)
            }
            if !improved && tr.schedule.type == .plateau && state.badEpochs > 0 && state.badEpochs % max(1, tr.schedule.patience) == 0 {
                schedule.base = max(tr.schedule.minLr, schedule.base * tr.schedule.gamma)
                log(String(format: "plateau: learning rate now %.2e", schedule.base))
            }
            state.epoch = epoch
            state.rng = rng
            state.baseLR = schedule.base
            // The epoch's log row before its checkpoint: after a kill between the two, the resumed
            // run (from the previous checkpoint) drops the row and writes it again; the other
            // order would lose it.
            try csv.append(epoch: epoch, step: state.step, loss: trainLoss, dev: dev?.logValues, columns: T.logColumns.count,
                           lr: schedule.rate(step: max(0, state.step - 1)), seconds: Date().timeIntervalSince(start),
                           rate: Double(seen) / max(epochSeconds, 1e-9))
            try observer.epochEnded(csv: csv.text, start: start)
            try Checkpoint.saveLast(model: model, optimizer: optimizer, state: state, to: checkpoints)
            RunEvents.reach(.checkpointed)
            if tr.averageLast > 0 {
                // The last average_last epochs' weights, whenever the run ends (early stopping too).
                try Checkpoint.saveEpoch(epoch, model: model, to: checkpoints)
                if Distributed.isWriter { try? FileManager.default.removeItem(at: checkpoints.appendingPathComponent("epoch-\(epoch - tr.averageLast).safetensors")) }
            }
            // Rank 0's checkpoints are complete before any rank reads one (best, averaged, resumed).
            Distributed.barrier()
            log(String(format: "epoch %d/%d: loss %.4f", epoch, epochs, trainLoss) + (dev.map { ", dev " + $0.summary } ?? "")
                + (improved ? " (best)" : "") + String(format: " [%.1f s]", Date().timeIntervalSince(progress.start)))
            if length.patience > 0 && state.badEpochs >= length.patience {
                log("early stopping: no dev improvement in \(state.badEpochs) epochs")
                break
            }
        }
        if tr.averageLast > 0 {
            // The last epochs run (early stopping may end the run before training.epochs).
            let last = state.epoch
            let used = try Checkpoint.loadAverage(of: max(1, last - tr.averageLast + 1)...last, into: model, from: checkpoints)
            let dev = devIdx.isEmpty ? nil : try evaluate(task, model, devIdx.map { examples[$0] }, store: data.store, topK: topK).report
            log("the model is the mean of the weights after epochs \(used.map(String.init).joined(separator: ", "))" + (dev.map { "; dev " + $0.summary } ?? ""))
        } else {
            try Checkpoint.loadBest(into: model, from: checkpoints)
        }
        try TrainingSummary(epochs: epochsRun, sequences: trained, trainSeconds: trainSeconds, seconds: Date().timeIntervalSince(start),
                            parameters: model.parameters.reduce(0) { $0 + $1.value.count }, threads: Threads.count)
            .save(to: folder.appendingPathComponent("training.json"))
    }

    /// Per-batch augmentation of training audio (nil when there is none), drawing from a fork of
    /// `rng`. Waveform augmentation (noise, speed, shift) reads the example's audio again and
    /// recomputes its features.
    ///
    /// With `frontend.audio.augment.prefix_clips` N, 0 to N random clips of `prefixes` (their
    /// stored features, normalised) come first, so the encoder's state has run before the clip,
    /// as in a stream; the model pools only the clip's window (`model.head.pool_window`).
    func augmentation(from rng: inout RNG, prefixes: [Int]) -> ((Int, Tensor) throws -> Tensor)? {
        guard let audio else { return nil }
        guard audio.augmenter != nil || prefixClips > 0 else { return nil }
        var local = rng.fork()
        let fe = audio.frontEnd, prefixClips = prefixClips, store = data.store, maxSeconds = audio.maxSeconds, examples = data.examples
        return { i, f in
            let clip = try Self.augment(f, example: i, with: audio.augmenter, frontEnd: fe, store: store, examples: examples,
                                        maxSeconds: maxSeconds, rng: &local)
            guard prefixClips > 0, !prefixes.isEmpty else { return clip }
            let n = local.int(below: prefixClips + 1)
            guard n > 0 else { return clip }
            // [prefix 1; ...; prefix n; clip] rows, each prefix drawn from the training clips.
            var rows: [Float] = []
            for _ in 0..<n { rows += try examples[prefixes[local.int(below: prefixes.count)]].audioFeatures(store).data }
            rows += clip.data
            return Tensor(shape: [rows.count / clip.shape[1], clip.shape[1]], data: rows)
        }
    }

    /// One training clip's features after waveform and feature augmentation (none without an augmenter).
    static func augment(_ f: Tensor, example i: Int, with augmenter: Augmenter?, frontEnd fe: AudioFrontEnd, store: FeatureStore?,
                        examples: [Example], maxSeconds: Double, rng local: inout RNG) throws -> Tensor {
        guard let aug = augmenter else { return f }
        let o = aug.options
        let onWaveform = o.noise != nil || o.speeds != nil || o.maxShiftMs != nil
        var feats = f
        if onWaveform {
            let item = examples[i].item
            let w: [Float]
            do { w = try loadAudio(item.input, frontEnd: fe, maxSeconds: maxSeconds, segment: item.segment) } catch {
                throw CorpusError("\(item.origin): could not be read again for augmentation: \(error)")
            }
            feats = fe.extractor.compute(aug.waveform(w, training: true, rng: &local), rng: &local)
            if let store, let k = examples[i].stored { feats = store.normalize(feats, entry: k) }
        }
        return aug.features(feats, training: true, rng: &local)
    }
}
