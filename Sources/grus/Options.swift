import ArgumentParser
import Foundation
import GrusCore
import GrusExperiment
import GrusInference
import GrusRecipes
import GrusReports
import GrusTasks
import GrusTrain

/// `--set key.path=value`, the one way to change a recipe key from the command line.
struct OverrideOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: "Override a recipe key: --set training.lr=0.01 (repeatable; `grus recipe-keys` lists them).")
    var overrides: [String] = []
}

/// A trained model to load.
struct ModelOptions: ParsableArguments {
    @Option(help: "Experiment folder (or its model/ folder). Give it again to average several models' outputs (class probabilities, or CTC's per-step posteriors): an ensemble of seeds of one recipe.")
    var model: [String]
    @Flag(help: "Stream the GRU's recurrent weights as Float16 (faster at batch 1; probabilities move by about 1e-3).") var fp16 = false

    func validate() throws { guard !model.isEmpty else { throw ValidationError("give --model EXPERIMENT") } }

    /// The first model's folder (its recipe describes the corpus).
    var path: String { model[0] }

    func load() throws -> any LoadedModel { try Models.load(model, halfPrecision: fp16) }
}

struct ThreadOptions: ParsableArguments {
    @Option(help: ArgumentHelp(RecipeSchema.help("training.threads"))) var threads: Int = 0

    func validate() throws {
        guard (0...256).contains(threads) else { throw ValidationError("--threads must be 0 (all cores) to 256") }
    }

    func apply() { Threads.set(threads) }
}

extension Experiment.Stage: ExpressibleByArgument {}

/// Runs a command body, turning recipe problems into exit code 2 and other errors into 1, with
/// the message on standard error.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
        // Output that could not be written (a full disk, a closed pipe, /dev/full) is a failure.
        if fflush(stdout) != 0 || ferror(stdout) != 0 {
            FileHandle.standardError.write(Data("error: standard output could not be written (\(String(cString: strerror(errno))))\n".utf8))
            throw ExitCode(1)
        }
    } catch let e as ExitCode {
        throw e
    } catch let e as RecipeError {
        FileHandle.standardError.write(Data("\(e)\n".utf8))
        throw ExitCode(2)
    } catch let e as ValidationError {
        throw e
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// Refuses an output path that is one of an experiment's own files (its weights, metrics, logs,
/// checkpoints): `grus export --onnx EXP EXP/model/model.safetensors` must not destroy the model.
func refuseExperimentFiles(_ output: String?, experiments: [String]) throws {
    guard let output else { return }
    let out = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardized.path
    let own: Set = ["recipe.yaml", "log.txt", "metrics.json", "dev-metrics.json", "predictions.jsonl", "report.html", "train-log.csv",
                    "training.json", "data.json", "bad-inputs.jsonl", "seeds.json"]
    for experiment in experiments {
        var root = URL(fileURLWithPath: experiment).resolvingSymlinksInPath().standardized
        if root.lastPathComponent == "model" { root = root.deletingLastPathComponent() }
        guard out.hasPrefix(root.path + "/") else { continue }
        let file = String(out.dropFirst(root.path.count + 1))
        if own.contains(file) || ["model/", "checkpoints/", "cache/", "tb/"].contains(where: { file.hasPrefix($0) }) {
            throw ValidationError("\(output) is \(experiment)'s own \(file); write it elsewhere")
        }
    }
}
