import Foundation
import GrusCore
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
import GrusNN
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// What data-parallel training rests on, checked in one process for every task: shares of a
/// batch, each divided by the whole batch's loss denominators, have gradients and losses that
/// sum to the whole batch's. Class weights, a CRF and the joint loss's two terms included.
final class DataParallelTests: FolderTestCase {
    /// A recipe for `task` (its model and training sections are what the tests use).
    func model(_ yaml: String, task: String = "classify") throws -> Recipe {
        let url = dir.appendingPathComponent("m.yaml")
        let format = ["classify": "fasttext", "tag": "conll", "joint": "seq_in"][task]!
        try ("task: \(task)\ncorpus: {format: \(format), path: \(dir.path)}\nfrontend: {type: text}\n" + yaml).write(to: url, atomically: true, encoding: .utf8)
        return try RecipeLoader.load(url.path).recipe
    }

    func gradients(_ m: some Module) -> [[Float]] { m.parameters.map(\.grad.data) }

    /// Whole batch against shares [0, 3) and [3, n) with the batch's denominators.
    func checkShares<T: TrainableTask>(_ task: T, _ m: T.Model, _ batch: ([Int]) -> SequenceBatch, _ targets: [T.Target],
                                      file: StaticString = #filePath, line: UInt = #line) {
        let n = targets.count
        var rng = RNG(seed: 1)
        m.zeroGrad()
        let (whole, backward) = task.loss(m, batch(Array(0..<n)), targets, rng: &rng)
        backward()
        let expected = gradients(m)
        let denominators = task.lossDenominators(m, targets)
        var summed = expected.map { [Float](repeating: 0, count: $0.count) }, loss: Float = 0
        for share in [0..<3, 3..<n] {
            m.zeroGrad()
            let (l, b) = task.loss(m, batch(Array(share)), Array(targets[share]), denominators: denominators, rng: &rng)
            b()
            loss += l
            for (k, g) in gradients(m).enumerated() { for i in g.indices { summed[k][i] += g[i] } }
        }
        XCTAssertEqual(loss, whole, accuracy: 1e-5 * max(1, abs(whole)), "\(T.name) loss", file: file, line: line)
        var worst: Float = 0, scale: Float = 0
        for (e, s) in zip(expected, summed) { for (a, b) in zip(e, s) { worst = max(worst, abs(a - b)); scale = max(scale, abs(a)) } }
        XCTAssertGreaterThan(scale, 0, "\(T.name): no gradient at all", file: file, line: line)
        XCTAssertLessThanOrEqual(worst, 1e-6 * max(1, scale), "\(T.name) gradients", file: file, line: line)
    }

    func tokens(_ n: Int, rng: inout RNG) -> [[Int]] { (0..<n).map { _ in (0..<(2 + rng.int(below: 5))).map { _ in 2 + rng.int(below: 10) } } }

