import XCTest
import Foundation
import GrusCore
@testable import GrusAudio

/// Grus's presets against torchaudio.compliance.kaldi and librosa on audio the project makes
/// (Fixtures/make_audio_fixtures.py).
final class FeatureParityTests: XCTestCase {
    static let names = ["speech_yes", "chirp", "noise"]

    func fixture() throws -> [String: [String: [[Double]]]] {
        let url = Bundle.module.url(forResource: "features", withExtension: "json", subdirectory: "Fixtures")!
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: [[Double]]]]
    }

    func audio(_ name: String) throws -> [Float] {
        let url = Bundle.module.url(forResource: name, withExtension: "wav", subdirectory: "Fixtures")!
        let a = try AudioFile.read(url.path)
        XCTAssertEqual(a.sampleRate, 16000)
        return a.samples
    }

    /// Largest |a − b| and largest |a − b| / |b| over all elements, after checking shapes.
    func compare(_ got: Tensor, _ want: [[Double]], _ what: String) -> (abs: Double, rel: Double) {
        XCTAssertEqual(got.shape, [want.count, want.first?.count ?? 0], "\(what) shape")
        guard got.shape == [want.count, want.first?.count ?? 0] else { return (.infinity, .infinity) }
        var a = 0.0, r = 0.0
        let d = got.shape[1]
        for (i, row) in want.enumerated() {
            for (j, w) in row.enumerated() {
                let e = abs(Double(got.data[i * d + j]) - w)
                a = max(a, e)
                r = max(r, e / max(abs(w), 1e-30))
            }
        }
        return (a, r)
    }

    func testKaldiFbankAndMFCC() throws {
        let f = try fixture()
        for name in Self.names {
            let x = try audio(name)
            var o = FeatureOptions.kaldi
            o.kind = .fbank
            let fb = compare(try FeatureExtractor(o).compute(x), f[name]!["kaldi_fbank"]!, "\(name) fbank")
            XCTAssertLessThanOrEqual(fb.abs, 1e-3, "\(name) kaldi fbank: max abs error \(fb.abs)")
            o.kind = .mfcc
            let mf = compare(try FeatureExtractor(o).compute(x), f[name]!["kaldi_mfcc"]!, "\(name) mfcc")
            XCTAssertLessThanOrEqual(mf.abs, 1e-3, "\(name) kaldi mfcc: max abs error \(mf.abs)")
            print("\(name): kaldi fbank max abs \(fb.abs), mfcc max abs \(mf.abs)")
        }
    }

    func testLibrosaMelAndMFCC() throws {
        let f = try fixture()
        for name in Self.names {
            let x = try audio(name)
            var o = FeatureOptions.librosa
            o.kind = .fbank
            o.log.kind = .none
            let mel = compare(try FeatureExtractor(o).compute(x), f[name]!["librosa_mel"]!, "\(name) mel")
            XCTAssertLessThanOrEqual(mel.rel, 1e-4, "\(name) librosa melspectrogram: max relative error \(mel.rel)")
            o = FeatureOptions.librosa
            o.kind = .mfcc
            let mf = compare(try FeatureExtractor(o).compute(x), f[name]!["librosa_mfcc"]!, "\(name) mfcc")
            print("\(name): librosa mel max rel \(mel.rel), mfcc max abs \(mf.abs)")
            XCTAssertLessThanOrEqual(mf.abs, 2e-3, "\(name) librosa mfcc: max abs error \(mf.abs)")
        }
    }
}

extension FeatureParityTests {
    func testDeltasMatchTorchaudio() throws {
        let f = try fixture()
        for name in Self.names {
            var o = FeatureOptions.kaldi
            o.deltaOrder = 2
            XCTAssertEqual(o.dimension, 120)
            let got = try FeatureExtractor(o).compute(try audio(name))
            let e = compare(got, f[name]!["kaldi_fbank_deltas"]!, "\(name) deltas")
            XCTAssertLessThanOrEqual(e.abs, 1e-3, "\(name) deltas: max abs error \(e.abs)")
        }
    }
}
