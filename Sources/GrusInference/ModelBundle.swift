import Foundation
import GrusAudio
import GrusCore
import GrusNN
import GrusTasks
import GrusText

/// The front end a model was trained with, saved in model.json so that `grus eval`, `grus
/// predict` and other programs reproduce its inputs exactly.
public enum ModelFrontEnd: Codable {
    /// Feature options, global CMVN statistics (nil: none, or per utterance as the options say),
    /// and the crop length in seconds (0: none).
    case audio(options: FeatureOptions, cmvn: CMVNStats?, maxSeconds: Double)
    case text(TextEncoder)
}

/// Everything a trained model needs to run on new inputs, kept in the experiment's `model/`:
/// `model.safetensors` (PyTorch-style names) and `model.json` (format, task, labels,
/// architecture, front end with its normalisation statistics or tokenizer).
public struct ModelBundle<Task: SequenceTask>: Codable {
    /// The format this Grus writes.
    public static var format: String { "grus-model-2" }
    /// model.json's fields: its format, the task, the labels, the model's configuration and the front end.
    public var format = ModelBundle.format
    public var task = Task.name
    public var labels: [String]
    public var architecture: Task.Model.Config
    public var frontEnd: ModelFrontEnd

    /// A description of a model trained for these labels.
    public init(labels: [String], architecture: Task.Model.Config, frontEnd: ModelFrontEnd) {
        self.labels = labels
        self.architecture = architecture
        self.frontEnd = frontEnd
    }

    /// Writes model.safetensors and model.json into `dir`.
    public func save(model: Task.Model, to dir: URL) throws {
        let form = model.encoder.config.form
        try Safetensors.save(ModelWeights.marked(model.stateDict(), form: form),
                             metadata: ["format": "pt", "grus": format, "grus_task": task, "grus_gru_form": form.rawValue],
                             to: dir.appendingPathComponent("model.safetensors"))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: dir.appendingPathComponent("model.json"))
    }

    /// Loads a model folder found by `ModelFolder.locate`, checking that the weights fit model.json.
    package static func load(_ folder: ModelFolder) throws -> (bundle: ModelBundle, model: Task.Model) {
        let bundle: ModelBundle
        do { bundle = try JSONDecoder().decode(ModelBundle.self, from: folder.json) } catch {
            throw GrusError.format(path: folder.jsonURL.path, message: "not a valid Grus model description: \(readable(error)) (does its task, '\(Task.name)', match the model it describes?)")
        }
        let problems = bundle.problems()
        guard problems.isEmpty else {
            throw GrusError.format(path: folder.jsonURL.path, message: problems.joined(separator: "; "))
        }
        var rng = RNG(seed: 0)
        let model = Task.Model(bundle.architecture, rng: &rng)
        let weightsURL = folder.dir.appendingPathComponent("model.safetensors")
        let tensors = try ModelWeights.read(weightsURL)
        try model.loadStateDict(tensors, source: weightsURL.path)
        try checkFinite(tensors, source: weightsURL.path)
        return (bundle, model)
    }
}

/// A model folder on disk (an experiment folder or its `model/`) and which task wrote it.
package struct ModelFolder {
    package let dir: URL
    package let jsonURL: URL
    package let json: Data
    package let task: any SequenceTask.Type

    /// Reads model.json's format and task (models from before tasks existed are classifiers).
    package static func locate(_ path: String) throws -> ModelFolder {
        var dir = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model/model.json").path) {
            dir = dir.appendingPathComponent("model")
        }
        let jsonURL = dir.appendingPathComponent("model.json")
        guard let data = readWholeFile(jsonURL.path) else {
            throw GrusError.io(path: jsonURL.path, message: "no model here; pass an experiment folder made by `grus run`")
        }
        struct Header: Decodable { var format: String; var task: String? }
        guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
            throw GrusError.format(path: jsonURL.path, message: "not a valid Grus model description (no format)")
        }
        guard ["grus-model-1", "grus-model-2"].contains(header.format) else {
            throw GrusError.format(path: jsonURL.path, message: "format '\(header.format)' is not one this Grus reads (grus-model-1, grus-model-2)")
        }
        let name = header.task ?? Tasks.unnamed
        guard let task = Tasks.named(name) else {
            throw GrusError.format(path: jsonURL.path, message: "task '\(name)' is not one of \(Tasks.names.joined(separator: ", "))")
        }
        return ModelFolder(dir: dir, jsonURL: jsonURL, json: data, task: task)
    }
}

/// model.safetensors names its tensors as PyTorch does, so `nn.GRU.load_state_dict` takes a
/// PyTorch-form encoder as it is. A Cho 2014 encoder computes something else with the same
/// shapes; its hidden biases are saved as `encoder.bias_hh_cho2014_lK` instead, so a strict
/// load into `nn.GRU` fails naming them, and the metadata says `grus_gru_form: cho2014`.
package enum ModelWeights {
    package static func marked(_ d: [String: Tensor], form: GRUForm) -> [String: Tensor] {
        guard form == .cho2014 else { return d }
        return Dictionary(uniqueKeysWithValues: d.map { k, v in
            (k.hasPrefix("encoder.") ? k.replacingOccurrences(of: ".bias_hh_l", with: ".bias_hh_cho2014_l") : k, v)
        })
    }

    /// The tensors of a model.safetensors under the names the modules use.
    package static func read(_ url: URL) throws -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: try Safetensors.load(url).tensors.map { k, v in
            (k.replacingOccurrences(of: ".bias_hh_cho2014_l", with: ".bias_hh_l"), v)
        })
    }
}
