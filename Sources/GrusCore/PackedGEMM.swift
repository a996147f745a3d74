/// How packed weights are stored. Products always accumulate in Float32.
public protocol PackedElement {
    init(_ x: Float)
    /// Eight stored values at p, widened to Float32.
    static func load8(_ p: UnsafePointer<Self>) -> Float8
}

extension Float: PackedElement {
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<Float>) -> Float8 { GrusCore.load8(p) }
}

/// IEEE half precision (10-bit mantissa): half the bytes to stream per step, widened with F16C.
extension Float16: PackedElement {
    @inlinable @inline(__always)
    public static func load8(_ p: UnsafePointer<Float16>) -> Float8 {
        Float8(UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self))
    }
}

/// A matrix B [k × n] packed once into groups of 64 columns ([k][64] each, the last group
/// narrower; 64-byte aligned), stored as Float32 or (for inference) Float16, and
/// C [m × n] (+)= A [m × k] · B computed from it. The recurrent step multiplies the same weights
/// by a new state at every time step; a general GEMM re-packs the weights on each call, this packs
/// them once per change. Rows go 6 at a time through a 6×16 register tile (12 AVX accumulators);
/// a single row (batch-1 inference) streams each group once with 8 accumulators.
public final class PackedMatrix {
    public private(set) var k = 0
    public private(set) var n = 0
    public private(set) var half = false
    private var storage: UnsafeMutableRawPointer
    private var bytes = 0
    private var zeros: UnsafeMutablePointer<Float>   // stands in for missing A rows (read-only)
    /// Free for the owner to record what the packed data was made from.
    public var stamp = -1

    public init() {
        storage = .allocate(byteCount: 64, alignment: 64)
        zeros = .allocate(capacity: 16)
    }

    deinit {
        storage.deallocate()
        zeros.deallocate()
    }

    /// Whether a [k × n] matrix can be packed (n a multiple of 16).
    public static func supports(n: Int) -> Bool { n > 0 && n % 16 == 0 }

    /// Packs B [k × n] given row-major with leading dimension ldb, or, with `transposed`, given as
    /// Bᵀ [n × k] (leading dimension ldb). `half` stores Float16 (values rounded to nearest).
    public func pack(k: Int, n: Int, _ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, half: Bool = false) {
        precondition(Self.supports(n: n), "PackedMatrix: n = \(n) is not a multiple of 16")
        let need = k * n * (half ? 2 : 4)
        if need > bytes {
            storage.deallocate()
            storage = .allocate(byteCount: need, alignment: 64)
            bytes = need
        }
        if k > self.k {
            zeros.deallocate()
            zeros = .allocate(capacity: k)
            zeros.update(repeating: 0, count: k)
        }
        self.k = k
        self.n = n
        self.half = half
        if half { fill(Float16.self, b, ldb: ldb, transposed: transposed) } else { fill(Float.self, b, ldb: ldb, transposed: transposed) }
    }

    private func fill<E: PackedElement>(_: E.Type, _ b: UnsafePointer<Float>, ldb: Int, transposed: Bool) {
        let data = storage.assumingMemoryBound(to: E.self)
        for g in stride(from: 0, to: n, by: 64) {
            let w = min(64, n - g), group = data + g * k
            for kk in 0..<k {
                for c in 0..<w {
                    group[kk * w + c] = E(transposed ? b[(g + c) * ldb + kk] : b[kk * ldb + g + c])
                }
            }
        }
    }

    /// C [m × n] = A [m × k] · B (or += with `accumulate`), A and C row-major.
    public func multiply(m: Int, _ a: UnsafePointer<Float>, lda: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        if half {
            let b = UnsafePointer(storage.assumingMemoryBound(to: Float16.self))
            if m == 1 { multiplyRow(b, a, c, accumulate: accumulate) } else { multiplyTiles(b, m: m, a, lda: lda, c, ldc: ldc, accumulate: accumulate) }
        } else {
            let b = UnsafePointer(storage.assumingMemoryBound(to: Float.self))
            if m == 1 { multiplyRow(b, a, c, accumulate: accumulate) } else { multiplyTiles(b, m: m, a, lda: lda, c, ldc: ldc, accumulate: accumulate) }
        }
    }

