import GrusCore

/// A padded, time-major batch: either dense features [T, B, F] (audio) or token ids [T·B] (text),
/// each sequence's length, and (for training and evaluation) its label.
public struct SequenceBatch {
    public var features: Tensor?
    public var tokens: [Int]?
    public var steps: Int
    public var lengths: [Int]
    public var labels: [Int]
    /// Text with a character encoder: each token slot's character ids, [T·B] time-major (row
    /// t·B + b), empty at padding.
    public var characters: [[Int]]?

    public init(features: Tensor, lengths: [Int], labels: [Int] = []) {
        precondition(features.rank == 3, "SequenceBatch: features must be [T, B, F]")
        self.features = features
        self.steps = features.shape[0]
        self.lengths = lengths
        self.labels = labels
    }

    public init(tokens: [Int], steps: Int, lengths: [Int], labels: [Int] = []) {
        precondition(tokens.count == steps * lengths.count, "SequenceBatch: \(tokens.count) ids for [\(steps), \(lengths.count)]")
        self.tokens = tokens
        self.steps = steps
        self.lengths = lengths
        self.labels = labels
    }

    public var size: Int { lengths.count }

    /// Pads token sequences (time-major) with `pad`.
    public static func padding(_ sequences: [[Int]], labels: [Int] = [], pad: Int = 0) -> SequenceBatch {
        let t = sequences.map(\.count).max() ?? 0, b = sequences.count
        var ids = [Int](repeating: pad, count: t * b)
        for (j, s) in sequences.enumerated() { for (i, v) in s.enumerated() { ids[i * b + j] = v } }
        return SequenceBatch(tokens: ids, steps: t, lengths: sequences.map(\.count), labels: labels)
    }

    /// Sets `characters` from each sequence's per-token character ids (padding slots empty).
    public mutating func setCharacters(_ perSequence: [[[Int]]]) {
        let b = lengths.count
        var rows = [[Int]](repeating: [], count: steps * b)
        for (j, s) in perSequence.enumerated() { for (t, chars) in s.enumerated() where t < steps { rows[t * b + j] = chars } }
        characters = rows
    }

    /// Pads feature sequences ([frames][dim]) into a time-major tensor.
    public static func padding(_ sequences: [[[Float]]], dim: Int, labels: [Int] = []) -> SequenceBatch {
        let t = sequences.map(\.count).max() ?? 0, b = sequences.count
        var x = Tensor(zeros: [t, b, dim])
        for (j, s) in sequences.enumerated() {
            for (i, frame) in s.enumerated() {
                for k in 0..<dim { x.data[(i * b + j) * dim + k] = frame[k] }
            }
        }
        return SequenceBatch(features: x, lengths: sequences.map(\.count), labels: labels)
    }
}
