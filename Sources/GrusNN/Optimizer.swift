import GrusCore
import Foundation

/// Updates parameters from their gradients. `learningRate` may be changed between steps
/// (schedules do). `state()`/`load(state:)` carry everything a resumed run needs.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    var parameters: [Parameter] { get }
    func step()
    func state() -> [String: Tensor]
    func load(state: [String: Tensor]) throws
}

extension Optimizer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
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
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { g in
                    velocity[pi].withUnsafeMutableBufferPointer { v in
                        for i in w.indices {
                            var d = g[i] + wd * w[i]
                            if mu != 0 {
                                v[i] = first ? d : mu * v[i] + d
                                d = nesterov ? d + mu * v[i] : v[i]
                            }
                            w[i] -= lr * d
                        }
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
    private var m: [[Float]]
    private var v: [[Float]]
    private var steps = 0

    public init(_ parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
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
        for (pi, p) in parameters.enumerated() where p.trainable {
            p.value.data.withUnsafeMutableBufferPointer { w in
                p.grad.data.withUnsafeBufferPointer { g in
                    m[pi].withUnsafeMutableBufferPointer { mb in
                        v[pi].withUnsafeMutableBufferPointer { vb in
                            for i in w.indices {
                                var gi = g[i]
                                if dec { w[i] -= lr * wd * w[i] } else { gi += wd * w[i] }
                                mb[i] = b1 * mb[i] + (1 - b1) * gi
                                vb[i] = b2 * vb[i] + (1 - b2) * gi * gi
                                w[i] -= stepSize * mb[i] / (vb[i].squareRoot() / c2Root + eps)
                            }
                        }
                    }
                }
            }
        }
    }

    public func state() -> [String: Tensor] {
        var s: [String: Tensor] = ["step": Tensor(shape: [1], data: [Float(steps)])]
        for (i, p) in parameters.enumerated() {
            s["exp_avg." + p.name] = Tensor(shape: p.value.shape, data: m[i])
            s["exp_avg_sq." + p.name] = Tensor(shape: p.value.shape, data: v[i])
        }
        return s
    }

    public func load(state: [String: Tensor]) throws {
        guard let st = state["step"]?.data.first else { throw GrusError.format(path: "optimizer state", message: "missing 'step'") }
        steps = Int(st)
        for (i, p) in parameters.enumerated() {
            guard let a = state["exp_avg." + p.name], a.count == m[i].count,
                  let b = state["exp_avg_sq." + p.name], b.count == v[i].count else {
                throw GrusError.format(path: "optimizer state", message: "missing or mis-sized moments for '\(p.name)'")
            }
            m[i] = a.data
            v[i] = b.data
        }
    }
}

/// Scales all gradients so that their global L2 norm is at most `maxNorm` (as
/// `torch.nn.utils.clip_grad_norm_`). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var sum = 0.0
    for p in parameters { for g in p.grad.data { sum += Double(g) * Double(g) } }
    let norm = Float(sum.squareRoot())
    if norm.isFinite && norm > maxNorm {
        let scale = maxNorm / (norm + 1e-6)
        for p in parameters {
            p.grad.data.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] *= scale } }
        }
    }
    return norm
}
