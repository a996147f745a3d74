import XCTest
import Foundation
import GrusCore
@testable import GrusAudio

final class AudioFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("grus-audio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func tone(_ hz: Double, rate: Int, seconds: Double, amplitude: Float = 0.5) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { amplitude * Float(sin(2 * Double.pi * hz * Double($0) / Double(rate))) }
    }

    func testEveryEncodingRoundTrips() throws {
        let x = tone(440, rate: 16000, seconds: 0.25)
        let cases: [(AudioFile.Encoding, String, Float)] = [
            (.pcm16, "a.wav", 1.0 / 32768), (.pcm24, "b.wav", 1.0 / 8_388_608), (.pcm32, "c.wav", 1e-7),
            (.pcmU8, "d.wav", 1.0 / 128), (.float32, "e.wav", 0), (.flac16, "f.flac", 1.0 / 32768),
        ]
        for (enc, name, tol) in cases {
            try AudioFile.write(Audio(samples: x, sampleRate: 16000), to: path(name), encoding: enc)
            let back = try AudioFile.read(path(name))
            XCTAssertEqual(back.sampleRate, 16000, name)
            XCTAssertEqual(back.frames, x.count, name)
            let err = zip(back.samples, x).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(err, tol * 1.01 + 1e-9, "\(name): max error \(err)")
        }
        // Vorbis is lossy: check the tone survives (correlation), not the samples.
        try AudioFile.write(Audio(samples: x, sampleRate: 16000), to: path("g.ogg"), encoding: .vorbis)
        let v = try AudioFile.read(path("g.ogg"))
        XCTAssertEqual(v.sampleRate, 16000)
        let n = min(v.frames, x.count)
        let dot = (0..<n).reduce(Float(0)) { $0 + v.samples[$1] * x[$1] }
        let norm = (x.reduce(Float(0)) { $0 + $1 * $1 } * v.samples.prefix(n).reduce(Float(0)) { $0 + $1 * $1 }).squareRoot()
        XCTAssertGreaterThan(dot / norm, 0.95)
    }

    func testChannelsMixDownOrSelect() throws {
        // 6 channels: channel c holds the constant 0.1·c.
        let frames = 100
        var s = [Float](repeating: 0, count: frames * 6)
        for f in 0..<frames { for c in 0..<6 { s[f * 6 + c] = 0.1 * Float(c) } }
        try AudioFile.write(Audio(samples: s, sampleRate: 8000, channels: 6), to: path("six.wav"), encoding: .float32)
        let mixed = try AudioFile.read(path("six.wav"))
        XCTAssertEqual(mixed.channels, 1)
        XCTAssertEqual(mixed.samples[50], 0.25, accuracy: 1e-6)
        let third = try AudioFile.read(path("six.wav"), channels: .select(3))
        XCTAssertEqual(third.samples[10], 0.3, accuracy: 1e-6)
        XCTAssertEqual(try AudioFile.read(path("six.wav"), channels: .keepAll).channels, 6)
        XCTAssertThrowsError(try AudioFile.read(path("six.wav"), channels: .select(6))) { e in
            XCTAssertTrue("\(e)".contains("six.wav") && "\(e)".contains("channel 6"), "\(e)")
        }
    }

    func assertAudioError(_ p: String, _ expected: (AudioError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try AudioFile.read(p), file: file, line: line) { e in
            guard let ae = e as? AudioError else { return XCTFail("not an AudioError: \(e)", file: file, line: line) }
            XCTAssertTrue(expected(ae), "unexpected error: \(ae)", file: file, line: line)
            XCTAssertTrue(ae.description.hasPrefix(p), "message must start with the path: \(ae)", file: file, line: line)
        }
    }

    func testBadFilesGiveTypedErrorsNamingTheFile() throws {
        assertAudioError(path("missing.wav")) { if case .missing = $0 { return true }; return false }
        try FileManager.default.createDirectory(atPath: path("folder.wav"), withIntermediateDirectories: true)
        assertAudioError(path("folder.wav")) { if case .notAFile = $0 { return true }; return false }
        FileManager.default.createFile(atPath: path("empty.wav"), contents: Data())
        assertAudioError(path("empty.wav")) { if case .empty = $0 { return true }; return false }
        var rng = RNG(seed: 1)
        FileManager.default.createFile(atPath: path("noise.wav"), contents: Data((0..<4000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
        assertAudioError(path("noise.wav")) { if case .notAudio = $0 { return true }; return false }
        // A valid file cut inside its header, and one cut inside its data.
        try AudioFile.write(Audio(samples: tone(300, rate: 16000, seconds: 0.5), sampleRate: 16000), to: path("good.wav"))
        let good = try Data(contentsOf: URL(fileURLWithPath: path("good.wav")))
        FileManager.default.createFile(atPath: path("header.wav"), contents: good.prefix(20))
        assertAudioError(path("header.wav")) { if case .notAudio = $0 { return true }; return false }
        // A data chunk cut short is named, not read in part as if it were the recording.
        FileManager.default.createFile(atPath: path("cut.wav"), contents: good.prefix(good.count / 3))
        XCTAssertThrowsError(try AudioFile.read(path("cut.wav"))) {
            XCTAssertTrue("\($0)".contains("cut.wav: not a readable audio file (truncated: its header promises 16000 bytes of audio, the file holds"), "\($0)")
        }
        // A streamed WAV whose writer did not know the length (sizes 0xFFFFFFFF) is whole.
        var streamed = good
        streamed.replaceSubrange(4..<8, with: [0xff, 0xff, 0xff, 0xff])
        streamed.replaceSubrange(40..<44, with: [0xff, 0xff, 0xff, 0xff])
        FileManager.default.createFile(atPath: path("streamed.wav"), contents: streamed)
        XCTAssertEqual(try AudioFile.read(path("streamed.wav")).frames, 8000)
        // NaN audio.
        try AudioFile.write(Audio(samples: [0.1, .nan, 0.2], sampleRate: 16000), to: path("nan.wav"), encoding: .float32)
        assertAudioError(path("nan.wav")) { if case .invalidSamples = $0 { return true }; return false }
        // A dangling symbolic link.
        try FileManager.default.createSymbolicLink(atPath: path("link.wav"), withDestinationPath: path("nowhere.wav"))
        XCTAssertThrowsError(try AudioFile.read(path("link.wav"))) { XCTAssertTrue("\($0)".contains("symbolic link"), "\($0)") }
    }

    func testWriteIsAtomicAndLeavesNoTemporaryFiles() throws {
        try AudioFile.write(Audio(samples: [0, 0.5, -0.5], sampleRate: 8000), to: path("x.wav"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["x.wav"])
    }
}

/// The resampler against its specification, with tones and a sweep.
final class ResamplerTests: XCTestCase {
    /// Amplitude of frequency `hz` in `x` (rate `rate`) by correlation with sin and cos, over the
    /// middle of the signal (away from edge effects), with a Hann taper.
    func amplitude(_ x: [Float], rate: Int, hz: Double) -> Double {
        let a = x.count / 4, b = 3 * x.count / 4
        var s = 0.0, c = 0.0, wsum = 0.0
        for i in a..<b {
            let w = 0.5 - 0.5 * cos(2 * Double.pi * Double(i - a) / Double(b - a))
            let ph = 2 * Double.pi * hz * Double(i) / Double(rate)
            s += w * Double(x[i]) * sin(ph)
            c += w * Double(x[i]) * cos(ph)
            wsum += w
        }
        return 2 * (s * s + c * c).squareRoot() / wsum
    }

    func tone(_ hz: Double, rate: Int, seconds: Double = 1) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { Float(sin(2 * Double.pi * hz * Double($0) / Double(rate))) }
    }

    func db(_ a: Double) -> Double { 20 * log10(max(a, 1e-12)) }

    func testPassbandIsFlatWithinATenthOfADecibel() {
        for (from, to) in [(22050, 16000), (8000, 16000), (44100, 16000), (16000, 8000), (48000, 16000)] {
            let r = Resampler(from: from, to: to)
            let nyq = Double(min(from, to)) / 2
            for frac in [0.05, 0.25, 0.5, 0.75, 0.9] {
                let hz = frac * nyq
                let y = r.process(tone(hz, rate: from))
                XCTAssertEqual(y.count, r.outputCount(for: from))
                let gain = db(amplitude(y, rate: to, hz: hz))
                XCTAssertLessThan(abs(gain), 0.1, "\(from)->\(to) at \(Int(hz)) Hz: \(gain) dB")
            }
        }
    }

    func testAliasingIsBelowMinusSixtyDecibels() {
        // Downsampling: tones above the target's Nyquist must not fold back.
        for (from, to) in [(22050, 16000), (44100, 16000), (16000, 8000), (48000, 16000)] {
            let r = Resampler(from: from, to: to)
            let nyqOut = Double(to) / 2
            for frac in [1.05, 1.2, 1.5] where frac * nyqOut < Double(from) / 2 {
                let hz = frac * nyqOut
                let y = r.process(tone(hz, rate: from))
                let alias = Double(to) - hz            // where it would fold to
                let level = db(amplitude(y, rate: to, hz: alias))
                XCTAssertLessThan(level, -60, "\(from)->\(to): \(Int(hz)) Hz leaks \(level) dB at \(Int(alias)) Hz")
            }
        }
    }

    func testImagingIsBelowMinusSixtyDecibels() {
        // Upsampling 8 kHz → 16 kHz: a 3 kHz tone must not leave an image at 8000 − 3000 = 5 kHz.
        let r = Resampler(from: 8000, to: 16000)
        for hz in [1000.0, 3000.0, 3600.0] {
            let y = r.process(tone(hz, rate: 8000))
            let level = db(amplitude(y, rate: 16000, hz: 8000 - hz))
            XCTAssertLessThan(level, -60, "image of \(hz) Hz: \(level) dB")
        }
    }

    func testSweepKeepsItsEnergyInTheBand() {
        // A linear sweep 50 Hz → 7 kHz at 22.05 kHz, resampled to 16 kHz: the energy is kept.
        let from = 22050, n = from * 2
        let sweep = (0..<n).map { i -> Float in
            let t = Double(i) / Double(from)
            return Float(sin(2 * Double.pi * (50 * t + (7000 - 50) / 4 * t * t)))
        }
        let y = Resampler(from: from, to: 16000).process(sweep)
        func rms(_ v: ArraySlice<Float>) -> Double { (v.reduce(0.0) { $0 + Double($1 * $1) } / Double(v.count)).squareRoot() }
        let ratio = rms(y[(y.count / 10)..<(9 * y.count / 10)]) / rms(sweep[(n / 10)..<(9 * n / 10)])
        XCTAssertLessThan(abs(db(ratio)), 0.1)
    }

    func testSameRateIsIdentity() {
        let x: [Float] = [1, 2, 3]
        XCTAssertEqual(Resampler(from: 16000, to: 16000).process(x), x)
    }
}

final class PostProcessingTests: XCTestCase {
    func testUtteranceCMVNGivesZeroMeanUnitVariance() {
        var rng = RNG(seed: 2)
        let x = Tensor(shape: [50, 3], data: (0..<150).map { _ in 3 + 2 * rng.normal() })
        let y = CMVN.utterance(x)
        for j in 0..<3 {
            let col = (0..<50).map { y[$0, j] }
            let mean = col.reduce(0, +) / 50
            let variance = col.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 50
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-4)
        }
    }

    func testGlobalStatsMergeEqualsOnePass() throws {
        var rng = RNG(seed: 3)
        let a = Tensor(shape: [10, 2], data: (0..<20).map { _ in rng.normal() })
        let b = Tensor(shape: [7, 2], data: (0..<14).map { _ in rng.normal() })
        var s1 = CMVNStats(dimension: 2), s2 = CMVNStats(dimension: 2), both = CMVNStats(dimension: 2)
        s1.add(a); s2.add(b); both.add(a); both.add(b)
        s1.merge(s2)
        XCTAssertEqual(s1.count, both.count)
        for j in 0..<2 { XCTAssertEqual(s1.mean[j], both.mean[j], accuracy: 1e-6) }
        let back = try JSONDecoder().decode(CMVNStats.self, from: JSONEncoder().encode(s1))
        XCTAssertEqual(back, s1)
    }
}

extension AudioFileTests {
    /// A long file read with a limit decodes only its start.
    func testMaxSecondsReadsOnlyTheStart() throws {
        let long = Audio(samples: [Float](repeating: 0.1, count: 8000 * 30), sampleRate: 8000)
        try AudioFile.write(long, to: path("long.wav"))
        let head = try AudioFile.read(path("long.wav"), maxSeconds: 1.5)
        XCTAssertEqual(head.frames, 12000)
        XCTAssertEqual(try AudioFile.read(path("long.wav")).frames, 240_000)
    }
}
