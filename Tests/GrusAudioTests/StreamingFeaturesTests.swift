import XCTest
import GrusCore
@testable import GrusAudio

/// Features computed chunk by chunk equal the offline ones bit for bit (Kaldi framing), with
/// sliding CMVN and deltas too; options that cannot stream are refused.
final class StreamingFeaturesTests: XCTestCase {
    func signal(_ n: Int) -> [Float] {
        var rng = RNG(seed: 8)
        return (0..<n).map { i in Float(0.3 * sin(Double(i) * 0.07) + 0.2 * sin(Double(i) * 0.013)) + 0.02 * rng.normal() }
    }

    func testChunkedFramesEqualOffline() throws {
        for (cmvn, deltas) in [(CMVNMode.none, 0), (.sliding, 0), (.none, 1), (.sliding, 2)] {
            var o = FeatureOptions.kaldi
            o.frame.sampleRate = 8000
            o.frame.nFFT = 256
            o.mel.numBins = 23
            o.cmvn = cmvn
            o.cmvnWindow = 40
            o.deltaOrder = deltas
            let extractor = try FeatureExtractor(o)
            // 300 frames; and 3 frames, fewer than the deltas' look-ahead
            for x in [signal(8000 * 3 + 123), signal(200 + 2 * 80)] {
                let offline = extractor.compute(x)
                for chunk in [1, 77, 160, 4001] {
                    let stream = try StreamingFeatures(extractor)
                    XCTAssertEqual(stream.lookahead, deltas * 2)
                    var got: [Float] = []
                    var i = 0
                    while i < x.count {
                        got += stream.push(Array(x[i..<min(i + chunk, x.count)])).data
                        i += chunk
                        // a frame is given out once its look-ahead has arrived, not later
                        XCTAssertEqual(stream.frames, max(0, extractor.frameCount(samples: min(i, x.count)) - stream.lookahead), "deltas \(deltas) chunk \(chunk) at \(i)")
                    }
                    got += stream.finish().data
                    XCTAssertEqual(stream.frames, offline.shape[0], "\(cmvn) deltas \(deltas) chunk \(chunk)")
                    XCTAssertEqual(got, offline.data, "\(cmvn) deltas \(deltas) chunk \(chunk)")
                }
            }
        }
    }

    /// Sliding CMVN against the definition: frame t normalised by the mean and (population)
    /// standard deviation of frames max(0, t − W + 1) ... t.
    func testSlidingCMVNMatchesDefinition() {
        var rng = RNG(seed: 1)
        let n = 50, d = 3, w = 7
        let x = Tensor(shape: [n, d], data: (0..<(n * d)).map { _ in 2 + rng.normal() })
        var s = SlidingCMVN(window: w, dimension: d, normalizeVariance: true)
        let y = s.apply(x)
        for t in 0..<n {
            let lo = max(0, t - w + 1)
            for j in 0..<d {
                let vals = (lo...t).map { Double(x.data[$0 * d + j]) }
                let mean = vals.reduce(0, +) / Double(vals.count)
                let sd = max(vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count), 1e-10).squareRoot()
                XCTAssertEqual(Double(y.data[t * d + j]), (Double(x.data[t * d + j]) - mean) / sd, accuracy: 1e-4, "t \(t) j \(j)")
            }
        }
    }

    func testRefusesWhatCannotStream() throws {
        for change in [{ (o: inout FeatureOptions) in o.cmvn = .utterance }, { $0.cmvn = .speaker }, { $0.frame.snipEdges = false }] {
            var o = FeatureOptions.kaldi
            change(&o)
            XCTAssertThrowsError(try StreamingFeatures(try FeatureExtractor(o)))
        }
    }
}
