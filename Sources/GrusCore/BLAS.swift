import CBLAS

/// Thin, shape-checked wrappers around OpenBLAS `cblas_sgemm` on raw pointers.
///
/// Grus runs its own threads (for example one per GRU direction), so BLAS is kept
/// single-threaded by default: small GEMMs lose when split across threads.
public enum BLAS {
    /// Sets OpenBLAS's own thread count (1 by default in Grus).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }

    nonisolated(unsafe) private static var configured = false

    /// Called once by Grus entry points; makes BLAS single-threaded.
    public static func configureOnce() {
        if !configured {
            configured = true
            setThreads(1)
        }
    }

    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, row-major, explicit leading dimensions.
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1,
        _ a: UnsafePointer<Float>, lda: Int,
        _ b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // op(A)·op(B) is empty: C = beta · C.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        if m == 1 && !transA {
            // A single row: y = op(B)ᵀ-side matrix-vector product, without GEMM's packing.
            // Row-major C[1×n] = a[1×k] · op(B)[k×n]  ⇔  c = op(B)ᵀ a.
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans,
                        Int32(transB ? n : k), Int32(transB ? k : n), alpha, b, Int32(ldb), a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision C[m×n] = op(A)[m×k] · op(B)[k×n] + beta · C, row-major (the CRF's forward-backward).
    @inline(__always)
    public static func dgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Double>, lda: Int,
        _ b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0,
        _ c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Tensor {
    /// Matrix product of two rank-2 tensors, with optional transposes: op(self) · op(other).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul: rank-2 tensors only, got \(shape) and \(other.shape)")
        let (m, k) = transposeSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
        let (k2, n) = transposeOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        precondition(k == k2, "matmul: inner dimensions differ: \(shape) · \(other.shape)")
        var out = Tensor(zeros: [m, n])
        if m == 0 || n == 0 || k == 0 { return out }
        data.withUnsafeBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                out.data.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
                              a.baseAddress!, lda: shape[1], b.baseAddress!, ldb: other.shape[1],
                              c.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}
