import GrusCore
import Foundation

/// Updates parameters from their gradients. `learningRate` may be changed between steps
/// (schedules do). `state()`/`load(state:)` carry everything a resumed run needs.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    var parameters: [Parameter] { get }
    /// Lazy updates of row-sparse parameters (embeddings): only the rows the last batch touched
    /// are updated, and their moments only then (PyTorch's SparseAdam, TensorFlow's LazyAdam).
    /// Off (the default), every row is updated every step, as dense PyTorch optimisers do.
    var lazyRowSparse: Bool { get set }
    func step()
    func state() -> [String: Tensor]
    func load(state: [String: Tensor]) throws
}

extension Optimizer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// The element ranges a step updates for parameter p.
    func updateRanges(_ p: Parameter) -> [Range<Int>] {
        lazyRowSparse && p.rowSparse ? p.gradientRanges : splitRange(p.value.count, parts: max(1, p.value.count / 65_536))
    }
}

/// The optimisers a recipe can name (`training.optimizer`).
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case adam, adamw, sgd

    /// The optimiser over `parameters`; `momentum` is SGD's.
    public func make(_ parameters: [Parameter], learningRate: Float, momentum: Float, weightDecay: Float) -> Optimizer {
        switch self {
        case .sgd: return SGD(parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
        case .adamw: return Adam.adamW(parameters, learningRate: learningRate, weightDecay: weightDecay)
        case .adam: return Adam(parameters, learningRate: learningRate, weightDecay: weightDecay)
        }
    }
}

/// SGD with optional momentum (PyTorch's form: v = μv + g; p -= lr·v), Nesterov, and L2 weight decay.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public let parameters: [Parameter]
    private var velocity: [[Float]]
    private var steps = 0
    public var lazyRowSparse = false

    public init(_ parameters: [Parameter], learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocity = parameters.map { [Float](repeating: 0, count: $0.value.count) }
    }

    public func step() {
        for (pi, p) in parameters.enumerated() where p.trainable {
            let lr = learningRate, mu = momentum, wd = weightDecay, first = steps == 0
            let ranges = updateRanges(p)
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { g in
                    velocity[pi].withUnsafeMutableBufferPointer { v in
                        for r in ranges { for i in r {
                            var d = g[i] + wd * w[i]
                            if mu != 0 {
                                v[i] = first ? d : mu * v[i] + d
                                d = nesterov ? d + mu * v[i] : v[i]
                            }
                            w[i] -= lr * d
                        } }
                    }
                }
            }
        }
        steps += 1
    }

    public func state() -> [String: Tensor] {
        var s: [String: Tensor] = ["step": Tensor(shape: [1], data: [Float(steps)])]
        for (i, p) in parameters.enumerated() { s["velocity." + p.name] = Tensor(shape: p.value.shape, data: velocity[i]) }
        return s
    }

    public func load(state: [String: Tensor]) throws {
        guard let st = state["step"]?.data.first else { throw GrusError.format(path: "optimizer state", message: "missing 'step'") }
        steps = Int(st)
        for (i, p) in parameters.enumerated() {
            guard let v = state["velocity." + p.name], v.count == velocity[i].count else {
                throw GrusError.format(path: "optimizer state", message: "missing or mis-sized 'velocity.\(p.name)'")
            }
            velocity[i] = v.data
        }
    }
}

