import XCTest
import GrusCore
@testable import GrusAudio

/// Features computed chunk by chunk equal the offline ones bit for bit (Kaldi framing), with
/// sliding CMVN too; options that cannot stream are refused.
final class StreamingFeaturesTests: XCTestCase {
    func signal(_ n: Int) -> [Float] {
        var rng = RNG(seed: 8)
        return (0..<n).map { i in Float(0.3 * sin(Double(i) * 0.07) + 0.2 * sin(Double(i) * 0.013)) + 0.02 * rng.normal() }
    }

    func testChunkedFramesEqualOffline() throws {
        for cmvn in [CMVNMode.none, .sliding] {
            var o = FeatureOptions.kaldi
            o.frame.sampleRate = 8000
            o.frame.nFFT = 256
            o.mel.numBins = 23
            o.cmvn = cmvn
            o.cmvnWindow = 40
            let x = signal(8000 * 3 + 123)
            let extractor = try FeatureExtractor(o)
            let offline = extractor.compute(x)
            for chunk in [1, 77, 160, 4001] {
                let stream = try StreamingFeatures(extractor)
                var got: [Float] = []
                var i = 0
                while i < x.count { got += stream.push(Array(x[i..<min(i + chunk, x.count)])).data; i += chunk }
                XCTAssertEqual(stream.frames, offline.shape[0], "\(cmvn) chunk \(chunk)")
                XCTAssertEqual(got, offline.data, "\(cmvn) chunk \(chunk)")
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
        for change in [{ (o: inout FeatureOptions) in o.cmvn = .utterance }, { $0.deltaOrder = 1 }, { $0.frame.snipEdges = false }] {
            var o = FeatureOptions.kaldi
            change(&o)
            XCTAssertThrowsError(try StreamingFeatures(try FeatureExtractor(o)))
        }
    }
}
