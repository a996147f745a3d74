/// Branch-free exp, sigmoid and tanh that the compiler vectorises.
///
/// `exp` is the Cephes single-precision algorithm: range reduction by ln 2 in two parts,
/// a degree-6 polynomial, and the exponent placed with a bit shift. Relative error is
/// about 2 ulp over the clamped range [-87.3, 88.3].
public enum FastMath {
    /// One value: the eight-wide algorithm on a single lane (only gate-loop tails use it).
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        exp(Float8(repeating: x))[0]
    }

    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        1 / (1 + exp(-x))
    }

    /// tanh(x) = 1 - 2 / (exp(2x) + 1); absolute error below 1e-7.
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        1 - 2 / (exp(2 * x) + 1)
    }
}

/// Eight-wide versions of the same functions (AVX registers when built for haswell or later).
public typealias Float8 = SIMD8<Float>

extension FastMath {
    @inlinable @inline(__always)
    public static func exp(_ xIn: Float8) -> Float8 {
        let lo = Float8(repeating: -87.3), hi = Float8(repeating: 88.3)
        let x = xIn.replacing(with: lo, where: xIn .< lo).replacing(with: hi, where: xIn .> hi)
        // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer n, which lands in the low mantissa bits.
        // Every multiply-add below is one fused instruction.
        let magic = Float8(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, Float8(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = x.addingProduct(n, Float8(repeating: -0.693_359_375))
        r = r.addingProduct(n, Float8(repeating: 2.121_944_4e-4))
        let r2 = r * r
        var p = Float8(repeating: 1.987_569_15e-4)
        p = Float8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = Float8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = Float8(repeating: 4.166_579_59e-2).addingProduct(p, r)
        p = Float8(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = Float8(repeating: 5.000_000_12e-1).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r2)
        let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(bits, to: Float8.self)
    }

    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float8) -> Float8 {
        1 / (1 + exp(-x))
    }

    @inlinable @inline(__always)
    public static func tanh(_ x: Float8) -> Float8 {
        1 - 2 / (exp(2 * x) + 1)
    }
}

/// Unaligned eight-float loads and stores.
@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inlinable @inline(__always)
public func load8(_ p: UnsafeMutablePointer<Float>) -> Float8 {
    UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
}

@inlinable @inline(__always)
public func store8(_ v: Float8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Float8.self)
}

/// One float or eight: lets an elementwise kernel be written once and run 8-wide with a scalar tail.
public protocol FloatLanes {
    static var width: Int { get }
    static func load(_ p: UnsafeMutablePointer<Float>) -> Self
    func store(_ p: UnsafeMutablePointer<Float>)
    static func splat(_ v: Float) -> Self
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    func squareRoot() -> Self
    static func sigmoid(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
}

extension Float: FloatLanes {
    @inlinable @inline(__always) public static var width: Int { 1 }
    @inlinable @inline(__always) public static func load(_ p: UnsafeMutablePointer<Float>) -> Float { p.pointee }
    @inlinable @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { p.pointee = self }
    @inlinable @inline(__always) public static func splat(_ v: Float) -> Float { v }
    @inlinable @inline(__always) public static func sigmoid(_ x: Float) -> Float { FastMath.sigmoid(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Float) -> Float { FastMath.tanh(x) }
}

extension SIMD8: FloatLanes where Scalar == Float {
    @inlinable @inline(__always) public static var width: Int { 8 }
    @inlinable @inline(__always) public static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load8(p) }
    @inlinable @inline(__always) public func store(_ p: UnsafeMutablePointer<Float>) { store8(self, p) }
    @inlinable @inline(__always) public static func splat(_ v: Float) -> SIMD8<Float> { SIMD8(repeating: v) }
    @inlinable @inline(__always) public static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { FastMath.sigmoid(x) }
    @inlinable @inline(__always) public static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> { FastMath.tanh(x) }
}

/// An elementwise kernel over indices j, written once for any lane width.
public protocol LaneKernel {
    func run<V: FloatLanes>(_ lanes: V.Type, _ j: Int)
}

/// Runs `kernel` over 0..<count, eight at a time, then one at a time.
@inlinable @inline(__always)
public func sweep<K: LaneKernel>(_ count: Int, _ kernel: K) {
    var j = 0
    while j + 8 <= count { kernel.run(Float8.self, j); j += 8 }
    while j < count { kernel.run(Float.self, j); j += 1 }
}
