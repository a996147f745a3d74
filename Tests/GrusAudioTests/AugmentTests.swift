import XCTest
import GrusCore
@testable import GrusAudio

final class AugmentTests: XCTestCase {
    func tone(_ n: Int) -> [Float] { (0..<n).map { Float(sin(Double($0) * 0.05)) * 0.3 } }

    func power(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) * Double($1) } }

    func testMixHitsTheRequestedSNR() {
        var rng = RNG(seed: 1)
        let x = tone(16000)
        for snr in [0.0, 5, 17.5] {
            let noise = Augmenter.whiteNoise(count: x.count, rng: &rng)
            let y = Augmenter.mix(x, noise, snrDb: snr)
            let added = zip(y, x).map { $0 - $1 }
            XCTAssertEqual(10 * log10(power(x) / power(added)), snr, accuracy: 1e-3)
        }
        XCTAssertEqual(Augmenter.mix([0, 0], [1, 1], snrDb: 10), [0, 0], "silence stays silent")
    }

    func testPinkNoiseFallsThreeDecibelsPerOctave() {
        var rng = RNG(seed: 2)
        let n = 1 << 16
        let x = Augmenter.pinkNoise(count: n, rng: &rng)
        // Power in two octave bands by DFT over a few frequencies per band.
        func bandPower(_ lo: Double, _ hi: Double) -> Double {
            var total = 0.0
            var f = lo
            while f < hi {
                var s = 0.0, c = 0.0
                for i in stride(from: 0, to: n, by: 1) {
                    let ph = 2 * Double.pi * f * Double(i) / 16000
                    s += Double(x[i]) * sin(ph); c += Double(x[i]) * cos(ph)
                }
                total += s * s + c * c
                f += (hi - lo) / 8
            }
            return total / 8
        }
        // Per-frequency power at 250-500 Hz vs 2000-4000 Hz: 3 octaves apart, about 9 dB.
        let drop = 10 * log10(bandPower(250, 500) / bandPower(2000, 4000))
        XCTAssertEqual(drop, 9, accuracy: 3)
    }

    func testSpeedChangesDurationAndShiftKeepsLength() {
        let x = tone(16000)
        XCTAssertEqual(Augmenter.changeSpeed(x, by: 1.1, rate: 16000).count, 14546, "16000 / 1.1, rounded up")
        XCTAssertEqual(Augmenter.changeSpeed(x, by: 0.9, rate: 16000).count, 17778)
        let s = Augmenter.shift([1, 2, 3, 4], by: 1)
        XCTAssertEqual(s, [0, 1, 2, 3])
        XCTAssertEqual(Augmenter.shift([1, 2, 3, 4], by: -2), [3, 4, 0, 0])
    }

    func testSpecAugmentMasksAreSeededAndInBounds() {
        var o = AugmentOptions()
        o.specAugment = AugmentOptions.SpecAugment()
        let aug = Augmenter(o, sampleRate: 16000)
        let x = Tensor(repeating: 1, shape: [50, 40])
        var r1 = RNG(seed: 5), r2 = RNG(seed: 5)
        let a = aug.features(x, training: true, rng: &r1)
        XCTAssertEqual(a, aug.features(x, training: true, rng: &r2))
        let zeros = a.data.filter { $0 == 0 }.count
        XCTAssertGreaterThan(zeros, 0)
        XCTAssertLessThanOrEqual(zeros, 2 * 20 * 40 + 2 * 8 * 50)
        var r3 = RNG(seed: 5)
        XCTAssertEqual(aug.features(x, training: false, rng: &r3), x, "no augmentation at evaluation")
    }

    func testWaveformPipelineIsReproducibleAndOffAtEvaluation() {
        var o = AugmentOptions()
        o.speeds = [0.9, 1.0, 1.1]
        o.maxShiftMs = 100
        o.noise = AugmentOptions.Noise()
        o.noise!.probability = 1
        o.noise!.source = .clips
        var rng = RNG(seed: 3)
        let clip = Augmenter.pinkNoise(count: 5000, rng: &rng)
        let aug = Augmenter(o, sampleRate: 16000, noiseClips: [clip])
        let x = tone(16000)
        var r1 = RNG(seed: 9), r2 = RNG(seed: 9)
        let a = aug.waveform(x, training: true, rng: &r1)
        XCTAssertEqual(a, aug.waveform(x, training: true, rng: &r2))
        XCTAssertNotEqual(a, x)
        var r3 = RNG(seed: 9)
        XCTAssertEqual(aug.waveform(x, training: false, rng: &r3), x)
    }
}

extension AugmentTests {
    func testNoiseFolderLoadsResamplesAndReportsBadFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("grus-noise-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RNG(seed: 4)
        try AudioFile.write(Audio(samples: Augmenter.whiteNoise(count: 8000, rng: &rng).map { $0 * 0.1 }, sampleRate: 8000),
                            to: dir.appendingPathComponent("a.wav").path)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("b.wav").path, contents: Data([1, 2, 3]))
        FileManager.default.createFile(atPath: dir.appendingPathComponent("README.md").path, contents: Data("x".utf8))
        let (clips, skipped) = try Augmenter.loadNoiseFolder(dir.path, sampleRate: 16000)
        XCTAssertEqual(clips.count, 1)
        XCTAssertEqual(clips[0].count, 16000)
        XCTAssertEqual(skipped.count, 1)
        XCTAssertTrue(skipped[0].description.contains("b.wav"))
    }
}

