import CSndFile
import Foundation
import GrusCore

/// Mono or multichannel audio as Float32 samples in [-1, 1], frames interleaved by channel.
public struct Audio: Equatable, Sendable {
    public var samples: [Float]
    public var sampleRate: Int
    public var channels: Int

    public init(samples: [Float], sampleRate: Int, channels: Int = 1) {
        precondition(channels >= 1 && samples.count % channels == 0, "Audio: sample count must be a multiple of channels")
        self.samples = samples
        self.sampleRate = sampleRate
        self.channels = channels
    }

    public var frames: Int { samples.count / channels }
    public var duration: Double { Double(frames) / Double(sampleRate) }

    /// The mean of all channels.
    public func mixedDown() -> Audio {
        if channels == 1 { return self }
        var out = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(channels)
        for f in 0..<frames {
            var s: Float = 0
            for c in 0..<channels { s += samples[f * channels + c] }
            out[f] = s * scale
        }
        return Audio(samples: out, sampleRate: sampleRate)
    }

    /// One channel (0-based).
    public func channel(_ c: Int) -> Audio {
        precondition(c >= 0 && c < channels, "Audio: channel \(c) of \(channels)")
        return Audio(samples: (0..<frames).map { samples[$0 * channels + c] }, sampleRate: sampleRate)
    }
}

/// Why an audio file could not be used. Every case names the file.
public enum AudioError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case notAFile(path: String)
    case unreadable(path: String, reason: String)
    case notAudio(path: String, reason: String)
    case empty(path: String)
    case invalidSamples(path: String, reason: String)
    case unsupported(path: String, reason: String)

    public var path: String {
        switch self {
        case let .missing(p), let .notAFile(p), let .empty(p): return p
        case let .unreadable(p, _), let .notAudio(p, _), let .invalidSamples(p, _), let .unsupported(p, _): return p
        }
    }

    public var description: String {
        switch self {
        case let .missing(p): return "\(p): no such file"
        case let .notAFile(p): return "\(p): is a directory or special file, not an audio file"
        case let .unreadable(p, r): return "\(p): cannot be read (\(r)); check its permissions"
        case let .notAudio(p, r): return "\(p): not a readable audio file (\(r)); it may be corrupt, truncated or another format"
        case let .empty(p): return "\(p): holds no audio (0 frames)"
        case let .invalidSamples(p, r): return "\(p): \(r)"
        case let .unsupported(p, r): return "\(p): \(r)"
        }
    }
}

/// How to turn a file's channels into one signal.
public enum ChannelPolicy: Equatable, Sendable, Codable {
    /// Average all channels (the default).
    case mixDown
    /// Keep one channel (0-based).
    case select(Int)
    /// Keep every channel, interleaved.
    case keepAll
}

public enum AudioFile {
    /// Sample formats for `write`.
    public enum Encoding: Sendable {
        case pcm16, pcm24, pcm32, pcmU8, float32, flac16, vorbis
    }

