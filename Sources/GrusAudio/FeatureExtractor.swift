import Foundation
import GrusCore

/// Turns mono audio into a feature matrix [frames, dimension] according to `FeatureOptions`.
/// Everything that depends only on the options (window, mel matrix, DCT, FFT plan) is built
/// once; `compute` is thread-safe and may run on many threads at once.
public final class FeatureExtractor: @unchecked Sendable {
    public let options: FeatureOptions
    let fft: RealFFT
    let window: [Double]
    let windowOffset: Int
    let mel: MelFilterbank
    let dct: [Float]          // [numCeps, numBins], orthonormal DCT-II rows
    let lifter: [Float]

    /// Refuses options that `FeatureOptions.problems()` finds fault with, before sizing anything.
    public init(_ options: FeatureOptions) throws {
        let problems = options.problems()
        guard problems.isEmpty else { throw FeatureOptionsError(problems: problems) }
        self.options = options
        let f = options.frame
        fft = RealFFT.of(size: f.fftLength)
        window = FeatureExtractor.makeWindow(f.window, length: f.windowLength, periodic: f.periodicWindow)
        // Centred framing (librosa/torch) reads nFFT samples and centres the window in them;
        // Kaldi framing reads the window's length and zero-pads after it.
        let centred = !f.snipEdges && f.center
        windowOffset = centred ? (f.fftLength - f.windowLength) / 2 : 0
        mel = MelFilterbank(options.mel, sampleRate: f.sampleRate, fftLength: f.fftLength)
        let nb = options.mel.numBins, nc = options.mfcc.numCeps
        var d = [Float](repeating: 0, count: nc * nb)
        for k in 0..<nc {
            let scale = k == 0 ? (1 / Double(nb)).squareRoot() : (2 / Double(nb)).squareRoot()
            for n in 0..<nb { d[k * nb + n] = Float(scale * cos(Double.pi / Double(nb) * (Double(n) + 0.5) * Double(k))) }
        }
        dct = d
        let q = options.mfcc.lifter
        lifter = (0..<nc).map { i in q == 0 ? 1 : 1 + 0.5 * q * Float(sin(Double.pi * Double(i) / Double(q))) }
    }

    /// The sample an out-of-range index `s` mirrors to in a signal of `count` ≥ 2 samples: Kaldi
    /// mirrors including the edge sample (−1 → 0), reflect about it (−1 → 1). Mirroring repeats
    /// with period 2n (Kaldi) or 2(n − 1), so one fold does it (bouncing back and forth took
    /// thousands of steps per sample when a short signal was padded by half a 64k FFT; found by
    /// fuzz/FuzzFeatures).
    static func mirror(_ s: Int, count n: Int, kaldi: Bool) -> Int {
        let period = kaldi ? 2 * n : 2 * (n - 1)
        let r = ((s % period) + period) % period
        return r < n ? r : (kaldi ? 2 * n - 1 - r : 2 * (n - 1) - r)
    }

    static func makeWindow(_ type: WindowType, length n: Int, periodic: Bool) -> [Double] {
        let denom = Double(periodic ? n : n - 1)
        return (0..<n).map { i in
            let a = 2 * Double.pi * Double(i) / denom
            switch type {
            case .hann: return 0.5 - 0.5 * cos(a)
            case .hamming: return 0.54 - 0.46 * cos(a)
            case .povey: return pow(0.5 - 0.5 * cos(a), 0.85)
            case .rectangular: return 1
            case .blackman: return 0.42 - 0.5 * cos(a) + 0.08 * cos(2 * a)
            }
        }
    }

    /// Number of frames for `count` samples.
    public func frameCount(samples count: Int) -> Int {
        let f = options.frame, hop = f.hopLength
        if f.snipEdges {
            return count < f.windowLength ? 0 : 1 + (count - f.windowLength) / hop
        }
        if f.center { return 1 + count / hop }
        return (count + hop / 2) / hop
    }

    /// Features of mono audio at the options' sample rate: [frames, dimension].
    /// `rng` drives dither (when enabled).
    public func compute(_ samples: [Float], rng: inout RNG) -> Tensor {
        let raw = computeFrames(samples, rng: &rng)
        var out = raw
        if options.deltaOrder > 0 { out = appendDeltas(out, order: options.deltaOrder, window: options.deltaWindow) }
        if options.cmvn == .utterance { out = CMVN.utterance(out, normalizeVariance: options.normalizeVariance) }
        if options.cmvn == .sliding {
            var s = SlidingCMVN(window: options.cmvnWindow ?? 300, dimension: options.dimension, normalizeVariance: options.normalizeVariance)
            out = s.apply(out)
        }
        return out
    }

