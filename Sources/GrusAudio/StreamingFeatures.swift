import Foundation
import GrusCore

/// Features computed as audio arrives, chunk by chunk, identical to `FeatureExtractor.compute` on
/// the whole signal. Kaldi framing (snip edges) makes that possible: frame m reads samples
/// m·hop ..< m·hop + window and nothing else, so a frame is computed as soon as its last sample
/// has arrived, by the same code as offline. Options that look at the whole utterance (deltas
/// read frames ahead, utterance CMVN, the decibel top-dB clamp, centred framing) are refused.
public final class StreamingFeatures {
    public let extractor: FeatureExtractor
    /// Samples not yet consumed by a whole frame (the start of the next frame onward).
    private var buffer: [Float] = []
    private var rng = RNG(seed: 0)
    /// Sliding CMVN's running state, when the options ask for it.
    private var sliding: SlidingCMVN?
    /// Frames given out so far.
    public private(set) var frames = 0

    public init(_ extractor: FeatureExtractor) throws {
        let o = extractor.options
        var problems: [FeatureProblem] = []
        func fail(_ f: String, _ m: String) { problems.append(FeatureProblem(field: f, message: m)) }
        if !o.frame.snipEdges { fail("frame.snipEdges", "streaming needs Kaldi framing (each frame reads only its own samples)") }
        if o.deltaOrder > 0 { fail("deltaOrder", "deltas read frames ahead of the current one; streaming needs none") }
        if o.cmvn == .utterance { fail("cmvn", "utterance CMVN needs the whole utterance; train with global or sliding CMVN to stream") }
        if o.cmvn == .speaker { fail("cmvn", "speaker CMVN needs all of a speaker's audio first; train with global or sliding CMVN to stream") }
        if o.log.kind == .decibel && o.log.topDb != nil { fail("log.topDb", "the clamp is relative to the whole utterance's peak") }
        guard problems.isEmpty else { throw FeatureOptionsError(problems: problems) }
        self.extractor = extractor
        if o.cmvn == .sliding { sliding = SlidingCMVN(window: o.cmvnWindow ?? 300, dimension: o.dimension, normalizeVariance: o.normalizeVariance) }
    }

    /// The frames completed by these samples: [new frames, dimension] (possibly none), with
    /// sliding CMVN applied when the options ask for it (global CMVN is the caller's).
    public func push(_ samples: [Float]) -> Tensor {
        buffer += samples
        let n = extractor.frameCount(samples: buffer.count)
        guard n > 0 else { return Tensor(zeros: [0, extractor.options.dimension]) }
        // frames [n, dim]: the buffer starts at the next frame's first sample
        var out = extractor.computeFrames(buffer, rng: &rng)
        if sliding != nil { out = sliding!.apply(out) }
        buffer.removeFirst(n * extractor.options.frame.hopLength)
        frames += n
        return out
    }
}
