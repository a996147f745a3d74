import Foundation
import GrusCore
import GrusData
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain

/// `grus run`: prepare → features → train → evaluate for the recipe's task, leaving an
/// experiment folder: recipe.yaml, model/, checkpoints/, metrics.json, dev-metrics.json,
/// predictions.jsonl, report.html, train-log.csv, training.json, data.json, log.txt (and bad-inputs.jsonl when
/// inputs were skipped).
/// A stage whose inputs are unchanged (keys in cache/) is reused instead of run. Features live in
/// the shared cache (`experiment.cache_dir`), keyed by corpus and front end, for every experiment.
public final class Experiment {
    public let recipe: Recipe
    public let folder: URL
    package let recipeFile: String
    package let resolvedYAML: String
    package let log: RunLog
    /// Files that could not be written while the run went on (report.html).
    package var lostOutputs: [(file: String, reason: String)] = []
    /// Held by the process that writes the folder (rank 0 of an MPI job).
    package let lock: FolderLock?

    /// Takes the experiment folder: a second `grus run` on the same folder is refused while this
    /// one holds it.
    public init(_ loaded: RecipeLoader.Loaded, out: String? = nil) throws {
        recipe = loaded.recipe
        recipeFile = loaded.file
        resolvedYAML = loaded.resolvedYAML
        folder = URL(fileURLWithPath: out ?? recipe.experiment.out)
        try makeFolder(folder, for: "the experiment folder")
        for sub in ["checkpoints", "cache"] { try makeFolder(folder.appendingPathComponent(sub), for: "the experiment folder") }
        if Distributed.isWriter {
            lock = try FolderLock(folder)
            for sub in ["", "checkpoints", "model", "cache"] { AtomicFile.removeLeftovers(in: folder.appendingPathComponent(sub)) }
        } else {
            lock = nil
            AtomicFile.discardUnder = folder.standardizedFileURL.path
        }
        log = RunLog(folder.appendingPathComponent("log.txt"), quiet: !Distributed.isWriter)
        let checkpoint = folder.appendingPathComponent("checkpoints/last.safetensors").path
        Distributed.onTermination("stopped because another rank of this job ended. The last checkpoint is in \(folder.appendingPathComponent("checkpoints").path); continue with: mpirun -np \(Distributed.size) grus run \(recipeFile) --out \(folder.path) --resume",
                                  checkpoint: checkpoint,
                                  withoutCheckpoint: "stopped because another rank of this job ended, before any checkpoint was written; its error is above. Fix it and run the job again")
        Threads.set(recipe.training.threads)
    }

    /// Keys a resumed run may change: how long to train, how to log, and what to evaluate.
    package static let resumableKeys: Set<String> = ["training.epochs", "training.min_steps", "training.max_steps", "training.log_every", "training.threads", "experiment.name", "experiment.out",
                                             "experiment.cache_dir"]

    /// Keys that change nothing a finished run computed, or only its evaluation: a rerun with
    /// other values reuses the folder.
    package static func replacesRun(_ key: String) -> Bool {
        !["training.log_every", "training.threads", "experiment.name", "experiment.out", "experiment.cache_dir"].contains(key) && !key.hasPrefix("evaluation.")
            && !key.hasPrefix("tune.")
    }