    public func compute(_ samples: [Float]) -> Tensor {
        var rng = RNG(seed: 0)
        return compute(samples, rng: &rng)
    }

    /// Static features before deltas and CMVN: power (or magnitude) spectrum → mel energies →
    /// log (with the top-dB clamp over the utterance) → DCT and lifter for MFCC.
    func computeFrames(_ x: [Float], rng: inout RNG) -> Tensor {
        let f = options.frame
        let frames = frameCount(samples: x.count)
        let nfft = f.fftLength, bins = nfft / 2 + 1
        let melBins = options.mel.numBins
        let energyDim = options.kind == .spectrogram ? bins : melBins
        var energies = Tensor(zeros: [frames, energyDim])
        if frames == 0 { return Tensor(zeros: [0, options.kind == .mfcc ? options.mfcc.numCeps : energyDim]) }
        let buffers = FFTBuffers(size: nfft)
        var power = [Double](repeating: 0, count: bins)
        var melOut = [Double](repeating: 0, count: melBins)
        let hop = f.hopLength, wl = f.windowLength, n = x.count
        // Where frame 0's first sample falls in the signal.
        let origin: Int
        if f.snipEdges { origin = 0 } else if f.center { origin = -nfft / 2 } else { origin = hop / 2 - wl / 2 }
        // Kaldi mirrors past the edge including the edge sample (−1 → 0); torch/numpy "reflect"
        // mirrors about it (−1 → 1).
        let kaldiMirror = f.snipEdges || !f.center
        let pad = kaldiMirror || f.padMode == .reflect
        x.withUnsafeBufferPointer { xs in
            energies.data.withUnsafeMutableBufferPointer { eb in
                let buf = buffers.input
                for m in 0..<frames {
                    // 1. The window's samples, padded at the signal's edges.
                    buf.update(repeating: 0, count: nfft)
                    let frame = buf + windowOffset
                    let first = origin + m * hop + windowOffset
                    if first >= 0 && first + wl <= n {
                        for i in 0..<wl { frame[i] = Double(xs[first + i]) }
                    } else {
                        for i in 0..<wl {
                            var s = first + i
                            if s < 0 || s >= n {
                                if !pad { continue }
                                if n == 1 { frame[i] = Double(xs[0]); continue }
                                s = FeatureExtractor.mirror(s, count: n, kaldi: kaldiMirror)
                            }
                            frame[i] = Double(xs[s])
                        }
                    }
                    // 2. Dither, DC removal, pre-emphasis, window.
                    if f.dither != 0 { for i in 0..<wl { frame[i] += Double(f.dither * rng.normal()) } }
                    if f.removeDC {
                        var mean = 0.0
                        for i in 0..<wl { mean += frame[i] }
                        mean /= Double(wl)
                        for i in 0..<wl { frame[i] -= mean }
                    }
                    if f.preemphasis != 0 {
                        let p = Double(f.preemphasis)
                        for i in stride(from: wl - 1, to: 0, by: -1) { frame[i] -= p * frame[i - 1] }
                        frame[0] -= p * frame[0]
                    }
                    window.withUnsafeBufferPointer { w in for i in 0..<wl { frame[i] *= w[i] } }
                    // 3. Spectrum, then mel energies.
                    fft.execute(buffers)
                    let spec = buffers.spectrum
                    let row = eb.baseAddress! + m * energyDim
                    let usePower = options.usePower
                    power.withUnsafeMutableBufferPointer { p in
                        for k in 0..<bins {
                            let re = spec[2 * k], im = spec[2 * k + 1]
                            let e = re * re + im * im
                            p[k] = usePower ? e : e.squareRoot()
                        }
                    }
                    if options.kind == .spectrogram {
                        for k in 0..<bins { row[k] = logValue(power[k]) }
                    } else {
                        mel.apply(power, into: &melOut)
                        // The log is taken here, in double precision, so tiny energies keep their digits.
                        for k in 0..<melBins { row[k] = logValue(melOut[k]) }
                    }
                }
            }
        }
        clampTopDb(&energies)
        guard options.kind == .mfcc else { return energies }
        let nc = options.mfcc.numCeps
        var out = Tensor(zeros: [frames, nc])
        energies.data.withUnsafeBufferPointer { lm in
            out.data.withUnsafeMutableBufferPointer { o in
                for m in 0..<frames {
                    for k in 0..<nc {
                        var s: Float = 0
                        for j in 0..<melBins { s += dct[k * melBins + j] * lm[m * melBins + j] }
                        o[m * nc + k] = s * lifter[k]
                    }
                }
            }
        }
        return out
    }

