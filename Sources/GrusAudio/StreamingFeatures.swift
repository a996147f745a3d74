import Foundation
import GrusCore

/// Features computed as audio arrives, chunk by chunk, identical to `FeatureExtractor.compute` on
/// the whole signal. Kaldi framing (snip edges) makes that possible: frame m reads samples
/// m·hop ..< m·hop + window and nothing else, so a frame is computed as soon as its last sample
/// has arrived, by the same code as offline. Deltas read `lookahead` frames ahead (order ×
/// window), so a frame with deltas is given out that many frames later, and `finish()` gives out
/// the last ones with the offline edge rule. Options that look at the whole utterance
/// (utterance or speaker CMVN, the decibel top-dB clamp, centred framing) are refused.
public final class StreamingFeatures {
    public let extractor: FeatureExtractor
    /// Frames a frame waits for before it is given out: deltas' reach.
    public let lookahead: Int
    /// Samples not yet consumed by a whole frame (the start of the next frame onward).
    private var buffer: [Float] = []
    private var rng = RNG(seed: 0)
    /// Sliding CMVN's running state, when the options ask for it.
    private var sliding: SlidingCMVN?
    /// Deltas: static frames [kept, staticDim] from frame `keptFrom` on, enough history for the
    /// next frame's regression.
    private var kept: [Float] = []
    private var keptFrom = 0
    private var staticFrames = 0
    /// Frames given out so far.
    public private(set) var frames = 0

    public init(_ extractor: FeatureExtractor) throws {
        let o = extractor.options
        var problems: [FeatureProblem] = []
        func fail(_ f: String, _ m: String) { problems.append(FeatureProblem(field: f, message: m)) }
        if !o.frame.snipEdges { fail("frame.snipEdges", "streaming needs Kaldi framing (each frame reads only its own samples)") }
        if o.cmvn == .utterance { fail("cmvn", "utterance CMVN needs the whole utterance; train with global or sliding CMVN to stream") }
        if o.cmvn == .speaker { fail("cmvn", "speaker CMVN needs all of a speaker's audio first; train with global or sliding CMVN to stream") }
        if o.log.kind == .decibel && o.log.topDb != nil { fail("log.topDb", "the clamp is relative to the whole utterance's peak") }
        guard problems.isEmpty else { throw FeatureOptionsError(problems: problems) }
        self.extractor = extractor
        lookahead = o.deltaOrder * o.deltaWindow
        if o.cmvn == .sliding { sliding = SlidingCMVN(window: o.cmvnWindow ?? 300, dimension: o.dimension, normalizeVariance: o.normalizeVariance) }
    }

    /// The frames completed by these samples: [new frames, dimension] (possibly none), with
    /// sliding CMVN applied when the options ask for it (global CMVN is the caller's).
    public func push(_ samples: [Float]) -> Tensor {
        buffer += samples
        let n = extractor.frameCount(samples: buffer.count)
        guard n > 0 else { return Tensor(zeros: [0, extractor.options.dimension]) }
        // statics [n, staticDim]: the buffer starts at the next frame's first sample
        let statics = extractor.computeFrames(buffer, rng: &rng)
        buffer.removeFirst(n * extractor.options.frame.hopLength)
        guard lookahead > 0 else { return give(statics) }
        kept += statics.data
        staticFrames += n
        return giveDeltas(upTo: staticFrames - lookahead)
    }

    /// Ends the stream: the frames still waiting for their look-ahead, the last frame repeated
    /// past the end as offline.
    public func finish() -> Tensor {
        lookahead > 0 ? giveDeltas(upTo: staticFrames) : Tensor(zeros: [0, extractor.options.dimension])
    }

    /// Frames `frames ..< end` with deltas, from the kept static frames.
    private func giveDeltas(upTo end: Int) -> Tensor {
        let o = extractor.options
        guard end > frames else { return Tensor(zeros: [0, o.dimension]) }
        let staticDim = o.dimension / (o.deltaOrder + 1)
        // Frame t's deltas read statics t − lookahead ... t + lookahead (clamped at the stream's
        // ends only): the kept frames from max(0, frames − lookahead) reach far enough back, and
        // each element is the same sum as offline, so the bits agree.
        let history = Tensor(shape: [staticFrames - keptFrom, staticDim], data: kept)
        let withDeltas = appendDeltas(history, order: o.deltaOrder, window: o.deltaWindow)   // [kept, dimension]
        let rows = (frames - keptFrom)..<(end - keptFrom)
        let out = Tensor(shape: [rows.count, o.dimension], data: Array(withDeltas.data[(rows.lowerBound * o.dimension)..<(rows.upperBound * o.dimension)]))
        let from = max(0, end - lookahead)
        kept.removeFirst((from - keptFrom) * staticDim)
        keptFrom = from
        return give(out)
    }

    private func give(_ x: Tensor) -> Tensor {
        frames += x.shape[0]
        guard sliding != nil else { return x }
        return sliding!.apply(x)
    }
}
