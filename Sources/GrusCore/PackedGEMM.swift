/// A matrix B [k × n] packed once into 16-column panels ([n/16][k][16], 64-byte aligned), and
/// C [m × n] (+)= A [m × k] · B computed from it. The recurrent step multiplies the same weights
/// by a new state at every time step; a general GEMM re-packs the weights on each call, this packs
/// them once per batch. Rows go 6 at a time through a 6×16 register tile (12 AVX accumulators).
public final class PackedMatrix {
    public private(set) var k = 0
    public private(set) var n = 0
    private(set) var data: UnsafeMutablePointer<Float>
    private var capacity = 0
    private var zeros: UnsafeMutablePointer<Float>   // stands in for missing A rows (read-only)
    /// Free for the owner to record what the packed data was made from.
    public var stamp = -1

    public init() {
        data = .allocate(capacity: 16)
        zeros = .allocate(capacity: 16)
    }

    deinit {
        UnsafeMutableRawPointer(data).deallocate()
        zeros.deallocate()
    }

    /// Whether a [k × n] matrix can be packed (n a multiple of 16).
    public static func supports(n: Int) -> Bool { n > 0 && n % 16 == 0 }

    /// Packs B [k × n] given row-major with leading dimension ldb, or, with `transposed`, given as
    /// Bᵀ [n × k] (leading dimension ldb).
    public func pack(k: Int, n: Int, _ b: UnsafePointer<Float>, ldb: Int, transposed: Bool) {
        precondition(Self.supports(n: n), "PackedMatrix: n = \(n) is not a multiple of 16")
        if k * n > capacity {
            UnsafeMutableRawPointer(data).deallocate()
            data = UnsafeMutablePointer<Float>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: k * n * 4, alignment: 64)))
            capacity = k * n
        }
        if k > self.k {
            zeros.deallocate()
            zeros = .allocate(capacity: k)
            zeros.update(repeating: 0, count: k)
        }
        self.k = k
        self.n = n
        for p in 0..<(n / 16) {
            let panel = data + p * k * 16
            for kk in 0..<k {
                for c in 0..<16 {
                    panel[kk * 16 + c] = transposed ? b[(p * 16 + c) * ldb + kk] : b[kk * ldb + p * 16 + c]
                }
            }
        }
    }

    /// C [m × n] = A [m × k] · B (or += with `accumulate`), A and C row-major.
    public func multiply(m: Int, _ a: UnsafePointer<Float>, lda: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let k = self.k, panels = n / 16
        if m == 1 { multiplyRow(a, c, accumulate: accumulate); return }
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
                let col = p * 16
                var b = UnsafePointer(data + p * k * 16)
                var x00 = Float8(), x01 = Float8(), x10 = Float8(), x11 = Float8(), x20 = Float8(), x21 = Float8()
                var x30 = Float8(), x31 = Float8(), x40 = Float8(), x41 = Float8(), x50 = Float8(), x51 = Float8()
                for kk in 0..<k {
                    let b0 = load8(b), b1 = load8(b + 8)
                    var s = Float8(repeating: a0[kk]); x00.addProduct(s, b0); x01.addProduct(s, b1)
                    s = Float8(repeating: a1[kk]); x10.addProduct(s, b0); x11.addProduct(s, b1)
                    s = Float8(repeating: a2[kk]); x20.addProduct(s, b0); x21.addProduct(s, b1)
                    s = Float8(repeating: a3[kk]); x30.addProduct(s, b0); x31.addProduct(s, b1)
                    s = Float8(repeating: a4[kk]); x40.addProduct(s, b0); x41.addProduct(s, b1)
                    s = Float8(repeating: a5[kk]); x50.addProduct(s, b0); x51.addProduct(s, b1)
                    b += 16
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

    /// One row (batch-1 inference): memory-bound on B, so four panels at a time keep eight
    /// independent accumulators in flight.
    private func multiplyRow(_ a: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let k = self.k, panels = n / 16
        var p = 0
        while p + 4 <= panels {
            let b = UnsafePointer(data + p * k * 16), stride = k * 16
            var x0 = Float8(), x1 = Float8(), x2 = Float8(), x3 = Float8(), x4 = Float8(), x5 = Float8(), x6 = Float8(), x7 = Float8()
            for kk in 0..<k {
                let s = Float8(repeating: a[kk]), o = kk * 16
                x0.addProduct(s, load8(b + o)); x1.addProduct(s, load8(b + o + 8))
                x2.addProduct(s, load8(b + stride + o)); x3.addProduct(s, load8(b + stride + o + 8))
                x4.addProduct(s, load8(b + 2 * stride + o)); x5.addProduct(s, load8(b + 2 * stride + o + 8))
                x6.addProduct(s, load8(b + 3 * stride + o)); x7.addProduct(s, load8(b + 3 * stride + o + 8))
            }
            let out = c + p * 16
            if accumulate {
                x0 += load8(out); x1 += load8(out + 8); x2 += load8(out + 16); x3 += load8(out + 24)
                x4 += load8(out + 32); x5 += load8(out + 40); x6 += load8(out + 48); x7 += load8(out + 56)
            }
            store8(x0, out); store8(x1, out + 8); store8(x2, out + 16); store8(x3, out + 24)
            store8(x4, out + 32); store8(x5, out + 40); store8(x6, out + 48); store8(x7, out + 56)
            p += 4
        }
        while p < panels {
            let b = UnsafePointer(data + p * k * 16)
            var x0 = Float8(), x1 = Float8()
            for kk in 0..<k {
                let s = Float8(repeating: a[kk])
                x0.addProduct(s, load8(b + kk * 16)); x1.addProduct(s, load8(b + kk * 16 + 8))
            }
            let out = c + p * 16
            if accumulate { x0 += load8(out); x1 += load8(out + 8) }
            store8(x0, out); store8(x1, out + 8)
            p += 1
        }
    }
}
