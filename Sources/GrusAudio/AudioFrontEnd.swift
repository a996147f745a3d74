import Foundation
import GrusCore

/// File → features: read (any format), pick or mix channels, resample to the features' rate,
/// then extract. One instance serves any number of threads.
public final class AudioFrontEnd: @unchecked Sendable {
    public let options: FeatureOptions
    public let channels: ChannelPolicy
    public let extractor: FeatureExtractor

    public init(_ options: FeatureOptions, channels: ChannelPolicy = .mixDown) throws {
        self.options = options
        self.channels = channels
        extractor = try FeatureExtractor(options)
    }

    /// Mono samples at the features' rate; with `maxSeconds` only the start of the file is read.
    public func load(_ path: String, maxSeconds: Double? = nil, startSeconds: Double = 0) throws -> Audio {
        let audio = try AudioFile.read(path, channels: channels == .keepAll ? .mixDown : channels, maxSeconds: maxSeconds,
                                       startSeconds: startSeconds)
        let rate = options.frame.sampleRate
        if audio.sampleRate == rate { return audio }
        // Upsampled, the bins above the file's own Nyquist frequency would hold only resampler
        // noise, which the model never met in training: refused, as `grus features` refuses it.
        if audio.sampleRate < rate {
            throw AudioError.unsupported(path: path, reason: "recorded at \(audio.sampleRate) Hz, below the \(rate) Hz the features are computed at; upsampled, everything above \(audio.sampleRate / 2) Hz would be empty. Resample the audio to \(rate) Hz, or leave it out")
        }
        return ResamplerCache.shared.resampler(from: audio.sampleRate, to: rate).process(audio)
    }

    public func features(of audio: Audio, rng: inout RNG) -> Tensor {
        precondition(audio.sampleRate == options.frame.sampleRate && audio.channels == 1,
                     "AudioFrontEnd: expected mono audio at \(options.frame.sampleRate) Hz")
        return extractor.compute(audio.samples, rng: &rng)
    }

    public func features(ofFile path: String) throws -> Tensor {
        var rng = RNG(seed: 0)
        return features(of: try load(path), rng: &rng)
    }
}

/// Writes a Float32 matrix as a NumPy .npy file (format 1.0), atomically.
public enum NPY {
    public static func encode(_ t: Tensor) -> Data {
        let shape = t.shape.map(String.init).joined(separator: ", ") + (t.rank == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        d.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        d.append(contentsOf: Array(header.utf8))
        t.data.withUnsafeBufferPointer { d.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        return d
    }

    public static func write(_ t: Tensor, to url: URL) throws {
        try AtomicFile.write(encode(t), to: url)
    }
}
