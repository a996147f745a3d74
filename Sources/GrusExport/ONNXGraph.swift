import Foundation
import GrusCore
import GrusInference
import GrusNN
import GrusTasks

/// Builds an ONNX graph (opset 17) node by node: named values, float initializers, constants,
/// typed inputs and outputs. Names are unique; `grus export --onnx` serialises the result.
final class ONNXGraph {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private(set) var inputs: [Onnx_ValueInfoProto] = []
    private(set) var outputs: [Onnx_ValueInfoProto] = []
    private var counter = 0

    static let opset: Int64 = 17

    func fresh(_ base: String) -> String {
        counter += 1
        return "\(base)_\(counter)"
    }

    /// A node with one output (named after the op unless given).
    @discardableResult
    func op(_ type: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], name: String? = nil) -> String {
        ops(type, inputs, outputs: [name ?? fresh(type.lowercased())], attributes)[0]
    }

    /// A node with several outputs ("" leaves an optional input or output out).
    @discardableResult
    func ops(_ type: String, _ inputs: [String], outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = type
        n.name = fresh("node_" + type)
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        nodes.append(n)
        return outputs
    }

    static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(v)
        return a
    }

    static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v.map(Int64.init)
        return a
    }

    static func float(_ name: String, _ v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = v
        return a
    }

    static func string(_ name: String, _ v: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(v.utf8)
        return a
    }

    /// A float initializer (little-endian raw data).
    @discardableResult
    func initializer(_ name: String, shape: [Int], _ values: [Float]) -> String {
        precondition(shape.reduce(1, *) == values.count, "ONNX initializer \(name): \(values.count) values for \(shape)")
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        initializers.append(t)
        return name
    }

    func initializer(_ name: String, _ tensor: Tensor) -> String { initializer(name, shape: tensor.shape, tensor.data) }

    /// An int64 constant (shapes, axes, indices).
    func int64(_ values: [Int], shape: [Int]? = nil) -> String {
        var t = Onnx_TensorProto()
        t.name = fresh("const_i64")
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values.map(Int64.init)
        initializers.append(t)
        return t.name
    }

    func int32(_ values: [Int], shape: [Int]? = nil) -> String {
        var t = Onnx_TensorProto()
        t.name = fresh("const_i32")
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
        t.int32Data = values.map(Int32.init)
        initializers.append(t)
        return t.name
    }

    func scalarFloat(_ v: Float) -> String { initializer(fresh("const_f32"), shape: [], [v]) }

    enum Dim { case fixed(Int), named(String) }

    static func valueInfo(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dim], doc: String) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.docString = doc
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = Int32(type.rawValue)
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var x = Onnx_TensorShapeProto.Dimension()
            switch d {
            case let .fixed(n): x.dimValue = Int64(n)
            case let .named(s): x.dimParam = s
            }
            return x
        }
        tt.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tt
        v.type = type
        return v
    }

    func input(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dim], doc: String) {
        inputs.append(ONNXGraph.valueInfo(name, type, dims, doc: doc))
    }

    /// Names `value` as a graph output (through Identity, so initializers can be outputs too).
    func output(_ value: String, as name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dim], doc: String) {
        op("Identity", [value], name: name)
        outputs.append(ONNXGraph.valueInfo(name, type, dims, doc: doc))
    }

    func model(name: String, doc: String, metadata: [String: String]) -> Onnx_ModelProto {
        var g = Onnx_GraphProto()
        g.name = name
        g.node = nodes
        g.initializer = initializers
        g.input = inputs
        g.output = outputs
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = ONNXGraph.opset
        m.opsetImport = [opset]
        m.producerName = "grus"
        m.producerVersion = "0.2.0"
        m.docString = doc
        m.graph = g
        m.metadataProps = metadata.sorted { $0.key < $1.key }.map { k, v in
            var e = Onnx_StringStringEntryProto()
            e.key = k
            e.value = v
            return e
        }
        return m
    }
}
