/// Branch-free exp, sigmoid and tanh that the compiler vectorises.
///
/// `fastExp` is the Cephes single-precision algorithm: range reduction by ln 2 in two parts,
/// a degree-6 polynomial, and the exponent placed with a bit shift. Relative error is
/// about 2 ulp over the clamped range [-87.3, 88.3].
public enum FastMath {
    @inline(__always)
    public static func exp(_ xIn: Float) -> Float {
        let x = min(max(xIn, -87.3), 88.3)
        let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
        var r = x - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        let r2 = r * r
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * r2 + r + 1
        let bits = UInt32(bitPattern: Int32(n) &+ 127) << 23
        return y * Float(bitPattern: bits)
    }

    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + exp(-x))
    }

    /// tanh(x) = 1 - 2 / (exp(2x) + 1); absolute error below 1e-7.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        1 - 2 / (exp(2 * x) + 1)
    }

    public static func sigmoid(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = sigmoid(p[i]) }
    }

    public static func tanh(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = tanh(p[i]) }
    }
}