    /// With `resume`, refuses a recipe that differs from the one the checkpoint was trained with
    /// (unless `force`), naming the keys. Without it, refuses to replace a finished run made with
    /// a different recipe (unless `force`): a rerun with other --set values must not overwrite
    /// the previous run silently. Then records the recipe this run uses.
    package func recordRecipe(resume: Bool, force: Bool) throws {
        let url = folder.appendingPathComponent("recipe.yaml")
        if let old = readWholeFile(url.path).map({ String(decoding: $0, as: UTF8.self) }) {
            let changed = try RecipeLoader.changedKeys(from: old, to: resolvedYAML)
            if resume {
                let refused = changed.filter { !Experiment.resumableKeys.contains($0) && !$0.hasPrefix("evaluation.") && !$0.hasPrefix("tune.") }
                if !refused.isEmpty {
                    guard force else {
                        throw RecipeError(issues: refused.map { RecipeIssue(file: recipeFile, keyPath: $0,
                            message: "differs from the recipe the checkpoint in \(folder.path) was trained with; resume with the same value, or add --force to go on with the new one") })
                    }
                    log("resuming with changed keys (--force): \(refused.joined(separator: ", ")); recipe.yaml records the new values")
                }
            } else {
                let replacing = changed.filter(Experiment.replacesRun)
                let finished = FileManager.default.fileExists(atPath: folder.appendingPathComponent("model/model.json").path)
                    || FileManager.default.fileExists(atPath: folder.appendingPathComponent("checkpoints/last.safetensors").path)
                if finished && !replacing.isEmpty {
                    guard force else {
                        throw RecipeError(issues: [RecipeIssue(file: recipeFile, keyPath: replacing[0],
                            message: "\(folder.path) holds a run made with other values of \(replacing.joined(separator: ", ")); give this run its own folder with --out DIR (or experiment.name), or add --force to replace that run")])
                    }
                    log("replacing the run made with other values of \(replacing.joined(separator: ", ")) (--force)")
                }
            }
        }
        try AtomicFile.write(resolvedYAML, to: url)
    }

    public enum Stage: String, CaseIterable, Comparable {
        case prepare, features, train, evaluate
        public static func < (a: Stage, b: Stage) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// Runs the stages through `stopAfter`. A finished stage whose outputs exist for the same
    /// inputs is loaded instead of run, unless `from` asks to rerun it (and every stage after it).
    /// `resume` continues training from checkpoints/last. Returns the final evaluation report
    /// (nil when stopping earlier).
    @discardableResult
    public func run(resume: Bool = false, force: Bool = false, from: Stage? = nil, stopAfter: Stage = .evaluate) throws -> (any TaskReport)? {
        guard let task = Tasks.named(recipe.task) else { throw CorpusError("task '\(recipe.task)' is not registered") }
        do {
            try recordRecipe(resume: resume, force: force)
            let report = try run(task, resume: resume, from: from, stopAfter: stopAfter)
            // Outputs that could not be written end the run with an error, after everything else was written.
            if let e = log.writeError {
                throw GrusError.io(path: folder.appendingPathComponent("log.txt").path, message: "could not be written (\(e)); the run finished, its log is incomplete")
            }
            if let lost = lostOutputs.first {
                throw GrusError.io(path: folder.appendingPathComponent(lost.file).path, message: "could not be written (\(lost.reason)); the run's other files are written")
            }
            return report
        } catch {
            log("error: \(error)")
            throw error
        }
    }

    package func run<T: TrainableTask>(_: T.Type, resume: Bool, from: Stage?, stopAfter: Stage) throws -> T.Report? {
        func reuse(_ s: Stage) -> Bool { from.map { $0 > s } ?? true }
        let t0 = Date()
        let stages = Stages<T>(recipe: recipe, recipeFile: recipeFile, folder: folder, log: log)
        func done() { log(String(format: "done in %.1f s (peak memory %.0f MB); experiment folder: %@", Date().timeIntervalSince(t0), peakMemoryMB(), folder.path)) }
        log("experiment folder: \(folder.path)")

        let prepared = try stages.prepare()
        if stopAfter == .prepare { return nil }

        let featureKey = stages.featureKey(prepared)
        let setup = try stages.audioSetup(prepared)
        var data = try features(stages, prepared, key: featureKey, audio: setup?.0, reuse: reuse(.features))
        data.bad += setup?.1 ?? []
        data.examples = data.examples.filter { e in
            guard let why = prepared.task.inputProblem(e.item, frames: e.length, stack: recipe.frontend.type == .audio ? recipe.model.stackFrames : 1) else { return true }
            data.bad.append(BadInput(origin: e.item.origin, reason: why))
            return false
        }
        try stages.handleBadInputs(data.bad)
        try DataSummary(items: data.examples.map(\.item), bad: data.bad).save(to: folder)
        if stopAfter == .features { return nil }

        let trainKey = StageKey.hash([featureKey, recipe.task, recipe.model, recipe.training, recipe.experiment.seed,
                                      Transfer.identity(recipe.model.initFrom)] as [Any])
        let trainStamp = stages.cache.appendingPathComponent("train.json")
        let trained: TrainedModel<T>
        if reuse(.train) && !resume, StageKey.read(trainStamp) == trainKey,
           let folder = try? ModelFolder.locate(folder.path), let done = try? ModelBundle<T>.load(folder) {
            trained = TrainedModel(model: done.model, bundle: done.bundle)
            log("train: model from \(self.folder.path)/model (inputs unchanged)")
        } else {
            removeOutputs(after: .features)
            trained = try stages.train(prepared, data, audio: setup?.0, resume: resume)
            try StageKey.write(trainKey, to: trainStamp)
        }
        if stopAfter == .train { return nil }

        let evalKey = StageKey.hash([trainKey, recipe.evaluation])
        let evalStamp = stages.cache.appendingPathComponent("evaluate.json")
        if reuse(.evaluate), StageKey.read(evalStamp) == evalKey, let stored = readWholeFile(folder.appendingPathComponent("metrics.json").path),
           let report = try? JSONDecoder().decode(T.Report.self, from: stored) {
            log(report.table(title: "metrics.json (inputs unchanged)"))
            writeReport(report)
            done()
            return report
        }
        removeOutputs(after: .train)
        let report = try stages.evaluate(trained, data)
        try StageKey.write(evalKey, to: evalStamp)
        writeReport(report)
        done()
        return report
    }

