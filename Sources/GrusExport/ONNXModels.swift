import Foundation
import GrusAudio
import GrusCore
import GrusNN

/// A model that ONNX export knows: it adds its inputs, encoder, head and outputs to the graph
/// (`lengths` is there already). A new kind of model is exported by one more conformance here.
protocol ONNXExportable: Module {
    func buildONNX(_ g: ONNXGraph, weights w: [String: Tensor], cmvn: CMVNStats?) throws
}

extension SequenceClassifier: ONNXExportable {
    func buildONNX(_ g: ONNXGraph, weights w: [String: Tensor], cmvn: CMVNStats?) throws {
        if let window = config.poolWindow {
            throw ONNXExport.ExportError.unsupported("the model pools its last \(window) steps only (model.head.pool_window); the ONNX export pools whole sequences, so it is not exported")
        }
        let x = ONNXExport.input(g, w, vocab: config.vocabSize, encoder: config.encoder, cmvn: cmvn)
        let (out, last) = ONNXExport.encoder(g, x, "lengths", config.encoder, w, prefix: "encoder.")
        let pooled = ONNXExport.pool(g, out, last, config.pooling, config.encoder)
        let logits = g.op("Gemm", [pooled, g.initializer("head.weight", w["head.weight"]!), g.initializer("head.bias", w["head.bias"]!)],
                          [ONNXGraph.int("transB", 1)])
        g.output(g.op("Softmax", [logits], [ONNXGraph.int("axis", 1)]), as: "probabilities", .float, [.named("B"), .fixed(config.numClasses)],
                 doc: "class probabilities, in the order of the labels metadata")
    }
}

extension JointModel: ONNXExportable {
    func buildONNX(_ g: ONNXGraph, weights w: [String: Tensor], cmvn: CMVNStats?) throws {
        let (out, last) = try ONNXExport.tagger(g, config.tagger, slots.crf, w, input: { ONNXExport.input(g, w, vocab: $0, encoder: $1, cmvn: cmvn) })
        g.output(out.scores, as: "slot_scores", .float, [.named("T"), .named("B"), .fixed(config.tagger.numTags)], doc: "per-step slot tag scores")
        let pooled = ONNXExport.pool(g, out.encoded, last, config.pooling, config.tagger.encoder)
        let logits = g.op("Gemm", [pooled, g.initializer("intent.weight", w["intent.weight"]!), g.initializer("intent.bias", w["intent.bias"]!)],
                          [ONNXGraph.int("transB", 1)])
        g.output(g.op("Softmax", [logits], [ONNXGraph.int("axis", 1)]), as: "intent_probabilities", .float, [.named("B"), .fixed(config.numIntents)],
                 doc: "intent probabilities")
    }
}

extension SequenceTagger: ONNXExportable {
    func buildONNX(_ g: ONNXGraph, weights w: [String: Tensor], cmvn: CMVNStats?) throws {
        let (out, _) = try ONNXExport.tagger(g, config, crf, w, input: { ONNXExport.input(g, w, vocab: $0, encoder: $1, cmvn: cmvn) })
        g.output(out.scores, as: "scores", .float, [.named("T"), .named("B"), .fixed(config.numTags)], doc: "per-step tag scores (emissions)")
    }
}

extension Transcriber: ONNXExportable {
    func buildONNX(_ g: ONNXGraph, weights w: [String: Tensor], cmvn: CMVNStats?) throws {
        let k = config.stackFrames
        var lengths = "lengths"
        var x = ONNXExport.input(g, w, vocab: config.tagger.vocabSize, encoder: config.tagger.encoder, stack: k, cmvn: cmvn)
        if k > 1 {
            (x, lengths) = ONNXExport.stack(g, x, k, featureSize: config.tagger.encoder.inputSize / k)
        }
        let (out, _) = try ONNXExport.tagger(g, config.tagger, nil, w, input: { _, _ in x }, lengths: lengths)
        g.output(g.op("LogSoftmax", [out.scores], [ONNXGraph.int("axis", 2)]), as: "log_probs", .float,
                 [.named("steps"), .named("B"), .fixed(config.tagger.numTags)], doc: "per-step log-probabilities, blank first")
        g.output(lengths, as: "steps", .int32, [.named("B")], doc: "encoder steps of each sequence")
    }
}
