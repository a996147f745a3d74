// Sizes a model description (model.json) may give, checked before any buffer is sized from
// them. Each problem names the key.

extension GRUConfig {
    /// Sizes a GRU may have in a model file (a recipe allows at most 4096 units and 16 layers).
    public func problems(_ key: String) -> [String] {
        var out: [String] = []
        if !(1...1_000_000).contains(inputSize) { out.append("\(key).inputSize: must be 1 to 1000000, got \(inputSize)") }
        if !(1...4096).contains(hiddenSize) { out.append("\(key).hiddenSize: must be 1 to 4096, got \(hiddenSize)") }
        if !(1...16).contains(numLayers) { out.append("\(key).numLayers: must be 1 to 16, got \(numLayers)") }
        if !(dropout >= 0 && dropout < 1) { out.append("\(key).dropout: must be in [0, 1), got \(dropout)") }
        return out
    }
}

extension ClassifierConfig {
    public func problems(labels: Int) -> [String] {
        var out = encoder.problems("architecture.encoder")
        if numClasses != labels { out.append("architecture.numClasses: \(numClasses), but there are \(labels) labels") }
        if let v = vocabSize, !(2...10_000_000).contains(v) { out.append("architecture.vocabSize: must be 2 to 10000000, got \(v)") }
        if let v = vocabSize, !(0..<v).contains(paddingIndex) { out.append("architecture.paddingIndex: must be below vocabSize (\(v)), got \(paddingIndex)") }
        if !(dropout >= 0 && dropout < 1) { out.append("architecture.dropout: must be in [0, 1), got \(dropout)") }
        return out
    }
}

extension SequenceClassifier {
    public static func problems(_ config: ClassifierConfig, labels: [String]) -> [String] { config.problems(labels: labels.count) }
}