    /// ln or 10·log10 of max(x, floor), or x itself.
    @inline(__always)
    func logValue(_ x: Double) -> Float {
        let floor = Double(options.log.floor)
        switch options.log.kind {
        case .none: return Float(x)
        case .natural: return Float(Foundation.log(max(x, floor)))
        case .decibel: return Float(10 * log10(max(x, floor)))
        }
    }

    /// For decibels with `topDb`: clamp to (utterance max − topDb), as librosa's power_to_db.
    func clampTopDb(_ t: inout Tensor) {
        guard options.log.kind == .decibel, let top = options.log.topDb, let peak = t.data.max() else { return }
        let lo = peak - top
        for i in t.data.indices where t.data[i] < lo { t.data[i] = lo }
    }
}

/// Triangular mel filters over the FFT bins, stored as one run of weights per filter.
struct MelFilterbank {
    let numBins: Int
    let starts: [Int]
    let weights: [[Double]]

    init(_ o: MelOptions, sampleRate: Int, fftLength: Int) {
        let nyquist = Double(sampleRate) / 2
        let fMax = o.fMax > 0 ? o.fMax : nyquist + o.fMax
        precondition(o.fMin >= 0 && fMax > o.fMin && fMax <= nyquist + 1e-9,
                     "MelFilterbank: need 0 <= fMin < fMax <= Nyquist, got \(o.fMin), \(fMax)")
        let bins = fftLength / 2 + 1
        let usable = o.includeNyquist ? bins : bins - 1
        let binHz = Double(sampleRate) / Double(fftLength)
        func toMel(_ f: Double) -> Double {
            switch o.scale {
            case .htk: return 1127 * log(1 + f / 700)
            case .slaney:
                let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, step = log(6.4) / 27
                return f >= minLogHz ? minLogMel + log(f / minLogHz) / step : f / fsp
            }
        }
        func toHz(_ m: Double) -> Double {
            switch o.scale {
            case .htk: return 700 * (exp(m / 1127) - 1)
            case .slaney:
                let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, step = log(6.4) / 27
                return m >= minLogMel ? minLogHz * exp(step * (m - minLogMel)) : fsp * m
            }
        }
        let lo = toMel(o.fMin), hi = toMel(fMax)
        let delta = (hi - lo) / Double(o.numBins + 1)
        let cornersMel = (0..<(o.numBins + 2)).map { lo + Double($0) * delta }
        let cornersHz = cornersMel.map(toHz)
        var starts: [Int] = [], weights: [[Double]] = []
        for b in 0..<o.numBins {
            var row = [Double](repeating: 0, count: bins)
            for k in 0..<usable {
                let f = Double(k) * binHz
                var w = 0.0
                switch o.triangles {
                case .mel:
                    let m = toMel(f), l = cornersMel[b], c = cornersMel[b + 1], r = cornersMel[b + 2]
                    if m > l && m < r { w = m <= c ? (m - l) / (c - l) : (r - m) / (r - c) }
                case .hertz:
                    let l = cornersHz[b], c = cornersHz[b + 1], r = cornersHz[b + 2]
                    w = max(0, min((f - l) / (c - l), (r - f) / (r - c)))
                }
                row[k] = w
            }
            if o.slaneyNorm {
                let norm = 2 / (cornersHz[b + 2] - cornersHz[b])
                for k in 0..<bins { row[k] *= norm }
            }
            let first = row.firstIndex { $0 > 0 } ?? 0
            let last = row.lastIndex { $0 > 0 } ?? -1
            starts.append(first)
            weights.append(last >= first ? Array(row[first...last]) : [])
        }
        numBins = o.numBins
        self.starts = starts
        self.weights = weights
    }

    func apply(_ power: [Double], into out: inout [Double]) {
        power.withUnsafeBufferPointer { p in
            for b in 0..<numBins {
                var s = 0.0
                let w = weights[b], s0 = starts[b]
                for (i, wi) in w.enumerated() { s += wi * p[s0 + i] }
                out[b] = s
            }
        }
    }

    /// Dense [numBins, bins] matrix, for tests.
    func dense(bins: Int) -> [[Double]] {
        (0..<numBins).map { b in
            var row = [Double](repeating: 0, count: bins)
            for (i, w) in weights[b].enumerated() { row[starts[b] + i] = w }
            return row
        }
    }
}