    @inline(__always)
    private func multiplyTiles<E: PackedElement>(_ data: UnsafePointer<E>, m: Int, _ a: UnsafePointer<Float>, lda: Int,
                                                 _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let k = self.k, panels = n / 16
        var i = 0
        while i < m {
            let rows = min(6, m - i)
            let a0 = a + i * lda
            let a1 = rows > 1 ? a0 + lda : UnsafePointer(zeros)
            let a2 = rows > 2 ? a0 + 2 * lda : UnsafePointer(zeros)
            let a3 = rows > 3 ? a0 + 3 * lda : UnsafePointer(zeros)
            let a4 = rows > 4 ? a0 + 4 * lda : UnsafePointer(zeros)
            let a5 = rows > 5 ? a0 + 5 * lda : UnsafePointer(zeros)
            let c0 = c + i * ldc, c1 = c0 + ldc, c2 = c0 + 2 * ldc, c3 = c0 + 3 * ldc, c4 = c0 + 4 * ldc, c5 = c0 + 5 * ldc
            for p in 0..<panels {
                let col = p * 16, g = col / 64 * 64, w = min(64, n - g)
                var b = data + g * k + (col - g)
                var x00 = Float8(), x01 = Float8(), x10 = Float8(), x11 = Float8(), x20 = Float8(), x21 = Float8()
                var x30 = Float8(), x31 = Float8(), x40 = Float8(), x41 = Float8(), x50 = Float8(), x51 = Float8()
                for kk in 0..<k {
                    let b0 = E.load8(b), b1 = E.load8(b + 8)
                    var s = Float8(repeating: a0[kk]); x00.addProduct(s, b0); x01.addProduct(s, b1)
                    s = Float8(repeating: a1[kk]); x10.addProduct(s, b0); x11.addProduct(s, b1)
                    s = Float8(repeating: a2[kk]); x20.addProduct(s, b0); x21.addProduct(s, b1)
                    s = Float8(repeating: a3[kk]); x30.addProduct(s, b0); x31.addProduct(s, b1)
                    s = Float8(repeating: a4[kk]); x40.addProduct(s, b0); x41.addProduct(s, b1)
                    s = Float8(repeating: a5[kk]); x50.addProduct(s, b0); x51.addProduct(s, b1)
                    b += w
                }
                if accumulate {
                    x00 += load8(c0 + col); x01 += load8(c0 + col + 8)
                    if rows > 1 { x10 += load8(c1 + col); x11 += load8(c1 + col + 8) }
                    if rows > 2 { x20 += load8(c2 + col); x21 += load8(c2 + col + 8) }
                    if rows > 3 { x30 += load8(c3 + col); x31 += load8(c3 + col + 8) }
                    if rows > 4 { x40 += load8(c4 + col); x41 += load8(c4 + col + 8) }
                    if rows > 5 { x50 += load8(c5 + col); x51 += load8(c5 + col + 8) }
                }
                store8(x00, c0 + col); store8(x01, c0 + col + 8)
                if rows > 1 { store8(x10, c1 + col); store8(x11, c1 + col + 8) }
                if rows > 2 { store8(x20, c2 + col); store8(x21, c2 + col + 8) }
                if rows > 3 { store8(x30, c3 + col); store8(x31, c3 + col + 8) }
                if rows > 4 { store8(x40, c4 + col); store8(x41, c4 + col + 8) }
                if rows > 5 { store8(x50, c5 + col); store8(x51, c5 + col + 8) }
            }
            i += 6
        }
    }

    /// One row: memory-bound on B, which is read as one sequential stream per 64-column group,
    /// eight accumulators in flight.
    @inline(__always)
    private func multiplyRow<E: PackedElement>(_ data: UnsafePointer<E>, _ a: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                               accumulate: Bool) {
        let k = self.k
        var g = 0
        while g + 64 <= n {
            var b = data + g * k
            var x0 = Float8(), x1 = Float8(), x2 = Float8(), x3 = Float8(), x4 = Float8(), x5 = Float8(), x6 = Float8(), x7 = Float8()
            for kk in 0..<k {
                let s = Float8(repeating: a[kk])
                x0.addProduct(s, E.load8(b)); x1.addProduct(s, E.load8(b + 8))
                x2.addProduct(s, E.load8(b + 16)); x3.addProduct(s, E.load8(b + 24))
                x4.addProduct(s, E.load8(b + 32)); x5.addProduct(s, E.load8(b + 40))
                x6.addProduct(s, E.load8(b + 48)); x7.addProduct(s, E.load8(b + 56))
                b += 64
            }
            let out = c + g
            if accumulate {
                x0 += load8(out); x1 += load8(out + 8); x2 += load8(out + 16); x3 += load8(out + 24)
                x4 += load8(out + 32); x5 += load8(out + 40); x6 += load8(out + 48); x7 += load8(out + 56)
            }
            store8(x0, out); store8(x1, out + 8); store8(x2, out + 16); store8(x3, out + 24)
            store8(x4, out + 32); store8(x5, out + 40); store8(x6, out + 48); store8(x7, out + 56)
            g += 64
        }
        if g < n {   // a last group of 16, 32 or 48 columns
            let w = n - g, base = data + g * k
            for col in stride(from: 0, to: w, by: 16) {
                var x0 = Float8(), x1 = Float8()
                var b = base + col
                for kk in 0..<k {
                    let s = Float8(repeating: a[kk])
                    x0.addProduct(s, E.load8(b)); x1.addProduct(s, E.load8(b + 8))
                    b += w
                }
                let out = c + g + col
                if accumulate { x0 += load8(out); x1 += load8(out + 8) }
                store8(x0, out); store8(x1, out + 8)
            }
        }
    }
}
