// libFuzzer target: the feature extractor with arbitrary options (sizes, rates, windows, mel
// bands, deltas) on arbitrary samples. Options that cannot work must be refused by
// FeatureOptions.problems() before anything is allocated; options that pass must never write
// outside a buffer (AddressSanitizer watches) or take unbounded time.
import Foundation
import FuzzSupport
import GrusAudio
import GrusCore

/// Reads the fuzz input as a stream of option values, then samples.
struct Bytes {
    var data: UnsafeBufferPointer<UInt8>
    var at = 0
    mutating func byte() -> UInt8 { defer { at += 1 }; return at < data.count ? data[at] : 0 }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let v = Int(byte()) << 8 | Int(byte())
        return range.lowerBound + v % (range.count)
    }
    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(byte()) % xs.count] }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeatures(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var b = Bytes(data: UnsafeBufferPointer(start: data, count: size))
    var o = b.pick([FeatureOptions.kaldi, FeatureOptions.librosa])
    o.kind = b.pick([.fbank, .mfcc, .spectrogram])
    // Ranges wider than the valid ones, so that refusals are exercised too.
    o.frame.sampleRate = b.pick([0, 1, 999, 8000, 16000, 22050, 48000, b.int(0...400_000)])
    o.frame.frameLengthMs = b.pick([0, 0.01, 25, Double(b.int(0...1200)) / 3])
    o.frame.frameShiftMs = b.pick([0, 10, Double(b.int(0...1200)) / 7])
    o.frame.nFFT = b.pick([0, 3, 256, 512, b.int(0...70_000), -5])
    o.frame.window = b.pick(WindowType.allCases)
    o.frame.snipEdges = b.byte() & 1 == 0
    o.frame.center = b.byte() & 1 == 0
    o.mel.numBins = b.pick([0, 1, 40, b.int(0...1100)])
    o.mel.fMin = Double(b.int(0...30_000))
    o.mel.fMax = Double(b.int(0...30_000)) - 15_000
    o.mfcc.numCeps = b.int(0...100)
    o.deltaOrder = b.int(0...3)
    guard o.problems().isEmpty else {
        // Refused options must also be refused by the extractor itself.
        if (try? FeatureExtractor(o)) != nil { fatalError("FeatureExtractor accepted options problems() refuses") }
        return 0
    }
    guard let extractor = try? FeatureExtractor(o) else { fatalError("options without problems were refused") }
    var count = min(b.int(0...40_000), 40_000)
    // Valid but huge settings (a 65536-point FFT every 55 samples into 1024 mel bins) are slow,
    // not wrong: keep each run's work bounded so the fuzzer explores instead of waiting.
    let frames = max(1, count / max(1, o.frame.hopLength))
    if frames * o.frame.fftLength * max(1, o.mel.numBins / 8) > 50_000_000 { count = min(count, o.frame.fftLength * 2) }
    var samples = [Float](repeating: 0, count: count)
    for i in 0..<count { samples[i] = Float(Int8(bitPattern: b.byte())) / 128 }
    var rng = RNG(seed: 1)
    let f = extractor.compute(samples, rng: &rng)
    if f.shape.count != 2 || f.shape[1] != o.dimension { fatalError("features \(f.shape) for dimension \(o.dimension)") }
    return 0
}

@_cdecl("FuzzFeatures_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzFeatures)
}