    /// The features of `key` from the shared cache, or computed and published there. Computing
    /// holds the key's lock, so a concurrent run (or MPI rank) of the same key waits and reads
    /// the result. Without `reuse` (--from-stage features) the entry is computed again.
    package func features<T: TrainableTask>(_ stages: Stages<T>, _ prepared: PreparedCorpus<T>, key: String, audio: AudioSetup?, reuse: Bool) throws -> FeatureSet {
        let shared = SharedFeatureCache(directory: CacheDirectory.resolve(recipe.experiment.cacheDir))
        let entry = FeatureCache(folder: shared.entry(key), key: key)
        func cached() -> FeatureSet? {
            guard let set = entry.load(prepared.items, damaged: { log("features: the cache entry \(entry.folder.path) is damaged (\($0)); computing it again") }) else { return nil }
            shared.touch(key)
            log("features: \(set.examples.count) examples from the cache (inputs unchanged): \(entry.folder.path)")
            return set
        }
        if reuse, let set = cached() { return set }
        var fresh = false
        let set = try shared.withLock(key, waiting: { log("features: waiting for \($0), which is computing the same features") }) { () throws -> FeatureSet? in
            if reuse, let set = cached() { return set }
            let scratch = try shared.scratch(key)
            do {
                _ = try stages.features(prepared, audio: audio, into: FeatureCache(folder: scratch, key: key))
                try shared.publish(scratch, as: key)
            } catch {
                try? FileManager.default.removeItem(at: scratch)
                throw error
            }
            fresh = true
            return entry.load(prepared.items)
        }
        guard let set else { throw GrusError.io(path: entry.folder.path, message: "the features just written could not be read back; rerun with --from-stage features") }
        if fresh { log("features: cached in \(entry.folder.path)") }
        return set
    }

    /// report.html; a page that cannot be written is logged and the run goes on (the metrics are
    /// written), then ends with it as its error.
    package func writeReport(_ report: any TaskReport) {
        let name = recipe.experiment.name.isEmpty ? folder.lastPathComponent : recipe.experiment.name
        do {
            try HTMLReport.forRun(folder: folder, name: name, task: recipe.task, report: report).write(to: folder.appendingPathComponent("report.html"))
        } catch {
            log("report.html could not be written: \(error)")
            lostOutputs.append((file: "report.html", reason: "\(error)"))
        }
    }

    /// Outputs of the stages after `stage`, removed when it runs again so that none describes an
    /// earlier run: a run that fails part way leaves an incomplete folder, never a mix of two runs.
    package func removeOutputs(after stage: Stage) {
        var files: [String] = []
        if stage < .train { files += ["model/model.safetensors", "model/model.json", "cache/train.json", "training.json", "tb/" + TensorBoard.fileName] }
        if stage < .evaluate { files += ["metrics.json", "dev-metrics.json", "predictions.jsonl", "report.html", "cache/evaluate.json"] }
        guard Distributed.isWriter else { return }
        for f in files { try? FileManager.default.removeItem(at: folder.appendingPathComponent(f)) }
    }
}
