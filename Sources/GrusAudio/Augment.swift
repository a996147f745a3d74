import Foundation
import GrusCore

/// Training-time augmentation. Each part is optional (nil = off); everything draws from the
/// caller's seeded RNG, so a run is reproducible. Evaluation never augments (`training: false`).
public struct AugmentOptions: Codable, Equatable, Sendable {
    public struct SpecAugment: Codable, Equatable, Sendable {
        /// Number of time masks and the widest one, in frames. Defaults 2 and 20.
        public var timeMasks = 2
        public var maxTimeWidth = 20
        /// Number of frequency masks and the widest one, in feature bins. Defaults 2 and 8.
        public var freqMasks = 2
        public var maxFreqWidth = 8
        public init() {}
    }

    public enum NoiseSource: Codable, Equatable, Sendable {
        case white
        case pink
        /// Clips (e.g. Speech Commands' `_background_noise_`), loaded by the caller.
        case clips
    }

    public struct Noise: Codable, Equatable, Sendable {
        public var source: NoiseSource = .white
        /// SNR drawn uniformly from this range, in dB. Default 5...20.
        public var minSNR: Double = 5
        public var maxSNR: Double = 20
        /// Chance that an utterance gets noise. Default 0.5.
        public var probability: Double = 0.5
        public init() {}
    }

    public var specAugment: SpecAugment?
    public var noise: Noise?
    /// Largest random shift, in milliseconds, either way (vacated samples are zero). nil = off.
    public var maxShiftMs: Double?
    /// Speed factors to choose from uniformly (e.g. [0.9, 1.0, 1.1]); tempo and pitch change
    /// together, as sox `speed`. nil = off.
    public var speeds: [Double]?
    /// Vocal tract length perturbation on the feature axis: each utterance's bins are stretched
    /// by a factor drawn uniformly from [lower, upper] (e.g. 0.9 ... 1.1). nil = off.
    public var vtlp: ClosedRange<Double>?

    public init() {}
}

public final class Augmenter: @unchecked Sendable {
    public let options: AugmentOptions
    public let sampleRate: Int
    let noiseClips: [[Float]]

    public init(_ options: AugmentOptions, sampleRate: Int, noiseClips: [[Float]] = []) {
        precondition(options.noise?.source != .clips || !noiseClips.isEmpty, "Augmenter: noise source 'clips' needs clips")
        self.options = options
        self.sampleRate = sampleRate
        self.noiseClips = noiseClips.filter { !$0.isEmpty }
    }

    /// Waveform augmentation: speed, shift, then noise.
    public func waveform(_ x: [Float], training: Bool, rng: inout RNG) -> [Float] {
        guard training else { return x }
        var y = x
        if let speeds = options.speeds, !speeds.isEmpty {
            y = Augmenter.changeSpeed(y, by: speeds[rng.int(below: speeds.count)], rate: sampleRate)
        }
        if let ms = options.maxShiftMs, ms > 0 {
            let limit = Int(Double(sampleRate) * ms / 1000)
            y = Augmenter.shift(y, by: rng.int(below: 2 * limit + 1) - limit)
        }
        if let n = options.noise, rng.uniformDouble() < n.probability {
            let snr = n.minSNR + (n.maxSNR - n.minSNR) * rng.uniformDouble()
            let noise: [Float]
            switch n.source {
            case .white: noise = Augmenter.whiteNoise(count: y.count, rng: &rng)
            case .pink: noise = Augmenter.pinkNoise(count: y.count, rng: &rng)
            case .clips: noise = Augmenter.segment(of: noiseClips[rng.int(below: noiseClips.count)], count: y.count, rng: &rng)
            }
            y = Augmenter.mix(y, noise, snrDb: snr)
        }
        return y
    }

    /// SpecAugment on [frames, bins] features: zeroed time and frequency bands.
    public func features(_ x: Tensor, training: Bool, rng: inout RNG) -> Tensor {
        guard training else { return x }
        var y = x
        if let v = options.vtlp { y = Augmenter.warpBins(y, by: v.lowerBound + (v.upperBound - v.lowerBound) * rng.uniformDouble()) }
        guard let s = options.specAugment else { return y }
        let frames = x.shape[0], bins = x.shape[1]
        for _ in 0..<s.timeMasks where frames > 0 {
            let w = rng.int(below: min(s.maxTimeWidth, frames) + 1)
            let t0 = rng.int(below: frames - w + 1)
            for t in t0..<(t0 + w) { for j in 0..<bins { y.data[t * bins + j] = 0 } }
        }
        for _ in 0..<s.freqMasks where bins > 0 {
            let w = rng.int(below: min(s.maxFreqWidth, bins) + 1)
            let f0 = rng.int(below: bins - w + 1)
            for t in 0..<frames { for j in f0..<(f0 + w) { y.data[t * bins + j] = 0 } }
        }
        return y
    }

