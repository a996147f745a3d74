/// A dense Float32 tensor, contiguous and row-major.
///
/// Value semantics: copies share storage until one of them is written (Swift arrays' copy-on-write).
public struct Tensor: Equatable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    public var description: String { "Tensor(\(shape))" }

    /// Same data, new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Element access by full index, for tests and small code paths (not hot loops).
    public subscript(_ index: Int...) -> Float {
        get { data[offset(index)] }
        set { data[offset(index)] = newValue }
    }

    @inline(__always)
    func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "Tensor: index rank \(index.count) != \(shape.count)")
        var o = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "Tensor: index \(index) out of bounds for \(shape)")
            o = o * n + i
        }
        return o
    }

    public mutating func fill(_ value: Float) {
        for i in data.indices { data[i] = value }
    }

    /// Largest absolute elementwise difference; shapes must agree.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "Tensor: shape \(shape) != \(other.shape)")
        var m: Float = 0
        for i in data.indices { m = max(m, abs(data[i] - other.data[i])) }
        return m
    }
}
