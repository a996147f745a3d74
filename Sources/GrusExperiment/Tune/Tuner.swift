import Foundation
import GrusCore
import GrusRecipes
import GrusReports
import GrusTasks

/// What a search is, fixed when it starts: a resumed search must be the same one.
public struct TuneSetup: Codable, Equatable {
    public var recipe: String, overrides: [String], space: [String], metric: String, seed: Int
    public var plan: HalvingPlan
    /// Each trial's settings (recipe key → value for --set).
    public var trials: [[String: String]]
}

/// `grus tune`: successive halving over the settings a recipe's `tune.space` (or `--space`)
/// names, each run a `grus run` process with one thread, up to `jobs` at a time, on the dev
/// split only. The folder holds tune.json (the setup and the time spent), results.jsonl (one
/// line per finished run, appended as each ends), trials/ (each run's experiment folder), logs/,
/// and at the end trials.md and best.yaml. A search killed at any point continues with --resume
/// and gives the same table: the trials are drawn from the seed, each run is deterministic, and a
/// run that did not finish is run again from the start.
public final class Tuner {
    public struct Settings {
        public var space: [String] = [], trials: Int? = nil, eta: Int? = nil, rungs: Int? = nil, budget: String? = nil, metric: String? = nil
        public var jobs = ProcessInfo.processInfo.activeProcessorCount
        public init() {}
    }

    let recipeFile: String, overrides: [String], settings: Settings
    let grus: String
    public let folder: URL
    let log: (String) -> Void

    /// `grus`: the executable that runs each trial.
    public init(recipe: String, overrides: [String], settings: Settings, out: String?, grus: String, log: @escaping (String) -> Void) throws {
        self.recipeFile = URL(fileURLWithPath: recipe).standardizedFileURL.path
        self.overrides = overrides
        self.settings = settings
        self.grus = grus
        self.log = log
        let loaded = try RecipeLoader.load(recipe, overrides: overrides)
        folder = URL(fileURLWithPath: out ?? loaded.recipe.experiment.out + "-tune").standardizedFileURL
    }

    /// The setup the recipe and the flags describe, every trial checked as a recipe.
    func setup() throws -> (TuneSetup, budget: Double?) {
        let r = try RecipeLoader.load(recipeFile, overrides: overrides).recipe
        var byKey: [String: SearchedKey] = [:], order: [String] = []
        for text in r.tune.space + settings.space {
            let k = try SearchedKey.parse(text)
            if byKey[k.key] == nil { order.append(k.key) }
            byKey[k.key] = k
        }
        guard !order.isEmpty else { throw TuneError("nothing to search: name ranges in the recipe's tune.space, or with --space KEY=RANGE") }
        let space = order.map { byKey[$0]! }
        let spaceText = space.map { k in (r.tune.space + settings.space).last { (try? SearchedKey.parse($0))?.key == k.key }! }
        let task = Tasks.named(r.task)
        let metric = settings.metric ?? (!r.tune.metric.isEmpty ? r.tune.metric
                     : (!r.training.earlyStopping.metric.isEmpty ? r.training.earlyStopping.metric : task?.devMetrics.first ?? "accuracy"))
        if let task, !task.devMetrics.contains(metric) {
            throw TuneError("metric '\(metric)': task \(r.task) reports \(task.devMetrics.joined(separator: ", "))")
        }
        let budgetText = settings.budget ?? r.tune.budget
        var budget: Double? = nil
        if !budgetText.isEmpty {
            guard let s = TuneOptions.seconds(budgetText) else { throw TuneError("budget '\(budgetText)': write it as 20m, 1h30m, 90s or a number of seconds") }
            budget = s
        }
        let plan = HalvingPlan(trials: settings.trials ?? r.tune.trials, eta: settings.eta ?? r.tune.eta, rungs: settings.rungs ?? r.tune.rungs)
        let trials = drawTrials(space, count: plan.trials, seed: r.experiment.seed)
        for (i, t) in trials.enumerated() {
            do { _ = try RecipeLoader.load(recipeFile, overrides: overrides + Self.sets(t)) } catch {
                throw TuneError("trial \(i + 1)'s settings (\(Self.sets(t).joined(separator: ", "))) do not make a valid recipe: \(error)")
            }
        }
        return (TuneSetup(recipe: recipeFile, overrides: overrides, space: spaceText, metric: metric, seed: r.experiment.seed,
                          plan: plan, trials: trials), budget)
    }

