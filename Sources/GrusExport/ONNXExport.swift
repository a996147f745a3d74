import Foundation
import GrusAudio
import GrusCore
import GrusInference
import GrusNN
import GrusTasks
import SwiftProtobuf

/// `grus export --onnx EXP model.onnx`: the whole model of any task as one ONNX graph (opset 17),
/// with ONNX's own GRU operator (`linear_before_reset` 1 for the PyTorch form, 0 for Cho 2014)
/// given `sequence_lens`, so a ragged batch gives each sequence its own result. The front end
/// stays in Grus (or the user's code):
///
/// | input | type, shape | what |
/// |---|---|---|
/// | `features` (audio) | float [T, B, F] | the front end's features; global CMVN is in the graph, utterance, sliding or speaker CMVN is applied before |
/// | `tokens` (text) | int64 [T, B] | token ids from the model's tokenizer and vocabulary (model.json) |
/// | `lengths` | int32 [B] | each sequence's steps (frames or tokens) |
///
/// Outputs: classify `probabilities` [B, C]; tag `scores` [T, B, C] (arg-max, or with a CRF
/// Viterbi over `transitions` [C, C], `start_transitions` and `end_transitions` [C], forbidden
/// moves −∞); joint `intent_probabilities` [B, I] and `slot_scores` [T, B, C]; transcribe
/// `log_probs` [T', B, C] (blank first) and `steps` int32 [B]. Steps past a sequence's length
/// carry no meaning. Label names are in the model's metadata (`labels`, JSON). A tagger with a
/// character encoder also takes `characters` and `character_lengths` (see characterVectors).
/// LSTM encoders use ONNX's LSTM operator (gates reordered from nn.LSTM's i, f, g, o).
public enum ONNXExport {
    public struct Summary { public var task: String; public var nodes: Int; public var parameters: Int; public var bytes: Int }

    public static func export(experiment path: String, to url: URL) throws -> Summary {
        let folder = try ModelFolder.locate(path)
        return try exportTask(folder.task, folder, to: url)
    }

    static func exportTask<T: SequenceTask>(_: T.Type, _ folder: ModelFolder, to url: URL) throws -> Summary {
        let (bundle, model) = try ModelBundle<T>.load(folder)
        var cmvn: CMVNStats?
        if case let .audio(_, stats, _) = bundle.frontEnd { cmvn = stats }
        let (data, nodes) = try serialize(model, task: T.name, labels: bundle.labels, cmvn: cmvn, note: normalisationNote(bundle.frontEnd))
        try AtomicFile.write(data, to: url)
        return Summary(task: T.name, nodes: nodes, parameters: model.parameters.reduce(0) { $0 + $1.value.count }, bytes: data.count)
    }

    /// The ONNX file's bytes for a model (and its node count).
    static func serialize(_ model: any Module, task: String, labels: [String], cmvn: CMVNStats?, note: String) throws -> (Data, Int) {
        let graph = ONNXGraph()
        try build(graph, model: model, cmvn: cmvn)
        let labelsJSON = String(decoding: try JSONSerialization.data(withJSONObject: labels), as: UTF8.self)
        let proto = graph.model(name: "grus_\(task)", doc: "Grus \(task) model",
                                metadata: ["task": task, "labels": labelsJSON, "input_normalisation": note])
        return (try proto.serializedData(), graph.nodes.count)
    }

    static func normalisationNote(_ f: ModelFrontEnd) -> String {
        guard case let .audio(options, cmvn, _) = f else { return "token ids" }
        if cmvn != nil { return "global CMVN (the training statistics) is the graph's first step; feed the front end's features" }
        switch options.cmvn {
        case .none, .global: return "none"
        case .utterance: return "utterance CMVN: normalise each input over its own frames before feeding it"
        case .sliding: return "sliding CMVN over \(options.cmvnWindow ?? 300) frames, before feeding"
        case .speaker: return "speaker CMVN: normalise with the statistics of all of the speaker's inputs before feeding"
        }
    }

    enum ExportError: Error, CustomStringConvertible {
        case unsupported(String)
        var description: String { if case let .unsupported(s) = self { return s }; return "" }
    }

