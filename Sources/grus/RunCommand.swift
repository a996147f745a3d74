import ArgumentParser
import Foundation
import GrusRecipes

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe: prepare the corpus, compute features, train, evaluate.",
        discussion: """
        Leaves an experiment folder (printed at the start and the end) holding recipe.yaml (the \
        resolved recipe), model/ (model.safetensors, model.json), checkpoints/ (best, last), \
        metrics.json, dev-metrics.json, predictions.jsonl, train-log.csv and log.txt. An invalid \
        recipe exits with code 2 and writes nothing.
        """)

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @Option(name: .customLong("set"), help: "Override a key: --set training.lr=0.01 (repeatable).") var overrides: [String] = []
    @Option(help: "Experiment folder (default: experiment.out from the recipe).") var out: String?
    @Flag(help: "Continue from the experiment's last checkpoint.") var resume = false

    func run() throws {
        let loaded: RecipeLoader.Loaded
        do {
            loaded = try RecipeLoader.load(recipe, overrides: overrides)
        } catch let e as RecipeError {
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            throw ExitCode(2)
        }
        do {
            try Experiment(loaded, out: out).run(resume: resume)
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
