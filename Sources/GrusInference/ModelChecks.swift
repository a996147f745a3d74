import Foundation
import GrusAudio
import GrusCore
import GrusNN
import GrusTasks

// model.json is checked as strictly as a recipe, before any buffer is sized from it: ranges,
// agreement between its parts, and finite weights. Each problem names the key.

extension ModelFrontEnd {
    /// Problems with the front end, given the model's input size (features per step, or the vocabulary size).
    package func problems(inputSize: Int, vocabularySize: Int?, alphabetSize: Int? = nil) -> [String] {
        switch self {
        case let .audio(options, cmvn, maxSeconds):
            var out = options.problems().map { "frontEnd.audio.options.\($0.field): \($0.message)" }
            if !out.isEmpty { return out }
            if options.dimension != inputSize {
                out.append("frontEnd.audio.options: give \(options.dimension) features per frame, the encoder takes \(inputSize)")
            }
            if let c = cmvn {
                if c.dimension != options.dimension || c.sumSquares.count != c.dimension {
                    out.append("frontEnd.audio.cmvn: statistics for \(c.dimension) dimensions, the features have \(options.dimension)")
                }
                if !(c.count.isFinite && c.count > 0) || !(c.sum + c.sumSquares).allSatisfy(\.isFinite) {
                    out.append("frontEnd.audio.cmvn: the statistics are not finite and positive")
                }
            }
            if !(maxSeconds.isFinite && maxSeconds >= 0) { out.append("frontEnd.audio.maxSeconds: must be 0 or more, got \(maxSeconds)") }
            return out
        case let .text(encoder):
            if vocabularySize != encoder.vocabulary.count {
                return ["frontEnd.text.vocabulary: \(encoder.vocabulary.count) tokens, the embedding has \(vocabularySize.map(String.init) ?? "none")"]
            }
            // Character ids index the character encoder's embedding: the two inventories are one.
            if let alphabetSize, encoder.characters?.count != alphabetSize {
                return ["frontEnd.text.characters: \(encoder.characters.map { "\($0.count) characters" } ?? "none"), the character encoder has \(alphabetSize)"]
            }
            return []
        }
    }
}

extension ModelBundle {
    /// Everything wrong with a model description, before the model is built.
    package func problems() -> [String] {
        var out: [String] = []
        if labels.isEmpty { out.append("labels: empty") }
        var seen = Set<String>()
        for l in labels where !seen.insert(l).inserted { out.append("labels: '\(l)' appears twice") }
        out += architecture.problems(labels: labels)
        guard out.isEmpty else { return out }
        return out + frontEnd.problems(inputSize: architecture.inputSize, vocabularySize: architecture.vocabularySize,
                                       alphabetSize: architecture.alphabetSize)
    }
}

/// Refuses weights that are not finite (a diverged or damaged model).
package func checkFinite(_ tensors: [String: Tensor], source: String) throws {
    for (name, t) in tensors.sorted(by: { $0.key < $1.key }) where !t.data.allSatisfy(\.isFinite) {
        throw GrusError.format(path: source, message: "tensor '\(name)' holds NaN or infinite values; the model is damaged or diverged")
    }
}