    /// The graph of one model: `lengths`, then the model's own inputs, encoder, head and outputs.
    static func build(_ g: ONNXGraph, model: any Module, cmvn: CMVNStats?) throws {
        guard let m = model as? any ONNXExportable else { throw ExportError.unsupported("this model type cannot be exported to ONNX yet") }
        g.input("lengths", .int32, [ONNXGraph.Dim.named("B")], doc: "steps of each sequence")
        try m.buildONNX(g, weights: model.stateDict(), cmvn: cmvn)
    }

    /// The model's input: `tokens` through the embedding (text), or `features` (audio) through the
    /// global CMVN statistics when the model has them. `stack`: frames per encoder step.
    static func input(_ g: ONNXGraph, _ w: [String: Tensor], vocab: Int?, encoder: GRUConfig, stack: Int = 1, cmvn: CMVNStats?) -> String {
        let T = ONNXGraph.Dim.named("T"), B = ONNXGraph.Dim.named("B")
        if vocab != nil {
            g.input("tokens", .int64, [T, B], doc: "token ids, time-major")
            return g.op("Gather", [g.initializer("embedding.weight", w["embedding.weight"]!), "tokens"], [ONNXGraph.int("axis", 0)])
        }
        g.input("features", .float, [T, B, .fixed(encoder.inputSize / stack)], doc: "features, time-major")
        guard let cmvn else { return "features" }
        // (x − mean) / std with the training statistics, as Grus applies them.
        let mean = g.initializer("cmvn.mean", shape: [cmvn.dimension], cmvn.mean)
        let std = g.initializer("cmvn.std", shape: [cmvn.dimension], cmvn.std)
        return g.op("Div", [g.op("Sub", ["features", mean]), std])
    }

    /// Tagger body: input → encoder → per-step scores [T, B, C]; with a CRF, its masked transitions as outputs.
    static func tagger(_ g: ONNXGraph, _ config: TaggerConfig, _ crf: CRF?, _ w: [String: Tensor], input: (Int?, GRUConfig) -> String,
                       lengths: String = "lengths") throws -> ((encoded: String, scores: String), String) {
        var x = input(config.vocabSize, config.encoder)
        if let chars = config.chars {
            x = g.op("Concat", [x, characterVectors(g, chars, w)], [ONNXGraph.int("axis", 2)])
        }
        let (out, last) = encoder(g, x, lengths, config.encoder, w, prefix: "encoder.")
        let weight = w["head.weight"]!
        let c = weight.shape[0], d = weight.shape[1]
        var wt = [Float](repeating: 0, count: c * d)
        for i in 0..<c { for j in 0..<d { wt[j * c + i] = weight.data[i * d + j] } }
        let scores = g.op("Add", [g.op("MatMul", [out, g.initializer("head.weight_t", shape: [d, c], wt)]), g.initializer("head.bias", w["head.bias"]!)])
        if let crf {
            func masked(_ p: Parameter, _ allowed: [Bool]?) -> [Float] {
                p.value.data.enumerated().map { i, v in allowed.map { $0[i] } ?? true ? v : -Float.infinity }
            }
            g.output(g.initializer("crf.transitions", shape: [c, c], masked(crf.transitions, crf.allowed)), as: "transitions", .float,
                     [.fixed(c), .fixed(c)], doc: "CRF score of tag j after tag i (row i, column j); −∞ forbidden")
            g.output(g.initializer("crf.start_transitions", shape: [c], masked(crf.start, crf.allowedStart)), as: "start_transitions", .float,
                     [.fixed(c)], doc: "CRF score of starting with each tag")
            g.output(g.initializer("crf.end_transitions", shape: [c], masked(crf.end, crf.allowedEnd)), as: "end_transitions", .float,
                     [.fixed(c)], doc: "CRF score of ending with each tag")
        }
        return ((out, scores), last)
    }

