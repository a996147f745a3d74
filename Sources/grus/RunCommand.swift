import ArgumentParser
import Foundation
import GrusCore
import GrusExperiment
import GrusExport
import GrusInference
import GrusRecipes
import GrusReports
import GrusTasks
import GrusTrain

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe: prepare the corpus, compute features, train, evaluate.",
        discussion: """
        Leaves an experiment folder (printed at the start and the end) holding recipe.yaml (the \
        resolved recipe), model/ (model.safetensors, model.json), checkpoints/ (best, last), \
        metrics.json, dev-metrics.json, predictions.jsonl, train-log.csv, log.txt and cache/. A \
        finished stage is skipped when its inputs are unchanged (features and the trained model are \
        reused); --from-stage reruns from a stage on. A folder holding a run made with other \
        values (say, another --set) is not overwritten: give the new run its own --out, or add \
        --force. --seeds N runs seeds 1..N into OUT/seed-K and writes the mean and standard \
        deviation of every metric to OUT/seeds.json. An invalid recipe exits with code 2.

        Under `mpirun -np N grus run RECIPE` (Open MPI) the ranks train one model together: each \
        takes its share of every batch, the gradients are summed with MPI_Allreduce, and rank 0 \
        alone writes the folder. Threads default to the cores divided among the ranks per machine.
        """)

    @Argument(help: "Recipe file (YAML).") var recipe: String
    @OptionGroup var set: OverrideOptions
    @Option(help: "Experiment folder (default: experiment.out from the recipe).") var out: String?
    @Flag(help: "Continue from the experiment's last checkpoint (the recipe must match the one it was trained with, but for training.epochs and evaluation keys).") var resume = false
    @Flag(help: "Replace a finished run in the folder that was made with other recipe values (refused otherwise; use --out to keep both). With --resume: go on even though recipe keys changed (the log and recipe.yaml record the new values).") var force = false
    @Option(help: "Rerun from this stage on (\(Experiment.Stage.allCases.map(\.rawValue).joined(separator: ", "))), even if earlier results are still valid.")
    var fromStage: Experiment.Stage?
    @Option(help: "Stop after this stage.") var stopAfter: Experiment.Stage = .evaluate
    @Option(help: "Run this many seeds (experiment.seed and the ones after it) into OUT/seed-K, and write each metric's mean and standard deviation to OUT/seeds.json.")
    var seeds: Int?

    func validate() throws {
        if let n = seeds {
            guard (1...1000).contains(n) else { throw ValidationError("--seeds must be between 1 and 1000") }
            guard fromStage == nil && stopAfter == .evaluate else { throw ValidationError("--seeds runs every stage; leave out --from-stage and --stop-after") }
        }
    }

    func run() throws {
        if Distributed.launched {
            do {
                try Distributed.start()
                guard seeds == nil else { throw ValidationError("--seeds runs one seed after another; under mpirun run each seed with its own --set experiment.seed=K") }
                Threads.set(0)
            } catch {
                Distributed.abort("\(error)")
            }
            do {
                try runRecipe()
            } catch let e as ExitCode {
                // One rank failing alone would leave the others waiting in a collective. The job
                // ends with the rank's own exit code (2 for a recipe error, as without mpirun).
                Distributed.abort("stopping every rank after the error above", code: e.rawValue)
            } catch {
                Distributed.abort("stopping every rank after the error above")
            }
            Distributed.finish()
            return
        }
        try runRecipe()
    }

    func runRecipe() throws {
        try reportingErrors {
            if let n = seeds {
                let summary = try SeedRuns.run(recipe: recipe, overrides: set.overrides, out: out, seeds: n, resume: resume, force: force)
                print("\(n) seeds (\(summary.seeds.map(String.init).joined(separator: ", "))), mean ± standard deviation:\n" + summary.table)
                return
            }
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

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare finished runs: the recipe keys that differ, the metrics, parameters, training time and throughput.",
        discussion: """
        Each EXP is an experiment folder, or a folder made by `grus run --seeds N` (shown as the \
        mean ± standard deviation over its seeds). Metrics are percentages but for losses; \
        training time and sequences per second are those of the training steps (training.json).
        """)

    @Argument(help: "Experiment folders.") var experiments: [String]
    @Flag(help: "A Markdown table.") var markdown = false
    @Flag(help: "JSON (metrics as fractions, as metrics.json holds them).") var json = false

    func validate() throws {
        guard !experiments.isEmpty else { throw ValidationError("give at least one experiment folder") }
        guard !(markdown && json) else { throw ValidationError("--markdown and --json exclude each other") }
    }

    func run() throws {
        try reportingErrors {
            let comparison = RunComparison(try experiments.map { try RunSummary.read($0) })
            if json { print(String(decoding: try comparison.json(), as: UTF8.self)) } else { print(markdown ? comparison.markdown : comparison.text) }
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trained model for other runtimes.",
        discussion: """
        --onnx writes the whole model of any task as one ONNX graph (opset 17) with ONNX's own GRU \
        operator and sequence_lens, so ragged batches are exact. Inputs: `features` float [T, B, F] \
        (audio; global CMVN is inside the graph) or `tokens` int64 [T, B] (text), and `lengths` \
        int32 [B]; a character encoder adds `characters` int64 [T·B, C] and `character_lengths`. \
        LSTM encoders become ONNX's LSTM. Outputs: classify `probabilities`; tag `scores` (and a CRF's `transitions`, \
        `start_transitions`, `end_transitions`); joint `intent_probabilities` and `slot_scores`; \
        transcribe `log_probs` and `steps`. The labels are in the model's metadata. Example:
          grus export --onnx experiments/fsdd fsdd.onnx
        """)

    @Argument(help: "Experiment folder (or its model/ folder).") var experiment: String
    @Argument(help: "Output file.") var output: String
    @Flag(help: "ONNX (the only format so far; required).") var onnx = false

    func validate() throws {
        guard onnx else { throw ValidationError("give the format: --onnx") }
    }

    func run() throws {
        try refuseExperimentFiles(output, experiments: [experiment])
        try reportingErrors {
            let s = try ONNXExport.export(experiment: experiment, to: URL(fileURLWithPath: output))
            print("\(output): \(s.task) model, \(s.parameters) parameters, \(s.nodes) nodes, \(s.bytes) bytes (ONNX opset 17)")
        }
    }
}
