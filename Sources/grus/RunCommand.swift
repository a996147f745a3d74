import ArgumentParser
import Foundation
import GrusRecipes

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe: prepare the corpus, compute features, train, evaluate.",
        discussion: """
        Leaves an experiment folder (printed at the start and the end) holding recipe.yaml (the \
        resolved recipe), model/ (model.safetensors, model.json), checkpoints/ (best, last), \
        metrics.json, dev-metrics.json, predictions.jsonl, train-log.csv, log.txt and cache/. A \
        finished stage is skipped when its inputs are unchanged (features and the trained model are \
        reused); --from-stage reruns from a stage on. An invalid recipe exits with code 2 and writes nothing.
        """)

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @Option(name: .customLong("set"), help: "Override a key: --set training.lr=0.01 (repeatable).") var overrides: [String] = []
    @Option(help: "Experiment folder (default: experiment.out from the recipe).") var out: String?
    @Flag(help: "Continue from the experiment's last checkpoint.") var resume = false
    @Option(help: "Rerun from this stage on (prepare, features, train, evaluate), even if earlier results are still valid.") var fromStage: String?
    @Option(help: "Stop after this stage (prepare, features, train, evaluate).") var stopAfter: String = "evaluate"

    func run() throws {
        let from = try fromStage.map { name -> Experiment.Stage in
            guard let s = Experiment.Stage(name: name) else { throw ValidationError("--from-stage must be prepare, features, train or evaluate") }
            return s
        }
        guard let stop = Experiment.Stage(name: stopAfter) else { throw ValidationError("--stop-after must be prepare, features, train or evaluate") }
        let loaded: RecipeLoader.Loaded
        do {
            loaded = try RecipeLoader.load(recipe, overrides: overrides)
        } catch let e as RecipeError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(2)
        }
        do {
            try Experiment(loaded, out: out).run(resume: resume, from: from, stopAfter: stop)
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
