import GrusCore

/// A trainable tensor and its gradient. Layers accumulate into `grad`; optimisers read it
/// and `zeroGrad()` clears it.
public final class Parameter {
    public internal(set) var name: String
    public var value: Tensor {
        didSet { version &+= 1 }
    }
    /// Changes whenever `value` is written, so layers can cache what they derive from it.
    public private(set) var version = 0
    public var grad: Tensor
    /// Frozen parameters keep their gradient at zero and are skipped by optimisers.
    public var trainable = true

    public init(_ name: String, _ value: Tensor) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
    }

    /// Row-sparse gradients (embeddings): only the rows in `touchedRows` of this [rows, width]
    /// parameter can have a non-zero gradient, so zeroGrad, clipping and lazy optimiser updates
    /// visit just those rows. The layer that writes the gradient marks the rows it writes.
    public private(set) var rowSparse = false
    public private(set) var touchedRows: [Int] = []
    private var touched: [Bool] = []

    public func enableRowSparse() {
        rowSparse = true
        touched = [Bool](repeating: false, count: value.shape[0])
        touchedRows = []
    }

    public func markRow(_ r: Int) {
        if !touched[r] { touched[r] = true; touchedRows.append(r) }
    }

    public var rowWidth: Int { value.shape.isEmpty ? 1 : value.count / max(1, value.shape[0]) }

    /// Where the gradient can be non-zero: the touched rows of a row-sparse parameter, else all of it.
    public var gradientRanges: [Range<Int>] {
        guard rowSparse else { return [0..<value.count] }
        let w = rowWidth
        return touchedRows.map { ($0 * w)..<(($0 + 1) * w) }
    }

    public func zeroGrad() {
        let ranges = gradientRanges
        grad.data.withUnsafeMutableBufferPointer { g in
            for r in ranges { (g.baseAddress! + r.lowerBound).update(repeating: 0, count: r.count) }
        }
        if rowSparse {
            for r in touchedRows { touched[r] = false }
            touchedRows.removeAll(keepingCapacity: true)
        }
    }
}

/// Anything that owns parameters. Names follow PyTorch's state-dict convention.
public protocol Module: AnyObject {
    var parameters: [Parameter] { get }
}

extension Module {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Parameters by name, with an optional prefix (`encoder.` → `encoder.weight_ih_l0`).
    public func stateDict(prefix: String = "") -> [String: Tensor] {
        var d: [String: Tensor] = [:]
        for p in parameters { d[prefix + p.name] = p.value }
        return d
    }

    /// Loads values by name; every parameter must be present with the right shape (strict),
    /// and with `strict`, no extra names may appear.
    public func loadStateDict(_ dict: [String: Tensor], prefix: String = "", strict: Bool = true, source: String = "weights") throws {
        var used = Set<String>()
        for p in parameters {
            let key = prefix + p.name
            guard let t = dict[key] else {
                throw GrusError.format(path: source, message: "missing tensor '\(key)'")
            }
            guard t.shape == p.value.shape else {
                throw GrusError.format(path: source, message: "tensor '\(key)' has shape \(t.shape), the model expects \(p.value.shape)")
            }
            p.value = t
            used.insert(key)
        }
        if strict {
            let extra = dict.keys.filter { $0.hasPrefix(prefix) && !used.contains($0) }.sorted()
            if !extra.isEmpty {
                throw GrusError.format(path: source, message: "unexpected tensors: \(extra.joined(separator: ", "))")
            }
        }
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// Growable scratch memory that layers keep between calls, so hot loops never allocate.
final class Scratch {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 16
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    /// Returns a pointer to at least `count` floats; contents are kept only if no growth happened.
    @discardableResult
    func ensure(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, capacity * 3 / 2)
            pointer = .allocate(capacity: capacity)
        }
        return pointer
    }

    func zero(_ count: Int) {
        ensure(count).update(repeating: 0, count: count)
    }
}
