import GrusCore
import GrusNN

/// Trains a small bidirectional GRU on `ToyTask.markerOrder` and reports held-out accuracy.
/// `grus toy` runs it.
enum MarkerOrderRun {
    struct Result {
        var testAccuracy: Double
        var firstLoss: Float
        var finalLoss: Float
        var steps: Int
        var weights: [String: Tensor]
    }

    static func train(seed: UInt64, epochs: Int, trainSize: Int = 2048, testSize: Int = 512,
                             hidden: Int = 32, batchSize: Int = 32,
                             log: ((Int, Float, Double) -> Void)? = nil) -> Result {
        var rng = RNG(seed: seed)
        let train = ToyTask.markerOrder(count: trainSize, lengths: 20...40, rng: &rng)
        let test = ToyTask.markerOrder(count: testSize, lengths: 20...40, rng: &rng)
        let config = ClassifierConfig(vocabSize: 10, encoder: GRUConfig(inputSize: 16, hiddenSize: hidden, bidirectional: true),
                                      pooling: .last, numClasses: 2)
        let model = SequenceClassifier(config, rng: &rng)
        let opt = Adam(model.parameters, learningRate: 3e-3)
        let loss = CrossEntropy()
        var order = Array(0..<train.count)
        var first: Float = .nan, last: Float = .nan, steps = 0
        for epoch in 0..<epochs {
            rng.shuffle(&order)
            var sum: Float = 0, n = 0
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let idx = order[start..<min(start + batchSize, order.count)]
                let batch = SequenceBatch.padding(idx.map { train[$0].ids }, labels: idx.map { train[$0].label })
                let (l, _) = trainStep(model, batch, loss: loss, optimizer: opt, clipNorm: 5, rng: &rng)
                if first.isNaN { first = l }
                sum += l; n += 1; steps += 1
            }
            last = sum / Float(n)
            log?(epoch + 1, last, accuracy(model, test, batchSize: 128))
        }
        return Result(testAccuracy: accuracy(model, test, batchSize: 128), firstLoss: first, finalLoss: last,
                      steps: steps, weights: model.stateDict())
    }

    static func accuracy(_ model: SequenceClassifier, _ data: [(ids: [Int], label: Int)], batchSize: Int) -> Double {
        var correct = 0
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let part = data[start..<min(start + batchSize, data.count)]
            let batch = SequenceBatch.padding(part.map(\.ids), labels: part.map(\.label))
            correct += countCorrect(model.predict(batch), batch.labels)
        }
        return Double(correct) / Double(data.count)
    }
}
