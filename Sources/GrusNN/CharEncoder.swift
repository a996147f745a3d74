import GrusCore

/// Settings of the character encoder: an embedding per character and a bidirectional GRU.
public struct CharEncoderConfig: Codable, Equatable, Sendable {
    /// Characters in the inventory (ids 0 = padding, 1 = unknown, as in `Vocabulary`).
    public var alphabet: Int
    public var dim: Int
    public var hidden: Int
    /// Longer tokens are read as their first and last maxLength/2 characters (prefixes and
    /// suffixes carry the spelling cues; a 300-character URL would only cost time).
    public var maxLength: Int
    public var outputSize: Int { 2 * hidden }

    public init(alphabet: Int, dim: Int, hidden: Int, maxLength: Int = 20) {
        self.alphabet = alphabet
        self.dim = dim
        self.hidden = hidden
        self.maxLength = maxLength
    }
}

/// One vector per token from its characters (Lample et al. 2016; NCRF++'s char GRU): a small
/// bidirectional GRU reads each token's characters, and the last forward state and the last
/// backward state (the one at the first character) are concatenated. It gives words never seen in
/// training a representation from their spelling. Parameter names: `chars.embedding.weight`,
/// `chars.encoder.weight_ih_l0`, ... .
///
/// Letters: N token slots (T·B, row t·B + b; padding slots have no characters), W distinct
/// tokens among them (each read once), L the longest in characters, E character embedding, H
/// hidden units.
public final class CharEncoder: Module {
    public let config: CharEncoderConfig
    public let embedding: Embedding
    public let encoder: GRUEncoder
    // Saved by forward for backward: the distinct token each slot holds (-1: none), and each
    // distinct token's character count.
    private var wordOfSlot: [Int] = [], counts: [Int] = [], longest = 0

    public init(_ config: CharEncoderConfig, rng: inout RNG) {
        self.config = config
        embedding = Embedding(vocabSize: config.alphabet, dim: config.dim, paddingIndex: 0, name: "chars.embedding", rng: &rng)
        encoder = GRUEncoder(GRUConfig(inputSize: config.dim, hiddenSize: config.hidden, numLayers: 1, bidirectional: true), rng: &rng)
        for p in encoder.parameters { p.name = "chars.encoder." + p.name }
    }

    public var parameters: [Parameter] { embedding.parameters + encoder.parameters }

    /// Token vectors [N, 2H] from each slot's character ids (`characters[n]`; empty: zeros).
    public func forward(_ characters: [[Int]], training: Bool, keepForBackward: Bool = true, rng: inout RNG) -> Tensor {
        // The distinct tokens, each cut to maxLength characters (head and tail).
        var words: [[Int]] = [], index: [[Int]: Int] = [:]
        let m = config.maxLength
        wordOfSlot = characters.map { chars in
            if chars.isEmpty { return -1 }
            let cut = chars.count > m ? Array(chars.prefix(m / 2) + chars.suffix(m - m / 2)) : chars
            if let k = index[cut] { return k }
            index[cut] = words.count
            words.append(cut)
            return words.count - 1
        }
        counts = words.map(\.count)
        longest = counts.max() ?? 0
        let n = characters.count, w = words.count, h = config.hidden
        var out = Tensor(zeros: [n, 2 * h])
        if w == 0 { return out }
        // ids [L, W] time-major, padding 0 → x [L, W, E]
        var ids = [Int](repeating: 0, count: longest * w)
        for (k, word) in words.enumerated() { for (i, c) in word.enumerated() { ids[i * w + k] = c } }
        let x = embedding.forward(ids, shape: [longest, w])
        // states [L, W, 2H]
        let (states, _) = encoder.forward(x, lengths: counts, training: training, keepForBackward: keepForBackward, rng: &rng)
        // out[slot] = [forward state at the token's last character, backward state at its first]
        for (slot, k) in wordOfSlot.enumerated() where k >= 0 {
            let last = ((counts[k] - 1) * w + k) * 2 * h, first = k * 2 * h
            for j in 0..<h {
                out.data[slot * 2 * h + j] = states.data[last + j]
                out.data[slot * 2 * h + h + j] = states.data[first + h + j]
            }
        }
        return out
    }

    /// Accumulates the gradients from dLoss/dOut [N, 2H].
    public func backward(_ dOut: Tensor) {
        let w = counts.count, h = config.hidden
        if w == 0 { return }
        precondition(dOut.shape == [wordOfSlot.count, 2 * h], "CharEncoder backward: gradient \(dOut.shape) for [\(wordOfSlot.count), \(2 * h)]")
        // backward of the gather: dStates [L, W, 2H], zero but at the two states each token gave
        // (summed over the slots that hold the same token)
        var dStates = Tensor(zeros: [longest, w, 2 * h])
        for (slot, k) in wordOfSlot.enumerated() where k >= 0 {
            let last = ((counts[k] - 1) * w + k) * 2 * h, first = k * 2 * h
            for j in 0..<h {
                dStates.data[last + j] += dOut.data[slot * 2 * h + j]
                dStates.data[first + h + j] += dOut.data[slot * 2 * h + h + j]
            }
        }
        embedding.backward(encoder.backward(dStates).dInput)
    }
}
