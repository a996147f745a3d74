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
        reused); --from-stage reruns from a stage on. An invalid recipe exits with code 2.
        """)

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @OptionGroup var set: OverrideOptions
    @Option(help: "Experiment folder (default: experiment.out from the recipe).") var out: String?
    @Flag(help: "Continue from the experiment's last checkpoint (the recipe must match the one it was trained with, but for training.epochs and evaluation keys).") var resume = false
    @Flag(help: "With --resume: go on even though recipe keys changed (the log and recipe.yaml record the new values).") var force = false
    @Option(help: "Rerun from this stage on (\(Experiment.Stage.allCases.map(\.rawValue).joined(separator: ", "))), even if earlier results are still valid.")
    var fromStage: Experiment.Stage?
    @Option(help: "Stop after this stage.") var stopAfter: Experiment.Stage = .evaluate

    func run() throws {
        try reportingErrors {
            let loaded = try RecipeLoader.load(recipe, overrides: set.overrides)
            try Experiment(loaded, out: out).run(resume: resume, force: force, from: fromStage, stopAfter: stopAfter)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate a recipe and print it resolved (includes merged, overrides applied, defaults filled).",
        discussion: "Exits with code 2 and lists every problem (file, key path, what is wrong) when the recipe is invalid.")

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @OptionGroup var set: OverrideOptions

    func run() throws {
        try reportingErrors { print(try RecipeLoader.load(recipe, overrides: set.overrides).resolvedYAML, terminator: "") }
    }
}

struct RecipeKeys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe-keys",
        abstract: "List every recipe key with its type, range, default and help.",
        discussion: "With a section (corpus, frontend.audio, training.schedule, ...), only the keys below it.")

    @Argument(help: "A section or key path (default: all).") var section: String?
    @Flag(help: "Markdown table instead of plain text.") var markdown = false

    func run() throws {
        guard let field = section.map({ RecipeSchema.root.field(at: $0) }) ?? RecipeSchema.root else {
            throw ValidationError("'\(section!)' is not a recipe section or key; `grus recipe-keys` lists them")
        }
        let rows = RecipeSchema.rows(field, prefix: section ?? "")
        if markdown {
            print("| key | type | default | help |\n|---|---|---|---|")
            for r in rows { print("| `\(r.key)` | \(r.type) | \(r.defaultValue.isEmpty ? "" : "`\(r.defaultValue)`") | \(r.help) |") }
        } else {
            for r in rows { print("\(r.key)  (\(r.type); default \(r.defaultValue.isEmpty ? "none" : r.defaultValue))\n    \(r.help)") }
        }
    }
}