    static func sets(_ t: [String: String]) -> [String] { t.keys.sorted().map { "\($0)=\(t[$0]!)" } }

    var stateURL: URL { folder.appendingPathComponent("tune.json") }
    var resultsURL: URL { folder.appendingPathComponent("results.jsonl") }

    /// Runs (or, with `resume`, continues) the search until it ends or its budget is spent.
    public func run(resume: Bool) throws -> TuneSummary {
        let (setup, budget) = try setup()
        var spentBefore = 0.0
        if let data = readWholeFile(stateURL.path) {
            guard resume else {
                throw TuneError("\(folder.path) holds a search already; continue it with --resume, or give another --out")
            }
            let old: TuneState
            do { old = try JSONDecoder().decode(TuneState.self, from: data) } catch {
                throw TuneError("\(stateURL.path): not a search's state: \(readable(error))")
            }
            guard old.setup == setup else {
                throw TuneError("\(folder.path) holds another search (its recipe, --set values, space, metric, seed or plan differ); give another --out")
            }
            spentBefore = old.spentSeconds
        }
        try makeFolder(folder.appendingPathComponent("logs"), for: "the search folder")
        let start = Date()
        func spent() -> Double { spentBefore + Date().timeIntervalSince(start) }
        func saveState() throws {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try enc.encode(TuneState(setup: setup, spentSeconds: spent())), to: stateURL)
        }
        try saveState()
        var results = readResults()
        let plan = setup.plan
        log("search: \(plan.trials) trials, \(plan.rungs) rung(s) keeping 1/\(plan.eta) each (\((0..<plan.rungs).map { "\(plan.size($0)) × \(Self.fractionText(plan.fraction($0)))" }.joined(separator: ", ")) of the recipe's length; \(String(format: "%.1f", plan.cost)) full runs), ranked by dev \(setup.metric), \(settings.jobs) at a time"
            + (budget.map { String(format: "; budget %.0f s, %.0f s spent", $0, spentBefore) } ?? ""))
        var stoppedByBudget = false
        rungs: for k in 0..<plan.rungs {
            let trials = k == 0 ? Array(0..<plan.trials) : plan.promoted(from: results, rung: k - 1)
            let pending = trials.filter { t in !results.contains { $0.trial == t && $0.rung == k } }
            var queue = pending[...]
            var active: [(process: Process, trial: Int, started: Date)] = []
            let ended = DispatchSemaphore(value: 0)
            while !queue.isEmpty || !active.isEmpty {
                while active.count < max(1, settings.jobs), let t = queue.first {
                    if let b = budget, spent() >= b { stoppedByBudget = true; break }
                    queue = queue.dropFirst()
                    active.append((try launch(trial: t, rung: k, setup: setup, ended: ended), t, Date()))
                }
                if active.isEmpty { break }
                ended.wait()
                for (i, a) in active.enumerated().reversed() where !a.process.isRunning {
                    active.remove(at: i)
                    let r = result(of: a.process, trial: a.trial, rung: k, seconds: Date().timeIntervalSince(a.started), setup: setup)
                    try append(r)
                    results.append(r)
                    try saveState()
                    log(describe(r, setup: setup))
                }
            }
            if stoppedByBudget || !queue.isEmpty { stoppedByBudget = true; break rungs }
        }
        try saveState()
        let summary = TuneSummary(setup: setup, results: results, folder: folder, stoppedByBudget: stoppedByBudget)
        try AtomicFile.write(summary.markdown, to: folder.appendingPathComponent("trials.md"))
        if let best = summary.best {
            let yaml = try RecipeLoader.load(recipeFile, overrides: overrides + Self.sets(setup.trials[best.trial])).resolvedYAML
            try AtomicFile.write(yaml, to: folder.appendingPathComponent("best.yaml"))
        }
        return summary
    }

    /// Starts one run: the trial's settings, the rung's share of the run length, one thread, dev only.
    func launch(trial t: Int, rung k: Int, setup: TuneSetup, ended: DispatchSemaphore) throws -> Process {
        let name = runName(trial: t, rung: k, setup: setup)
        let out = folder.appendingPathComponent("trials/" + name)
        // A run the search did not record did not finish: it starts again from nothing.
        try? FileManager.default.removeItem(at: out)
        let trialSets = overrides + Self.sets(setup.trials[t])
        var length: [String] = []
        let f = setup.plan.fraction(k)
        if f < 1 {
            let tr = try RecipeLoader.load(recipeFile, overrides: trialSets).recipe.training
            length.append("training.epochs=\(max(1, Int((Double(tr.epochs) * f).rounded())))")
            if tr.minSteps > 0 { length.append("training.min_steps=\(Int((Double(tr.minSteps) * f).rounded()))") }
            if tr.maxSteps > 0 { length.append("training.max_steps=\(max(1, Int((Double(tr.maxSteps) * f).rounded())))") }
        }
        let sets = trialSets + length + ["training.threads=1", "evaluation.splits=[dev]"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: grus)
        p.arguments = ["run", recipeFile, "--out", out.path] + sets.flatMap { ["--set", $0] }
        var env = ProcessInfo.processInfo.environment
        env["GRUS_EXIT_WITH_PARENT"] = String(getpid())
        p.environment = env
        let logURL = folder.appendingPathComponent("logs/\(name).txt")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        p.standardOutput = handle
        p.standardError = handle
        p.terminationHandler = { _ in try? handle.close(); ended.signal() }
        try p.run()
        return p
    }

    func runName(trial t: Int, rung k: Int, setup: TuneSetup) -> String {
        let width = String(setup.plan.trials).count
        return "t" + String(repeating: "0", count: width - String(t + 1).count) + String(t + 1) + "-r\(k + 1)"
    }

    func result(of p: Process, trial t: Int, rung k: Int, seconds: Double, setup: TuneSetup) -> RungResult {
        let name = runName(trial: t, rung: k, setup: setup), metric = setup.metric
        func failed(_ why: String) -> RungResult { RungResult(trial: t, rung: k, score: nil, loss: nil, seconds: seconds, failure: why) }
        guard p.terminationStatus == 0 else {
            let lines = (readWholeFile(folder.appendingPathComponent("logs/\(name).txt").path).map { String(decoding: $0, as: UTF8.self) } ?? "")
                .split(separator: "\n")
            return failed(String(lines.last(where: { $0.hasPrefix("error") }) ?? lines.last ?? "exit status \(p.terminationStatus)"))
        }
        do {
            let s = try RunSummary.read(folder.appendingPathComponent("trials/" + name).path)
            guard let score = s.metrics[metric] else { return failed("metrics.json has no \(metric)") }
            // The search maximises: a loss ranks lower-is-better, so it is negated.
            return RungResult(trial: t, rung: k, score: metric.contains("loss") ? -score : score, loss: s.metrics["loss"], seconds: seconds)
        } catch {
            return failed("\(error)")
        }
    }

    func readResults() -> [RungResult] {
        guard let data = readWholeFile(resultsURL.path) else { return [] }
        // A line cut short by a kill is dropped: its run is simply run again.
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { try? JSONDecoder().decode(RungResult.self, from: Data($0.utf8)) }
    }

    func append(_ r: RungResult) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var line = try enc.encode(r)
        line.append(0x0a)
        if !FileManager.default.fileExists(atPath: resultsURL.path) { FileManager.default.createFile(atPath: resultsURL.path, contents: nil) }
        let h = try FileHandle(forWritingTo: resultsURL)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: line)
        try h.synchronize()
    }

    func describe(_ r: RungResult, setup: TuneSetup) -> String {
        let what = "trial \(r.trial + 1) at \(Self.fractionText(setup.plan.fraction(r.rung))) (\(Self.sets(setup.trials[r.trial]).joined(separator: ", ")))"
        guard let s = r.score else { return "\(what): failed: \(r.failure ?? "")" }
        return what + String(format: ": dev %@ %.2f%@ [%.0f s]", setup.metric, setup.metric.contains("loss") ? -s : s * 100,
                             setup.metric.contains("loss") ? "" : "%", r.seconds)
    }

    static func fractionText(_ f: Double) -> String { f == 1 ? "full length" : "1/\(Int((1 / f).rounded()))" }
}

/// tune.json: the setup and the seconds spent so far (over every invocation).
struct TuneState: Codable { var setup: TuneSetup; var spentSeconds: Double }
