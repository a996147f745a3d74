import XCTest
import GrusCore
@testable import GrusNN

/// Training details of the classifier (the end-to-end learning check is `grus toy`, in ToyCommandTests).
final class LearningTests: XCTestCase {
    /// A frozen embedding (pretrained vectors) stays as loaded; everything else trains.
    func testFrozenEmbeddingDoesNotChange() {
        var rng = RNG(seed: 8)
        let model = SequenceClassifier(ClassifierConfig(vocabSize: 6, encoder: GRUConfig(inputSize: 3, hiddenSize: 4), numClasses: 2), rng: &rng)
        let rows = (0..<6).map { i in [Float(i), 0.5, -0.5] }
        model.embedding!.load(rows: rows, freeze: true)
        let before = model.embedding!.weight.value
        let head = model.head.weight.value
        let opt = Adam(model.parameters, learningRate: 0.1)
        let batch = SequenceBatch.padding([[1, 2, 3], [4, 5]], labels: [0, 1])
        for _ in 0..<3 { trainStep(model, batch, loss: CrossEntropy(), optimizer: opt, rng: &rng) }
        XCTAssertEqual(model.embedding!.weight.value, before)
        XCTAssertEqual(before[0, 0], 0, "padding row stays zero")
        XCTAssertNotEqual(model.head.weight.value, head)
        model.embedding!.weight.trainable = true
        trainStep(model, batch, loss: CrossEntropy(), optimizer: opt, rng: &rng)
        XCTAssertNotEqual(model.embedding!.weight.value, before, "unfrozen, it trains")
    }
}
