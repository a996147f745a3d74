/// A feature setting that cannot work, named by its field in `FeatureOptions`.
public struct FeatureProblem: Equatable, Sendable, CustomStringConvertible {
    /// The option's path in FeatureOptions: "frame.nFFT", "mfcc.numCeps", ...
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }
}

/// Feature options that cannot work; every problem is listed.
public struct FeatureOptionsError: Error, Equatable, CustomStringConvertible {
    public var problems: [FeatureProblem]
    public var description: String { "invalid feature settings: " + problems.map(\.description).joined(separator: "; ") }
}

extension FeatureOptions {
    /// Largest sizes the front end accepts: beyond them memory or time explode before anything useful.
    public static let maxSampleRate = 384_000, maxFFT = 65_536, maxBins = 1024

    /// Every problem with these options, checked before any buffer is sized from them. An empty
    /// list means the extractor can be built and run safely on any input.
    public func problems() -> [FeatureProblem] {
        var out: [FeatureProblem] = []
        func fail(_ f: String, _ m: String) { out.append(FeatureProblem(field: f, message: m)) }
        let f = frame
        if !(1000...Self.maxSampleRate).contains(f.sampleRate) { fail("frame.sampleRate", "must be 1000 to \(Self.maxSampleRate) Hz, got \(f.sampleRate)") }
        if !(f.frameLengthMs.isFinite && f.frameLengthMs > 0 && f.frameLengthMs <= 1000) { fail("frame.frameLengthMs", "must be above 0 and at most 1000 ms, got \(f.frameLengthMs)") }
        if !(f.frameShiftMs.isFinite && f.frameShiftMs > 0 && f.frameShiftMs <= 1000) { fail("frame.frameShiftMs", "must be above 0 and at most 1000 ms, got \(f.frameShiftMs)") }
        if !out.isEmpty { return out }   // the sizes below are derived from these
        if f.windowLength < 2 { fail("frame.frameLengthMs", "gives a \(f.windowLength)-sample window at \(f.sampleRate) Hz; need at least 2") }
        if f.hopLength < 1 { fail("frame.frameShiftMs", "gives a hop of \(f.hopLength) samples at \(f.sampleRate) Hz; need at least 1") }
        if f.nFFT < 0 || f.nFFT > Self.maxFFT { fail("frame.nFFT", "must be 0 (next power of two) to \(Self.maxFFT), got \(f.nFFT)") }
        else if f.nFFT > 0 && f.nFFT < f.windowLength {
            fail("frame.nFFT", "\(f.nFFT) is smaller than the window (\(f.windowLength) samples = \(f.frameLengthMs) ms at \(f.sampleRate) Hz); use 0 or at least \(f.windowLength)")
        }
        if f.fftLength > Self.maxFFT { fail("frame.frameLengthMs", "needs an FFT of \(f.fftLength) points; at most \(Self.maxFFT)") }
        if !(f.preemphasis.isFinite && f.preemphasis >= 0 && f.preemphasis <= 1) { fail("frame.preemphasis", "must be 0 to 1, got \(f.preemphasis)") }
        if !(f.dither.isFinite && f.dither >= 0) { fail("frame.dither", "must be 0 or more, got \(f.dither)") }
        do {   // the mel bank is built for every kind
            if !(1...Self.maxBins).contains(mel.numBins) { fail("mel.numBins", "must be 1 to \(Self.maxBins), got \(mel.numBins)") }
            if !(mel.fMin.isFinite && mel.fMin >= 0) { fail("mel.fMin", "must be 0 or more, got \(mel.fMin)") }
            let nyquist = Double(f.sampleRate) / 2
            let top = mel.fMax > 0 ? mel.fMax : nyquist + mel.fMax
            if !(mel.fMax.isFinite) || top > nyquist || top <= mel.fMin {
                fail("mel.fMax", "the band \(mel.fMin)-\(top) Hz does not fit below Nyquist (\(nyquist) Hz)")
            }
        }
        if kind == .mfcc && !(1...max(1, mel.numBins)).contains(mfcc.numCeps) {
            fail("mfcc.numCeps", "must be 1 to the number of mel bins (\(mel.numBins)), got \(mfcc.numCeps)")
        } else if !(0...Self.maxBins).contains(mfcc.numCeps) {
            fail("mfcc.numCeps", "must be 0 to \(Self.maxBins), got \(mfcc.numCeps)")
        }
        if !mfcc.lifter.isFinite { fail("mfcc.lifter", "must be finite, got \(mfcc.lifter)") }
        if !(0...2).contains(deltaOrder) { fail("deltaOrder", "must be 0, 1 or 2, got \(deltaOrder)") }
        if !(1...10).contains(deltaWindow) { fail("deltaWindow", "must be 1 to 10, got \(deltaWindow)") }
        if !(log.floor.isFinite && log.floor > 0) { fail("log.floor", "must be above 0, got \(log.floor)") }
        return out
    }
}