/// Adam (Kingma & Ba) with bias correction. `decoupled` gives AdamW (Loshchilov & Hutter):
/// weight decay shrinks the weights directly instead of entering the gradient.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    public let decoupled: Bool
    public let parameters: [Parameter]
    /// First and second moments, one box per parameter (so each can be pinned on its own).
    private final class Moments { var m: [Float]; var v: [Float]; init(_ n: Int) { m = [Float](repeating: 0, count: n); v = m } }
    private let moments: [Moments]
    private var steps = 0
    public var lazyRowSparse = false

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        moments = parameters.map { Moments($0.value.count) }
    }

    /// AdamW with PyTorch's default weight decay (0.01).
    public static func adamW(_ parameters: [Parameter], learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters, learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
    }

    public func step() {
        steps += 1
        let c1 = 1 - Float(pow(Double(beta1), Double(steps)))
        let c2 = 1 - Float(pow(Double(beta2), Double(steps)))
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay, dec = decoupled
        let stepSize = lr / c1, c2Root = c2.squareRoot()
        let scale = stepSize, root = c2Root
        let trainable = parameters.indices.filter { parameters[$0].trainable && parameters[$0].value.count > 0 }
        // Every parameter's four arrays, pinned for the whole update, then updated in chunks on
        // both cores (the update streams w, g, m, v: memory-bound for large embeddings).
        var chunks: [(Int, Range<Int>)] = []
        for (k, pi) in trainable.enumerated() {
            for r in updateRanges(parameters[pi]) { chunks.append((k, r)) }
        }
        withPinned(trainable, 0, []) { arrays in
            let workers = max(1, min(Threads.count, chunks.count))
            parallelFor(workers) { t in
                for c in stride(from: t, to: chunks.count, by: workers) {
                    let a = arrays[chunks[c].0], r = chunks[c].1
                    let o = r.lowerBound
                    sweep(r.count, AdamKernel(w: a.w + o, g: a.g + o, m: a.m + o, v: a.v + o, b1: b1, b2: b2, scale: scale,
                                              root: root, eps: eps, wd: wd, shrink: 1 - lr * wd, decoupled: dec))
                }
            }
        }
    }

    /// One element's (or eight elements') Adam update, in the order PyTorch's single-tensor Adam computes it.
    struct AdamKernel: LaneKernel {
        let w: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
        let b1: Float, b2: Float, scale: Float, root: Float, eps: Float, wd: Float, shrink: Float
        let decoupled: Bool

        @inline(__always)
        func run<V: FloatLanes>(_: V.Type, _ j: Int) {
            let wj = V.load(w + j)
            let gj = decoupled ? V.load(g + j) : V.load(g + j) + V.splat(wd) * wj
            let mj = V.splat(b1) * V.load(m + j) + V.splat(1 - b1) * gj
            let vj = V.splat(b2) * V.load(v + j) + V.splat(1 - b2) * gj * gj
            mj.store(m + j); vj.store(v + j)
            let step = V.splat(scale) * mj / (vj.squareRoot() / V.splat(root) + V.splat(eps))
            (decoupled ? wj * V.splat(shrink) - step : wj - step).store(w + j)
        }
    }

    struct Pinned {
        let w: UnsafeMutablePointer<Float>, g: UnsafeMutablePointer<Float>
        let m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
        let count: Int
    }

    /// Nests the arrays' pointer scopes, so all of them stay valid while `body` runs.
    private func withPinned(_ idx: [Int], _ at: Int, _ acc: [Pinned], _ body: ([Pinned]) -> Void) {
        if at == idx.count { body(acc); return }
        let pi = idx[at], p = parameters[pi]
        p.value.data.withUnsafeMutableBufferPointer { wb in
            p.grad.data.withUnsafeMutableBufferPointer { gb in
                moments[pi].m.withUnsafeMutableBufferPointer { mb in
                    moments[pi].v.withUnsafeMutableBufferPointer { vb in
                        if wb.count == 0 { withPinned(idx, at + 1, acc, body); return }
                        withPinned(idx, at + 1, acc + [Pinned(w: wb.baseAddress!, g: gb.baseAddress!, m: mb.baseAddress!,
                                                              v: vb.baseAddress!, count: wb.count)], body)
                    }
                }
            }
        }
    }

    public func state() -> [String: Tensor] {
        var s: [String: Tensor] = ["step": Tensor(shape: [1], data: [Float(steps)])]
        for (i, p) in parameters.enumerated() {
            s["exp_avg." + p.name] = Tensor(shape: p.value.shape, data: moments[i].m)
            s["exp_avg_sq." + p.name] = Tensor(shape: p.value.shape, data: moments[i].v)
        }
        return s
    }

    public func load(state: [String: Tensor]) throws {
        guard let st = state["step"]?.data.first else { throw GrusError.format(path: "optimizer state", message: "missing 'step'") }
        steps = Int(st)
        for (i, p) in parameters.enumerated() {
            guard let a = state["exp_avg." + p.name], a.count == moments[i].m.count,
                  let b = state["exp_avg_sq." + p.name], b.count == moments[i].v.count else {
                throw GrusError.format(path: "optimizer state", message: "missing or mis-sized moments for '\(p.name)'")
            }
            moments[i].m = a.data
            moments[i].v = b.data
        }
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm` (as
/// `torch.nn.utils.clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sum = 0.0
    for p in parameters {
        let ranges = p.gradientRanges
        p.grad.data.withUnsafeBufferPointer { g in
            // Float partial sums of up to 4096 elements (vectorised), accumulated in Double.
            for range in ranges {
                var start = range.lowerBound
                while start < range.upperBound {
                    let end = min(start + 4096, range.upperBound)
                    var lanes = Float8()
                    var i = start
                    while i + 8 <= end { let x = load8(g.baseAddress! + i); lanes.addProduct(x, x); i += 8 }
                    var part = lanes.sum()
                    while i < end { part += g[i] * g[i]; i += 1 }
                    sum += Double(part)
                    start = end
                }
            }
        }
    }
    let norm = Float(sum.squareRoot())
    if norm.isFinite && norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters {
            let ranges = p.gradientRanges
            p.grad.data.withUnsafeMutableBufferPointer { g in for r in ranges { for i in r { g[i] *= scale } } }
        }
    }
    return norm
}
