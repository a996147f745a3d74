import GrusCore

/// y = x Wᵀ + b, with PyTorch's layout (`weight` [out, in], `bias` [out]) and initialisation
/// (uniform ±1/sqrt(in)). Input [N, in], output [N, out].
public final class Linear: Module {
    public let inputSize: Int
    public let outputSize: Int
    public let weight: Parameter
    public let bias: Parameter
    private var input = Tensor(zeros: [0, 0])

    public init(_ inputSize: Int, _ outputSize: Int, name: String = "", rng: inout RNG) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        let bound = 1 / Float(inputSize).squareRoot()
        let p = name.isEmpty ? "" : name + "."
        weight = Parameter(p + "weight", Init.uniform([outputSize, inputSize], bound: bound, rng: &rng))
        bias = Parameter(p + "bias", Init.uniform([outputSize], bound: bound, rng: &rng))
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputSize, "Linear: input must be [N, \(inputSize)], got \(x.shape)")
        input = x
        var y = x.matmul(weight.value, transposeOther: true)
        let n = x.shape[0], o = outputSize
        bias.value.data.withUnsafeBufferPointer { b in
            y.data.withUnsafeMutableBufferPointer { yb in
                for i in 0..<n { for j in 0..<o { yb[i * o + j] += b[j] } }
            }
        }
        return y
    }

    /// Inference: y = x Wᵀ + b with every output a plain sum over the inputs in order, so a row's
    /// result does not depend on how many rows come with it (streaming equals offline bit for bit).
    /// Nothing is kept for backward.
    public func forwardRows(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == inputSize, "Linear: input must be [N, \(inputSize)], got \(x.shape)")
        let n = x.shape[0], o = outputSize, k = inputSize
        var y = Tensor(zeros: [n, o])
        x.data.withUnsafeBufferPointer { xp in
            weight.value.data.withUnsafeBufferPointer { w in
                bias.value.data.withUnsafeBufferPointer { b in
                    y.data.withUnsafeMutableBufferPointer { yp in
                        for i in 0..<n {
                            for j in 0..<o {
                                var s: Float = 0
                                for q in 0..<k { s += xp[i * k + q] * w[j * k + q] }
                                yp[i * o + j] = s + b[j]
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Accumulates dW = dyᵀ x and db = Σ dy; returns dx = dy W.
    public func backward(_ dy: Tensor) -> Tensor {
        precondition(dy.shape == [input.shape[0], outputSize], "Linear backward: gradient shape \(dy.shape)")
        let n = input.shape[0]
        if n > 0 {
            dy.data.withUnsafeBufferPointer { g in
                input.data.withUnsafeBufferPointer { x in
                    weight.grad.data.withUnsafeMutableBufferPointer { gw in
                        BLAS.gemm(transA: true, transB: false, m: outputSize, n: inputSize, k: n,
                                  g.baseAddress!, lda: outputSize, x.baseAddress!, ldb: inputSize,
                                  beta: 1, gw.baseAddress!, ldc: inputSize)
                    }
                }
                columnSums(g.baseAddress!, rows: n, cols: outputSize, into: &bias.grad)
            }
        }
        return dy.matmul(weight.value)
    }
}

/// Token embeddings `weight` [vocab, dim]; the row at `paddingIndex` is zero and gets no gradient.
/// Input ids [T, B] (any shape), output [..., dim]. Initialised N(0, 1) as in PyTorch.
public final class Embedding: Module {
    public let vocabSize: Int
    public let dim: Int
    public let paddingIndex: Int?
    public let weight: Parameter
    private var ids: [Int] = []

    public init(vocabSize: Int, dim: Int, paddingIndex: Int? = 0, name: String = "", rng: inout RNG) {
        precondition(paddingIndex.map { $0 >= 0 && $0 < vocabSize } ?? true, "Embedding: padding index out of range")
        self.vocabSize = vocabSize
        self.dim = dim
        self.paddingIndex = paddingIndex
        var w = Tensor(shape: [vocabSize, dim], data: (0..<(vocabSize * dim)).map { _ in rng.normal() })
        if let p = paddingIndex { for j in 0..<dim { w[p, j] = 0 } }
        weight = Parameter((name.isEmpty ? "" : name + ".") + "weight", w)
        weight.enableRowSparse()
    }

    public var parameters: [Parameter] { [weight] }

    /// Sets rows from pretrained vectors (one row per id, `dim` values each); `freeze` keeps
    /// them fixed during training.
    public func load(rows: [[Float]], freeze: Bool) {
        precondition(rows.count == vocabSize && rows.allSatisfy { $0.count == dim },
                     "Embedding: need \(vocabSize) rows of \(dim) values")
        var w = Tensor(shape: [vocabSize, dim], data: rows.flatMap { $0 })
        if let p = paddingIndex { for j in 0..<dim { w[p, j] = 0 } }
        weight.value = w
        weight.trainable = !freeze
    }

    public func forward(_ ids: [Int], shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == ids.count, "Embedding: \(ids.count) ids for shape \(shape)")
        self.ids = ids
        var out = Tensor(zeros: shape + [dim])
        weight.value.data.withUnsafeBufferPointer { w in
            out.data.withUnsafeMutableBufferPointer { o in
                for (i, id) in ids.enumerated() {
                    precondition(id >= 0 && id < vocabSize, "Embedding: id \(id) outside the vocabulary of \(vocabSize)")
                    (o.baseAddress! + i * dim).update(from: w.baseAddress! + id * dim, count: dim)
                }
            }
        }
        return out
    }

    public func backward(_ dy: Tensor) {
        precondition(dy.count == ids.count * dim, "Embedding backward: gradient shape \(dy.shape)")
        if !weight.trainable { return }
        dy.data.withUnsafeBufferPointer { g in
            weight.grad.data.withUnsafeMutableBufferPointer { gw in
                for (i, id) in ids.enumerated() where id != paddingIndex {
                    weight.markRow(id)
                    for j in 0..<dim { gw[id * dim + j] += g[i * dim + j] }
                }
            }
        }
    }
}
