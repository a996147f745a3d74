import GrusCore

/// Weight initialisers.
public enum Init {
    /// Uniform in [-bound, bound] (PyTorch's GRU and Linear use bound = 1/sqrt(fan)).
    public static func uniform(_ shape: [Int], bound: Float, rng: inout RNG) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { _ in rng.uniform(-bound, bound) })
    }

    /// A (rows × cols) matrix with orthonormal rows (rows <= cols) or columns (rows > cols),
    /// from Gram-Schmidt on a standard-normal matrix, with signs fixed as in QR with positive diagonal.
    public static func orthogonal(rows: Int, cols: Int, gain: Float = 1, rng: inout RNG) -> Tensor {
        let transpose = rows < cols
        let (m, n) = transpose ? (cols, rows) : (rows, cols)   // m >= n; orthonormalise n columns of length m
        var q = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
        for j in 0..<n { for i in 0..<m { q[j][i] = Double(rng.normal()) } }
        for j in 0..<n {
            for _ in 0..<2 {   // twice is enough for double precision
                for k in 0..<j {
                    var dot = 0.0
                    for i in 0..<m { dot += q[j][i] * q[k][i] }
                    for i in 0..<m { q[j][i] -= dot * q[k][i] }
                }
            }
            var norm = 0.0
            for i in 0..<m { norm += q[j][i] * q[j][i] }
            norm = norm.squareRoot()
            for i in 0..<m { q[j][i] /= norm }
        }
        var out = Tensor(zeros: [rows, cols])
        for j in 0..<n {
            for i in 0..<m {
                let v = Float(q[j][i]) * gain
                if transpose { out[j, i] = v } else { out[i, j] = v }
            }
        }
        return out
    }
}
