import ArgumentParser
import Foundation
import GrusCore
import GrusExperiment
import GrusRecipes

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search a recipe's settings on its dev split by successive halving, within a budget.",
        discussion: """
        The recipe's tune section (or --space) names the keys searched and their ranges. Each \
        trial's settings are drawn from the seed (experiment.seed). Every trial trains for a short \
        share of the recipe's length; the best 1/eta go on to a run eta times longer, until the \
        last rung trains the survivors for the full length. Each run is a `grus run` with one \
        thread, up to --jobs at a time, sharing the feature cache; the test split is never read. \
        No run starts once the budget is spent. The table of runs is printed and written to \
        OUT/trials.md, and the best trial's resolved recipe to OUT/best.yaml. A search that was \
        stopped (by its budget, Ctrl-C or a kill) continues with --resume and gives the same table.

        Example: grus tune Recipes/sst2.yaml --space 'training.lr=log:0.0003..0.003' \\
          --space 'model.head.dropout=0.1..0.5' --trials 9 --budget 25m
        """)

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @OptionGroup var set: OverrideOptions
    @Option(help: ArgumentHelp(RecipeSchema.help("tune.space") + "; repeat the flag for several keys; adds to the recipe's")) var space: [String] = []
    @Option(help: ArgumentHelp(RecipeSchema.help("tune.trials"))) var trials: Int?
    @Option(help: ArgumentHelp(RecipeSchema.help("tune.eta"))) var eta: Int?
    @Option(help: ArgumentHelp(RecipeSchema.help("tune.rungs"))) var rungs: Int?
    @Option(help: ArgumentHelp(RecipeSchema.help("tune.budget"))) var budget: String?
    @Option(help: ArgumentHelp(RecipeSchema.help("tune.metric"))) var metric: String?
    @Option(help: "Runs at a time (default: the cores).") var jobs: Int?
    @Option(help: "The search's folder (default: experiment.out with -tune).") var out: String?
    @Flag(help: "Continue the search in --out (its recipe, --set values, space and plan must be the same).") var resume = false

    func validate() throws {
        if let t = trials, !(1...10_000).contains(t) { throw ValidationError("--trials must be between 1 and 10000") }
        if let e = eta, !(2...10).contains(e) { throw ValidationError("--eta must be between 2 and 10") }
        if let r = rungs, !(1...10).contains(r) { throw ValidationError("--rungs must be between 1 and 10") }
        if let j = jobs, !(1...256).contains(j) { throw ValidationError("--jobs must be between 1 and 256") }
        if let b = budget, TuneOptions.seconds(b) == nil { throw ValidationError("--budget '\(b)': write it as 20m, 1h30m, 90s or a number of seconds") }
    }

    func run() throws {
        try reportingErrors {
            var s = Tuner.Settings()
            s.space = space
            (s.trials, s.eta, s.rungs, s.budget, s.metric) = (trials, eta, rungs, budget, metric)
            if let jobs { s.jobs = jobs }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let tuner = try Tuner(recipe: recipe, overrides: set.overrides, settings: s, out: out, grus: exe) { print($0) }
            print("search folder: \(tuner.folder.path)")
            let summary = try tuner.run(resume: resume)
            print(summary.text)
            let done = summary.results.count
            if summary.stoppedByBudget {
                print("the budget was spent after \(done) of \(summary.planned) runs; continue with the same command and --resume (and a larger --budget)")
            }
            guard let best = summary.best else {
                throw TuneError("no run finished with a dev \(summary.setup.metric); see \(tuner.folder.appendingPathComponent("logs").path)")
            }
            let length = summary.setup.plan.fraction(best.rung) == 1 ? "the full length" : "1/\(Int((1 / summary.setup.plan.fraction(best.rung)).rounded())) of the length"
            print("best: trial \(best.trial + 1) (at \(length)); its recipe: \(tuner.folder.appendingPathComponent("best.yaml").path)")
        }
    }
}
