import Foundation
import GrusAudio
import GrusCore
import GrusInference
import GrusNN
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain
import GrusText

/// `model.init_from`: a new model starts from a finished experiment's weights.
/// - The encoders (`encoder.*`, `chars.*`) are copied; their shapes must match, so the source's
///   encoder settings and input size (front end, stack_frames, embedding size) must be this run's.
/// - The head (`head.*`, `crf.*`, `intent.*`) is copied only when the task and its labels, in
///   order, are the same; otherwise this run's new head is kept.
/// - Text: with `init_embedding`, the rows of tokens both vocabularies hold are copied; the rest
///   keep their new initialisation.
package enum Transfer {
    /// What the source model is, from its model.json.
    package struct Source: Decodable {
        package var task: String?
        package var labels: [String]
        package var frontEnd: ModelFrontEnd
    }

    /// Identity of the source weights for the train stage's key: retraining the source retrains this.
    package static func identity(_ path: String) -> String {
        guard !path.isEmpty, let folder = try? ModelFolder.locate(path) else { return "" }
        var st = stat()
        let weights = folder.dir.appendingPathComponent("model.safetensors").path
        guard stat(weights, &st) == 0 else { return "missing" }
        return "\(weights):\(st.st_size):\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    }

    /// Copies what fits from the source into `model`; returns lines for the log.
    package static func initialise<M: TaskModel>(_ model: M, task: String, labels: [String], frontEnd: ModelFrontEnd,
                                                 recipe: Recipe, recipeFile: String) throws -> [String] {
        let path = recipe.model.initFrom
        func fail(_ message: String) -> RecipeError {
            RecipeError(issues: [RecipeIssue(file: recipeFile, keyPath: "model.init_from", message: message)])
        }
        let folder: ModelFolder
        do { folder = try ModelFolder.locate(path) } catch { throw fail("\(error)") }
        let source: Source
        do { source = try JSONDecoder().decode(Source.self, from: folder.json) } catch {
            throw fail("\(folder.jsonURL.path) is not a Grus model description: \(readable(error))")
        }
        // The source must be a model its description and weights agree on (what `grus predict`
        // opens): a model.json edited after training, or weights from another run, are refused.
        do { _ = try Models.load(folder.dir.path) } catch {
            throw fail("\(folder.dir.path): its model.json and model.safetensors do not describe one model: \(error)")
        }
        let weightsURL = folder.dir.appendingPathComponent("model.safetensors")
        let tensors = try ModelWeights.read(weightsURL)
        try checkFinite(tensors, source: weightsURL.path)
        var notes: [String] = []
        if let problem = frontEndMismatch(source.frontEnd, frontEnd) { notes.append("init_from: note: \(problem)") }

        let sourceTask = source.task ?? Tasks.unnamed
        let sameHead = sourceTask == task && source.labels == labels
        var copied: [String] = [], newHead = false
        for p in model.parameters {
            let name = p.name
            let isEncoder = name.hasPrefix("encoder.") || name.hasPrefix("chars.")
            if isEncoder {
                guard let t = tensors[name] else {
                    if name.hasPrefix("chars.") { continue }   // the source had no character encoder: this one starts new
                    throw fail("\(path) has no \(name): its encoder has fewer layers or directions than model.encoder asks for; use the source's encoder settings")
                }
                guard t.shape == p.value.shape else {
                    throw fail("\(name) is \(t.shape) in \(path) and \(p.value.shape) here; the encoder settings and the input size per step (front end, model.stack_frames, model.embedding_dim) must be the source's")
                }
                p.value = t
                copied.append(name)
            } else if name == "embedding.weight" {
                continue
            } else if sameHead, let t = tensors[name], t.shape == p.value.shape {
                p.value = t
                copied.append(name)
            } else {
                newHead = true
            }
        }
        notes.append("init_from \(path): copied \(copied.count) tensors (\(copied.contains { $0.hasPrefix("encoder.") } ? "encoder" : "")"
                     + (copied.contains { $0.hasPrefix("chars.") } ? ", character encoder" : "")
                     + (sameHead && !newHead ? ", head: same task and labels" : "") + ")")
        if newHead {
            notes.append("init_from: a new head (\(sourceTask == task ? "the labels differ from the source's" : "the source is a \(sourceTask) model")), trained from scratch")
        }
        if let emb = model.embedding, recipe.model.initEmbedding {
            notes.append(try copyEmbeddingRows(emb, source: source, tensors: tensors, into: frontEnd, fail: fail))
        }
        return notes
    }

    /// Text: copies the source embedding's rows of the tokens this vocabulary shares with it.
    package static func copyEmbeddingRows(_ emb: Embedding, source: Source, tensors: [String: Tensor], into frontEnd: ModelFrontEnd,
                                          fail: (String) -> RecipeError) throws -> String {
        guard case let .text(target) = frontEnd, case let .text(from) = source.frontEnd, let t = tensors["embedding.weight"] else {
            throw fail("the source has no text embedding to copy rows from; set model.init_embedding: false")
        }
        let dim = emb.weight.value.shape[1]
        guard t.shape.count == 2, t.shape[1] == dim else {
            throw fail("the source's embeddings have \(t.shape.last ?? 0) values per token, this model \(dim); set model.embedding_dim: \(t.shape.last ?? 0)")
        }
        var w = emb.weight.value, found = 0
        for (row, token) in target.vocabulary.tokens.enumerated() {
            guard let s = from.vocabulary.id(token), s < t.shape[0] else { continue }
            for j in 0..<dim { w.data[row * dim + j] = t.data[s * dim + j] }
            found += 1
        }
        emb.weight.value = w
        return String(format: "init_from: embedding rows of %d of %d tokens copied (%.1f%%); the rest start new", found, target.vocabulary.count,
                      100 * Double(found) / Double(max(1, target.vocabulary.count)))
    }

    /// Why the source's inputs differ from this run's (rate, feature kind, tokenizer), or nil.
    package static func frontEndMismatch(_ a: ModelFrontEnd, _ b: ModelFrontEnd) -> String? {
        switch (a, b) {
        case let (.audio(x, _, _), .audio(y, _, _)):
            var differences: [String] = []
            if x.frame.sampleRate != y.frame.sampleRate { differences.append("sample rate \(x.frame.sampleRate) Hz there, \(y.frame.sampleRate) Hz here") }
            if x.kind != y.kind { differences.append("features \(x.kind.rawValue) there, \(y.kind.rawValue) here") }
            if x.cmvn != y.cmvn { differences.append("CMVN \(x.cmvn.rawValue) there, \(y.cmvn.rawValue) here (global shows as none)") }
            return differences.isEmpty ? nil : "the source model's front end differs: " + differences.joined(separator: "; ")
        case (.text, .text):
            return nil
        default:
            return "the source model read \(a.isAudio ? "audio" : "text"), this one reads \(b.isAudio ? "audio" : "text")"
        }
    }
}

extension ModelFrontEnd {
    package var isAudio: Bool { if case .audio = self { return true }; return false }
}