    /// Reads any format libsndfile reads (WAV PCM 8/16/24/32-bit and float, FLAC, OGG/Vorbis, ...).
    /// Integer PCM is scaled to [-1, 1). Non-finite samples are an error.
    /// `maxSeconds` (> 0) reads only that much, starting `startSeconds` in, so memory stays
    /// bounded however long the file is.
    public static func read(_ path: String, channels policy: ChannelPolicy = .mixDown, maxFrames: Int? = nil,
                            maxSeconds: Double? = nil, startSeconds: Double = 0) throws -> Audio {
        try check(path)
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            let reason = String(cString: sf_strerror(nil))
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            if size == 0 { throw AudioError.empty(path: path) }
            throw AudioError.notAudio(path: path, reason: reason)
        }
        defer { sf_close(file) }
        guard info.channels >= 1, info.samplerate >= 1 else {
            throw AudioError.notAudio(path: path, reason: "header gives \(info.channels) channels at \(info.samplerate) Hz")
        }
        // A header can claim any rate; resampling 1 Hz audio to 16 kHz would take gigabytes.
        guard AudioFile.sampleRates.contains(Int(info.samplerate)), info.channels <= 256 else {
            throw AudioError.unsupported(path: path, reason: "header gives \(info.samplerate) Hz and \(info.channels) channels; Grus reads \(AudioFile.sampleRates.lowerBound)-\(AudioFile.sampleRates.upperBound) Hz and at most 256 channels")
        }
        if let (promised, held) = truncation(file) {
            throw AudioError.notAudio(path: path, reason: "truncated: its header promises \(promised) bytes of audio, the file holds \(held)")
        }
        let channels = Int(info.channels)
        var frames = Int(info.frames)
        if startSeconds > 0 {
            let start = Int(startSeconds * Double(info.samplerate))
            guard start < frames, sf_seek(file, sf_count_t(start), SEEK_SET) >= 0 else {
                throw AudioError.unsupported(path: path, reason: "cannot start reading at \(startSeconds) s of a \(Double(frames) / Double(info.samplerate)) s file")
            }
            frames -= start
        }
        if let m = maxFrames { frames = min(frames, m) }
        if let s = maxSeconds, s > 0 { frames = min(frames, Int((s * Double(info.samplerate)).rounded(.up))) }
        if frames <= 0 { throw AudioError.empty(path: path) }
        var samples = [Float](repeating: 0, count: frames * channels)
        let got = samples.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress!, sf_count_t(frames)) }
        if got <= 0 { throw AudioError.notAudio(path: path, reason: "no sample data could be decoded (truncated data chunk?)") }
        if Int(got) < frames { samples.removeLast((frames - Int(got)) * channels) }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw AudioError.invalidSamples(path: path, reason: "sample \(bad / channels) is \(samples[bad]); NaN or infinite audio cannot be used")
        }
        let audio = Audio(samples: samples, sampleRate: Int(info.samplerate), channels: channels)
        switch policy {
        case .mixDown: return audio.mixedDown()
        case .keepAll: return audio
        case let .select(c):
            guard c >= 0 && c < channels else {
                throw AudioError.unsupported(path: path, reason: "channel \(c) requested, the file has \(channels)")
            }
            return audio.channel(c)
        }
    }

    /// Missing files, dangling links, directories and unreadable files, each named.
    static func check(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            // A dangling symlink "exists" for lstat but not for fileExists.
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil {
                throw AudioError.missing(path: path + " (a symbolic link whose target is missing)")
            }
            throw AudioError.missing(path: path)
        }
        if isDir.boolValue { throw AudioError.notAFile(path: path) }
        if let problem = specialFileProblem(path) { throw AudioError.unsupported(path: path, reason: problem) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AudioError.unreadable(path: path, reason: "permission denied")
        }
    }

    /// Sample rates Grus reads (what a header claims outside this range is refused).
    public static let sampleRates = 1000...384_000

    /// Frames, rate and channels from the header, without decoding.
    /// A WAV data chunk shorter than its header says: libsndfile reads what is there and notes
    /// "data : N (should be M)" in its log. A size of 0 or 0xFFFFFFFF means a writer that did not
    /// know the length (a stream), and is not a truncation.
    static func truncation(_ file: OpaquePointer) -> (promised: Int, held: Int)? {
        var log = [CChar](repeating: 0, count: 4096)
        _ = sf_command(file, Int32(SFC_GET_LOG_INFO), &log, Int32(log.count))
        let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("data") && line.contains("(should be ") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count >= 2, numbers[0] > numbers[1], ![0, 0xFFFF_FFFF, 0x7FFF_FFFF].contains(numbers[0]) else { continue }
            return (numbers[0], numbers[1])
        }
        return nil
    }

    public static func info(_ path: String) throws -> (frames: Int, sampleRate: Int, channels: Int) {
        var info = SF_INFO()
        try check(path)
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            throw AudioError.notAudio(path: path, reason: String(cString: sf_strerror(nil)))
        }
        sf_close(file)
        return (Int(info.frames), Int(info.samplerate), Int(info.channels))
    }

    /// Writes audio (the container follows the encoding: WAV, FLAC or OGG), through a temporary
    /// file renamed into place.
    public static func write(_ audio: Audio, to path: String, encoding: Encoding = .pcm16) throws {
        let format: Int32
        switch encoding {
        case .pcm16: format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16)
        case .pcm24: format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24)
        case .pcm32: format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_32)
        case .pcmU8: format = Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_U8)
        case .float32: format = Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT)
        case .flac16: format = Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        case .vorbis: format = Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        }
        var info = SF_INFO()
        info.samplerate = Int32(audio.sampleRate)
        info.channels = Int32(audio.channels)
        info.format = format
        let writer = try AtomicFile.Writer(URL(fileURLWithPath: path))
        guard let file = sf_open_fd(writer.fileDescriptor, Int32(SFM_WRITE), &info, 0) else {
            writer.abort()
            throw AudioError.unsupported(path: path, reason: "cannot write: \(String(cString: sf_strerror(nil)))")
        }
        // Clip rather than wrap when converting to integer PCM.
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let written = audio.samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress!, sf_count_t(audio.frames)) }
        sf_write_sync(file)
        sf_close(file)
        guard Int(written) == audio.frames else {
            writer.abort()
            throw AudioError.unsupported(path: path, reason: "wrote \(written) of \(audio.frames) frames (disk full?)")
        }
        try writer.commit()
    }
}
