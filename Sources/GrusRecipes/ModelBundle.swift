import Foundation
import GrusAudio
import GrusCore
import GrusNN
import GrusText

/// Everything a trained model needs to run on new inputs, kept in the experiment's `model/`:
/// `model.safetensors` (PyTorch-style names) and `model.json` (architecture, labels, front end
/// with its normalisation statistics or tokenizer).
public struct ModelBundle: Codable {
    public enum FrontEnd: Codable {
        case audio(options: FeatureOptions, cmvn: CMVNStats?, maxSeconds: Double)
        case text(TextEncoder)
    }

    public var format = "grus-model-1"
    public var labels: [String]
    public var architecture: ClassifierConfig
    public var frontEnd: FrontEnd

    public static func save(_ bundle: ModelBundle, model: SequenceClassifier, to dir: URL) throws {
        try Safetensors.save(model.stateDict(), metadata: ["format": "pt", "grus": bundle.format], to: dir.appendingPathComponent("model.safetensors"))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(bundle), to: dir.appendingPathComponent("model.json"))
    }

    /// Loads `dir` (an experiment folder or its `model/`), checking that the weights fit model.json.
    public static func load(_ path: String) throws -> (bundle: ModelBundle, model: SequenceClassifier) {
        var dir = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("model/model.json").path) {
            dir = dir.appendingPathComponent("model")
        }
        let jsonURL = dir.appendingPathComponent("model.json")
        guard let data = readWholeFile(jsonURL.path) else {
            throw GrusError.io(path: jsonURL.path, message: "no model here; pass an experiment folder made by `grus run`")
        }
        let bundle: ModelBundle
        do { bundle = try JSONDecoder().decode(ModelBundle.self, from: data) } catch {
            throw GrusError.format(path: jsonURL.path, message: "not a valid Grus model description (\(error))")
        }
        guard !bundle.labels.isEmpty, bundle.labels.count == bundle.architecture.numClasses else {
            throw GrusError.format(path: jsonURL.path, message: "\(bundle.labels.count) labels for \(bundle.architecture.numClasses) classes")
        }
        var rng = RNG(seed: 0)
        let model = SequenceClassifier(bundle.architecture, rng: &rng)
        let weights = try Safetensors.load(dir.appendingPathComponent("model.safetensors"))
        try model.loadStateDict(weights.tensors, source: dir.appendingPathComponent("model.safetensors").path)
        return (bundle, model)
    }
}