final class FramingTests: XCTestCase {
    func testWindowsMatchTheirDefinitions() {
        let n = 400
        let hann = FeatureExtractor.makeWindow(.hann, length: n, periodic: false)
        XCTAssertEqual(hann[0], 0, accuracy: 1e-12)
        XCTAssertEqual(hann[n - 1], 0, accuracy: 1e-12)
        let povey = FeatureExtractor.makeWindow(.povey, length: n, periodic: false)
        for i in [1, 57, 200] { XCTAssertEqual(povey[i], pow(hann[i], 0.85), accuracy: 1e-12) }
        let periodic = FeatureExtractor.makeWindow(.hann, length: 4, periodic: true)
        for (got, want) in zip(periodic, [0, 0.5, 1, 0.5]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        let hamming = FeatureExtractor.makeWindow(.hamming, length: n, periodic: false)
        XCTAssertEqual(hamming[0], 0.08, accuracy: 1e-12)
    }

    func testFrameCountsFollowEachLayout() throws {
        var o = FeatureOptions.kaldi
        XCTAssertEqual(try FeatureExtractor(o).frameCount(samples: 16000), 98)   // snip_edges
        XCTAssertEqual(try FeatureExtractor(o).frameCount(samples: 399), 0)
        o.frame.snipEdges = false
        o.frame.center = false
        XCTAssertEqual(try FeatureExtractor(o).frameCount(samples: 16000), 100)  // Kaldi snip_edges=false
        XCTAssertEqual(try FeatureExtractor(FeatureOptions.librosa).frameCount(samples: 16000), 101)   // centred
    }

    func testDitherIsSeededAndMagnitudeIsRootOfPower() throws {
        var o = FeatureOptions.kaldi
        o.frame.dither = 1
        let x = (0..<4000).map { Float(sin(Double($0) * 0.1)) * 0.01 }
        let e = try FeatureExtractor(o)
        var a = RNG(seed: 1), b = RNG(seed: 1), c = RNG(seed: 2)
        let fa = e.compute(x, rng: &a)
        XCTAssertEqual(fa, e.compute(x, rng: &b))
        XCTAssertNotEqual(fa, e.compute(x, rng: &c))

        var s = FeatureOptions.kaldi
        s.kind = .spectrogram
        s.log.kind = .none
        let power = try FeatureExtractor(s).compute(x)
        s.usePower = false
        let magnitude = try FeatureExtractor(s).compute(x)
        XCTAssertEqual(power.shape, [23, 257])
        for i in stride(from: 0, to: power.count, by: 97) {
            XCTAssertEqual(magnitude.data[i] * magnitude.data[i], power.data[i], accuracy: 1e-4 * max(1, power.data[i]))
        }
    }

    func testMelFilterbanksHaveTheirShapes() {
        // Kaldi: triangles peak at 1 and leave out the Nyquist bin.
        let k = MelFilterbank(MelOptions(), sampleRate: 16000, fftLength: 512).dense(bins: 257)
        XCTAssertEqual(k.count, 40)
        for row in k { XCTAssertLessThanOrEqual(row.max()!, 1 + 1e-12); XCTAssertEqual(row[256], 0) }
        // Slaney-normalised filters integrate (in Hz) to about 1.
        var o = MelOptions()
        o.scale = .slaney; o.triangles = .hertz; o.slaneyNorm = true; o.fMin = 0; o.includeNyquist = true
        let s = MelFilterbank(o, sampleRate: 16000, fftLength: 4096).dense(bins: 2049)
        let binHz = 16000.0 / 4096
        for b in [5, 20, 35] { XCTAssertEqual(s[b].reduce(0, +) * binHz, 1, accuracy: 0.05) }
    }

    /// Mirroring past the edges, folded in one step, against bouncing until inside.
    func testMirrorFoldsAsBouncingDoes() {
        for n in 2...9 {
            for s in -60...60 {
                for kaldi in [true, false] {
                    var b = s
                    while b < 0 || b >= n { b = kaldi ? (b < 0 ? -b - 1 : 2 * n - 1 - b) : (b < 0 ? -b : 2 * (n - 1) - b) }
                    XCTAssertEqual(FeatureExtractor.mirror(s, count: n, kaldi: kaldi), b, "n \(n), s \(s), kaldi \(kaldi)")
                }
            }
        }
    }

    /// VTLP on the feature axis: bin k takes the value at k / alpha, interpolated, clamped.
    func testWarpBins() {
        let x = Tensor(shape: [2, 5], data: [0, 1, 2, 3, 4, 10, 20, 30, 40, 50])
        XCTAssertEqual(Augmenter.warpBins(x, by: 1).data, x.data)
        XCTAssertEqual(Augmenter.warpBins(x, by: 2).data, [0, 0.5, 1, 1.5, 2, 10, 15, 20, 25, 30])
        XCTAssertEqual(Augmenter.warpBins(x, by: 0.5).data, [0, 2, 4, 4, 4, 10, 30, 50, 50, 50])
        var o = AugmentOptions()
        o.vtlp = 0.9...1.1
        let aug = Augmenter(o, sampleRate: 16000)
        var rng = RNG(seed: 1)
        let y = aug.features(x, training: true, rng: &rng)
        XCTAssertNotEqual(y.data, x.data, "a factor other than 1 was drawn")
        XCTAssertEqual(aug.features(x, training: false, rng: &rng).data, x.data, "evaluation never augments")
    }
}