    /// The character encoder: `characters` int64 [T·B, C] (each token slot's character ids, slot
    /// t·B + b, padded with 0; a token longer than maxLength given as its first maxLength/2 and
    /// last maxLength − maxLength/2 characters) and `character_lengths` int32 [T·B] (0 for
    /// padding slots) → [T, B, 2Hc]: the forward state at each token's last character and the
    /// backward state at its first, zeros for empty slots.
    static func characterVectors(_ g: ONNXGraph, _ c: CharEncoderConfig, _ w: [String: Tensor]) -> String {
        g.input("characters", .int64, [.named("N"), .named("C")], doc: "character ids of each token slot (row t·B + b), padded with 0")
        g.input("character_lengths", .int32, [.named("N")], doc: "characters of each token slot (0: padding)")
        let ids = g.op("Transpose", ["characters"], [ONNXGraph.ints("perm", [1, 0])])                      // [C, N]
        let x = g.op("Gather", [g.initializer("chars.embedding.weight", w["chars.embedding.weight"]!), ids], [ONNXGraph.int("axis", 0)])
        // An empty slot is read as one padding character; its vector is zeroed below.
        let one = g.int32([1], shape: [])
        let lengths = g.op("Max", ["character_lengths", one])
        var config = GRUConfig(inputSize: c.dim, hiddenSize: c.hidden, numLayers: 1, bidirectional: true)
        config.cell = nil
        let (_, last) = encoder(g, x, lengths, config, w, prefix: "chars.encoder.")
        // Y_h [2, N, Hc] → [N, 2, Hc] → [N, 2Hc], zero where the slot is empty
        let vectors = g.op("Reshape", [g.op("Transpose", [last], [ONNXGraph.ints("perm", [1, 0, 2])]), g.int64([0, -1])])
        let present = g.op("Cast", [g.op("Greater", ["character_lengths", g.int32([0], shape: [])])],
                           [ONNXGraph.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
        let masked = g.op("Mul", [vectors, g.op("Unsqueeze", [present, g.int64([1])])])
        // [T·B, 2Hc] → [T, B, 2Hc] with the tokens' shape
        let shape = g.op("Concat", [g.op("Shape", ["tokens"]), g.int64([-1])], [ONNXGraph.int("axis", 0)])
        return g.op("Reshape", [masked, shape])
    }

    /// PyTorch's gate order (r, z, n) to ONNX's (z, r, h): rows [H, 2H), [0, H), [2H, 3H).
    static func zrh(_ t: Tensor, hidden h: Int) -> [Float] { blocks(t, [1, 0, 2], of: 3, hidden: h) }

    /// nn.LSTM's gate order (i, f, g, o) to ONNX's (i, o, f, c).
    static func iofc(_ t: Tensor, hidden h: Int) -> [Float] { blocks(t, [0, 3, 1, 2], of: 4, hidden: h) }

    static func blocks(_ t: Tensor, _ order: [Int], of n: Int, hidden h: Int) -> [Float] {
        let width = t.count / (n * h)
        var out = [Float](); out.reserveCapacity(t.count)
        for block in order { out += t.data[(block * h * width)..<((block + 1) * h * width)] }
        return out
    }

    /// The stacked (bidirectional) GRU: x [T, B, I] → out [T, B, D·H] and the last layer's
    /// final states [D, B, H] (forward: at each sequence's last step; reverse: at step 0).
    static func encoder(_ g: ONNXGraph, _ x: String, _ lengths: String, _ c: GRUConfig, _ w: [String: Tensor], prefix: String) -> (String, String) {
        let h = c.hiddenSize, dirs = c.bidirectional ? ["", "_reverse"] : [""]
        let gates = c.isLSTM ? 4 : 3
        var input = x, last = ""
        for l in 0..<c.numLayers {
            func stacked(_ kind: String) -> (shape: [Int], data: [Float]) {
                let parts = dirs.map { w["\(prefix)\(kind)_l\(l)\($0)"]! }
                return ([dirs.count] + parts[0].shape, parts.flatMap { c.isLSTM ? iofc($0, hidden: h) : zrh($0, hidden: h) })
            }
            let wi = stacked("weight_ih"), wh = stacked("weight_hh"), bi = stacked("bias_ih"), bh = stacked("bias_hh")
            // B [D, 2G] = [b_ih, b_hh] per direction, each in ONNX's gate order
            var bias: [Float] = []
            for d in 0..<dirs.count {
                let range = (d * gates * h)..<((d + 1) * gates * h)
                bias.append(contentsOf: bi.data[range])
                bias.append(contentsOf: bh.data[range])
            }
            let name = "\(prefix)l\(l)"
            let weights = [input, g.initializer(name + ".W", shape: wi.shape, wi.data), g.initializer(name + ".R", shape: wh.shape, wh.data),
                           g.initializer(name + ".B", shape: [dirs.count, 2 * gates * h], bias), lengths]
            let direction = ONNXGraph.string("direction", c.bidirectional ? "bidirectional" : "forward")
            let outs = c.isLSTM
                ? g.ops("LSTM", weights, outputs: [g.fresh("lstm_y"), g.fresh("lstm_h")], [ONNXGraph.int("hidden_size", h), direction])
                : g.ops("GRU", weights, outputs: [g.fresh("gru_y"), g.fresh("gru_h")],
                        [ONNXGraph.int("hidden_size", h), direction, ONNXGraph.int("linear_before_reset", c.form == .pytorch ? 1 : 0)])
            // Y [T, D, B, H] → [T, B, D, H] → [T, B, D·H]
            input = g.op("Reshape", [g.op("Transpose", [outs[0]], [ONNXGraph.ints("perm", [0, 2, 1, 3])]), g.int64([0, 0, -1])])
            last = outs[1]
        }
        return (input, last)
    }

    /// Pooling over each sequence's valid steps only, as Grus pools.
    static func pool(_ g: ONNXGraph, _ out: String, _ last: String, _ kind: Pooling.Kind, _ c: GRUConfig) -> String {
        switch kind {
        case .last:
            // Y_h [D, B, H] → [B, D, H] → [B, D·H]
            return g.op("Reshape", [g.op("Transpose", [last], [ONNXGraph.ints("perm", [1, 0, 2])]), g.int64([0, -1])])
        case .mean, .max:
            // valid [T, B, 1]: step t < length b
            let t = g.op("Gather", [g.op("Shape", [out]), g.int64([0], shape: [])], [ONNXGraph.int("axis", 0)])
            let steps = g.op("Range", [g.int64([0], shape: []), t, g.int64([1], shape: [])])
            let len64 = g.op("Cast", ["lengths"], [ONNXGraph.int("to", Int(Onnx_TensorProto.DataType.int64.rawValue))])
            let valid = g.op("Unsqueeze", [g.op("Less", [g.op("Unsqueeze", [steps, g.int64([1])]), g.op("Unsqueeze", [len64, g.int64([0])])]), g.int64([2])])
            if kind == .max {
                let filled = g.op("Where", [valid, out, g.scalarFloat(-.infinity)])
                return g.op("ReduceMax", [filled], [ONNXGraph.ints("axes", [0]), ONNXGraph.int("keepdims", 0)])
            }
            let mask = g.op("Cast", [valid], [ONNXGraph.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
            let sum = g.op("ReduceSum", [g.op("Mul", [out, mask]), g.int64([0])], [ONNXGraph.int("keepdims", 0)])
            let n = g.op("Cast", [g.op("Unsqueeze", ["lengths", g.int64([1])])], [ONNXGraph.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
            return g.op("Div", [sum, n])
        }
    }

    /// Frames stacked k at a time: x [T, B, F] → [⌈T/k⌉, B, k·F] (zeros past the end), lengths ⌈n/k⌉.
    static func stack(_ g: ONNXGraph, _ x: String, _ k: Int, featureSize f: Int) -> (String, String) {
        let t = g.op("Gather", [g.op("Shape", [x]), g.int64([0], shape: [])], [ONNXGraph.int("axis", 0)])
        let kk = g.int64([k], shape: [])
        // pad = (k − T mod k) mod k frames of zeros at the end
        let pad = g.op("Mod", [g.op("Sub", [kk, g.op("Mod", [t, kk])]), kk])
        let pads = g.op("Concat", [g.int64([0, 0, 0]), g.op("Unsqueeze", [pad, g.int64([0])]), g.int64([0, 0])], [ONNXGraph.int("axis", 0)])
        let padded = g.op("Pad", [x, pads])
        // [Tp, B, F] → [B, Tp, F] → [B, Tp/k, k·F] → [Tp/k, B, k·F]
        let bt = g.op("Transpose", [padded], [ONNXGraph.ints("perm", [1, 0, 2])])
        let grouped = g.op("Reshape", [bt, g.int64([0, -1, k * f])])
        let stacked = g.op("Transpose", [grouped], [ONNXGraph.ints("perm", [1, 0, 2])])
        let k32 = g.int32([k], shape: [])
        let lengths = g.op("Div", [g.op("Add", ["lengths", g.int32([k - 1], shape: [])]), k32])
        return (stacked, lengths)
    }
}