    func testSharesSumToTheBatch() throws {
        var rng = RNG(seed: 3)
        let seqs = tokens(7, rng: &rng)
        let text: ([Int]) -> SequenceBatch = { idx in SequenceBatch.padding(idx.map { seqs[$0] }) }
        let weightedYAML = "model: {embedding_dim: 6, encoder: {hidden: 5, layers: 1}}\ntraining: {class_weights: balanced, label_smoothing: 0.1}\n"
        let weighted = try model(weightedYAML)

        var classify = ClassifyTask(labels: ["a", "b", "c"])
        let labels = seqs.map { _ in rng.int(below: 3) }
        classify.configureLoss(weighted.training.lossOptions, targets: labels + [0, 0])    // uneven counts: weights differ
        let spec = ModelSpec(vocabularySize: 12, encoder: weighted.model.encoder.gruConfig(inputSize: 6), head: weighted.model.headOptions)
        checkShares(classify, classify.makeModel(spec, rng: &rng), text, labels)

        let tags = seqs.map { $0.map { _ in rng.int(below: 3) } }
        var tagger = TagTask(labels: ["O", "B-X", "I-X"])
        tagger.configureLoss(weighted.training.lossOptions, targets: tags)
        checkShares(tagger, tagger.makeModel(spec, rng: &rng), text, tags)

        let crfRecipe = try model("model: {embedding_dim: 6, encoder: {hidden: 5, layers: 1}, head: {crf: true, transition_mask: none}}\n", task: "tag")
        let crfSpec = ModelSpec(vocabularySize: 12, encoder: crfRecipe.model.encoder.gruConfig(inputSize: 6), head: crfRecipe.model.headOptions)
        var crfTagger = TagTask(labels: ["O", "B-X", "I-X"])
        crfTagger.configureLoss(crfRecipe.training.lossOptions, targets: tags)
        checkShares(crfTagger, crfTagger.makeModel(crfSpec, rng: &rng), text, tags)

        var joint = JointTask(labels: ["intent=p", "intent=q", "tag=O", "tag=B-X", "tag=I-X"])
        let jointTargets = zip(labels, tags).map { JointTask.Target(intent: $0 % 2, tags: $1) }
        for r in [try model(weightedYAML, task: "joint"), try model("model: {embedding_dim: 6, encoder: {hidden: 5, layers: 1}, head: {crf: true, transition_mask: none}}\n", task: "joint")] {
            joint.configureLoss(r.training.lossOptions, targets: jointTargets)
            let s = ModelSpec(vocabularySize: 12, encoder: r.model.encoder.gruConfig(inputSize: 6), head: r.model.headOptions)
            checkShares(joint, joint.makeModel(s, rng: &rng), text, jointTargets)
        }

        // CTC over features, with lengths that differ.
        let frames = (0..<7).map { k in (0..<(6 + k)).map { _ in (0..<4).map { _ in rng.normal() } } }
        let audio: ([Int]) -> SequenceBatch = { idx in SequenceBatch.padding(idx.map { frames[$0] }, dim: 4) }
        let plain = try model("model: {encoder: {hidden: 5, layers: 1}}\n")
        var ctc = TranscribeTask(labels: ["<blank>", "1", "2"])
        ctc.configureLoss(plain.training.lossOptions, targets: [])
        let transcripts = (0..<7).map { _ in (0..<(1 + rng.int(below: 2))).map { _ in 1 + rng.int(below: 2) } }
        checkShares(ctc, ctc.makeModel(ModelSpec(encoder: plain.model.encoder.gruConfig(inputSize: 4), head: plain.model.headOptions), rng: &rng), audio, transcripts)
    }

    /// The joint loss is w · intent + (1 − w) · slots: a CRF's transitions get (1 − w) of the
    /// slot gradient, as finite differences of the whole loss say.
    func testJointLossWeightsTheCRFTransitions() throws {
        var rng = RNG(seed: 5)
        let r = try model("model: {embedding_dim: 6, encoder: {hidden: 5, layers: 1}, head: {crf: true, transition_mask: none}}\ntraining: {intent_weight: 0.7}\n", task: "joint")
        var joint = JointTask(labels: ["intent=p", "intent=q", "tag=O", "tag=B-X", "tag=I-X"])
        let seqs = tokens(4, rng: &rng)
        let targets = seqs.map { JointTask.Target(intent: rng.int(below: 2), tags: $0.map { _ in rng.int(below: 3) }) }
        joint.configureLoss(r.training.lossOptions, targets: targets)
        let m = joint.makeModel(ModelSpec(vocabularySize: 12, encoder: r.model.encoder.gruConfig(inputSize: 6), head: r.model.headOptions), rng: &rng)
        let batch = SequenceBatch.padding(seqs)
        var g = RNG(seed: 1)
        m.zeroGrad()
        let (_, backward) = joint.loss(m, batch, targets, rng: &g)
        backward()
        let transitions = try XCTUnwrap(m.slots.crf).transitions
        let analytic = transitions.grad.data   // (the CRF adds to it on every loss call)
        for k in [0, 4, 7] {
            let h: Float = 1e-2, x = transitions.value.data[k]
            transitions.value.data[k] = x + h
            let up = joint.loss(m, batch, targets, rng: &g).loss
            transitions.value.data[k] = x - h
            let down = joint.loss(m, batch, targets, rng: &g).loss
            transitions.value.data[k] = x
            XCTAssertEqual(analytic[k], (up - down) / (2 * h), accuracy: 2e-3, "transition \(k)")
        }
    }
}