    /// Stretches each frame's bins [frames, bins] along the feature axis by `alpha`: bin k takes
    /// the value at position k / alpha, linearly interpolated (clamped at the edges). alpha > 1
    /// moves spectral structure up, as a shorter vocal tract does; 1 leaves x as it is.
    public static func warpBins(_ x: Tensor, by alpha: Double) -> Tensor {
        if alpha == 1 { return x }
        let frames = x.shape[0], bins = x.shape[1]
        guard bins > 1 else { return x }
        var y = x
        for k in 0..<bins {
            let pos = min(max(Double(k) / alpha, 0), Double(bins - 1))
            let lo = Int(pos), hi = min(lo + 1, bins - 1), w = Float(pos - Double(lo))
            for t in 0..<frames { y.data[t * bins + k] = (1 - w) * x.data[t * bins + lo] + w * x.data[t * bins + hi] }
        }
        return y
    }

    /// Plays the signal `factor` times faster (shorter and higher for factor > 1).
    public static func changeSpeed(_ x: [Float], by factor: Double, rate: Int) -> [Float] {
        if factor == 1 { return x }
        let source = Int((Double(rate) * factor).rounded())
        return ResamplerCache.shared.resampler(from: source, to: rate).process(x)
    }

    /// Moves the signal by `n` samples (positive = later), filling with zeros; length kept.
    public static func shift(_ x: [Float], by n: Int) -> [Float] {
        if n == 0 || x.isEmpty { return x }
        var y = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let j = i - n
            if j >= 0 && j < x.count { y[i] = x[j] }
        }
        return y
    }

    /// x + g·noise with g chosen so that 10·log10(P_x / P_{g·noise}) = snrDb. Silent x is returned as is.
    public static func mix(_ x: [Float], _ noise: [Float], snrDb: Double) -> [Float] {
        precondition(noise.count == x.count, "mix: noise must match the signal's length")
        let px = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let pn = noise.reduce(0.0) { $0 + Double($1) * Double($1) }
        guard px > 0, pn > 0 else { return x }
        let g = Float((px / (pn * pow(10, snrDb / 10))).squareRoot())
        return zip(x, noise).map { $0 + g * $1 }
    }

    public static func whiteNoise(count: Int, rng: inout RNG) -> [Float] {
        (0..<count).map { _ in rng.normal() }
    }

    /// Pink (1/f) noise: white noise through Paul Kellet's refined three-pole filter set.
    public static func pinkNoise(count: Int, rng: inout RNG) -> [Float] {
        var b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0, b4 = 0.0, b5 = 0.0, b6 = 0.0
        return (0..<count).map { _ in
            let w = Double(rng.normal())
            b0 = 0.99886 * b0 + w * 0.0555179
            b1 = 0.99332 * b1 + w * 0.0750759
            b2 = 0.96900 * b2 + w * 0.1538520
            b3 = 0.86650 * b3 + w * 0.3104856
            b4 = 0.55000 * b4 + w * 0.5329522
            b5 = -0.7616 * b5 - w * 0.0168980
            let p = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362
            b6 = w * 0.115926
            return Float(p * 0.11)
        }
    }

    /// A random `count`-sample stretch of `clip`, looping it when it is shorter.
    public static func segment(of clip: [Float], count: Int, rng: inout RNG) -> [Float] {
        let start = rng.int(below: clip.count)
        return (0..<count).map { clip[(start + $0) % clip.count] }
    }
}

extension Augmenter {
    /// Every audio file directly in `folder` (e.g. Speech Commands' `_background_noise_`), mono,
    /// at `sampleRate`. Files that cannot be read are reported in `skipped`, not fatal.
    public static func loadNoiseFolder(_ folder: String, sampleRate: Int) throws -> (clips: [[Float]], skipped: [AudioError]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw AudioError.missing(path: folder + " (noise folder)")
        }
        var clips: [[Float]] = [], skipped: [AudioError] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            let lower = name.lowercased()
            guard [".wav", ".flac", ".ogg", ".aiff", ".aif"].contains(where: { lower.hasSuffix($0) }) else { continue }
            do {
                var audio = try AudioFile.read(path)
                if audio.sampleRate != sampleRate {
                    audio = ResamplerCache.shared.resampler(from: audio.sampleRate, to: sampleRate).process(audio)
                }
                clips.append(audio.samples)
            } catch let e as AudioError {
                skipped.append(e)
            }
        }
        return (clips, skipped)
    }
}
