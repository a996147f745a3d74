import CFFTW
import Foundation

/// A double-precision real-to-complex FFT of one size. Double precision keeps bins far below a
/// frame's peak (window side lobes, silence next to loud sound) accurate: in Float32 their
/// energies are rounding noise, which the log turns into large errors.
/// Plans are made once per size and shared (FFTW plan
/// creation is not thread-safe, so it happens under a lock); executing a plan on other arrays
/// is thread-safe, so every caller brings its own aligned buffers (`FFTBuffers`).
public final class RealFFT: @unchecked Sendable {
    public let size: Int
    let plan: fftw_plan

    private static var plans: [Int: RealFFT] = [:]
    private static let lock = NSLock()

    /// The shared transform for `size` points.
    public static func of(size: Int) -> RealFFT {
        lock.lock()
        defer { lock.unlock() }
        if let p = plans[size] { return p }
        let p = RealFFT(size: size)
        plans[size] = p
        return p
    }

    private init(size: Int) {
        precondition(size >= 2, "RealFFT: size must be at least 2")
        self.size = size
        let input = fftw_alloc_real(size)!
        let output = fftw_alloc_complex(size / 2 + 1)!
        plan = fftw_plan_dft_r2c_1d(Int32(size), input, output, FFTW_ESTIMATE)!
        fftw_free(input)
        fftw_free(output)
    }

    /// Transforms `buffers.input` (size reals) into `buffers.output` (size/2 + 1 complex pairs).
    @inline(__always)
    public func execute(_ buffers: FFTBuffers) {
        fftw_execute_dft_r2c(plan, buffers.input, buffers.output)
    }
}

/// SIMD-aligned scratch for one `RealFFT` size; one per thread.
public final class FFTBuffers {
    public let size: Int
    public let input: UnsafeMutablePointer<Double>
    let output: UnsafeMutablePointer<fftw_complex>

    public init(size: Int) {
        self.size = size
        input = fftw_alloc_real(size)!
        output = fftw_alloc_complex(size / 2 + 1)!
    }

    deinit {
        fftw_free(input)
        fftw_free(output)
    }

    /// Interleaved (re, im) pairs of the last transform.
    public var spectrum: UnsafeMutablePointer<Double> {
        UnsafeMutableRawPointer(output).assumingMemoryBound(to: Double.self)
    }
}
