import Foundation
import GrusAudio
import GrusCore
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// Features stream through the cache entry's features.bin: rows are read back exactly, and a
/// corpus eight times larger does not need eight times the memory.
final class StreamingTests: FolderTestCase {

    func testStoreReadsBackWhatWasWrittenWithCMVN() throws {
        var rng = RNG(seed: 9)
        let parts = [3, 1, 7].map { n in Tensor(shape: [n, 5], data: (0..<(n * 5)).map { _ in 3 + 2 * rng.normal() }) }
        var stats = CMVNStats(dimension: 5)
        parts.forEach { stats.add($0) }
        let url = dir.appendingPathComponent("f.bin")
        let writer = try FeatureStore.Writer(url, dimension: 5)
        for p in parts { try writer.append(p) }
        let raw = try FeatureStore(path: (try writer.commit(cmvn: nil)).path, dimension: 5, frames: [3, 1, 7], cmvn: nil)
        let normalised = try FeatureStore(path: url.path, dimension: 5, frames: [3, 1, 7], cmvn: stats)
        for (k, p) in parts.enumerated() {
            XCTAssertEqual(try raw.read(k).data, p.data)
            XCTAssertEqual(try normalised.read(k).data, stats.apply(p).data)
        }
        // An index that does not match the file is refused with the way out.
        XCTAssertThrowsError(try FeatureStore(path: url.path, dimension: 5, frames: [3, 1, 8], cmvn: nil)) {
            XCTAssertTrue("\($0)".contains("--from-stage features"), "\($0)")
        }
    }

    /// Runs `grus run` on FSDD-style corpora of `files` hard links to one 20 s clip with
    /// 240-dimensional features (1.9 MB each) and returns (features.bin bytes, peak MB from log.txt).
    func run(files: Int, grus: String) throws -> (bytes: Int, peakMB: Double) {
        let corpus = dir.appendingPathComponent("corpus-\(files)")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        let clip = dir.appendingPathComponent("clip.wav")
        if !FileManager.default.fileExists(atPath: clip.path) {
            var rng = RNG(seed: 4)
            let x = (0..<160_000).map { Float(0.3 * sin(Double($0) * 0.05 * (1 + Double($0) / 400_000))) + 0.02 * rng.normal() }
            try AudioFile.write(Audio(samples: x, sampleRate: 8000), to: clip.path)
        }
        for i in 0..<files {
            try FileManager.default.linkItem(at: clip, to: corpus.appendingPathComponent("\(["a", "b"][i % 2])_s_\(i < 4 ? i / 2 : 5 + i / 2).wav"))  // 4 test, the rest train
        }
        let recipe = dir.appendingPathComponent("r\(files).yaml")
        try """
        corpus: {format: fsdd, path: \(corpus.path), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 80, deltas: 2, cmvn: global}}
        model: {encoder: {hidden: 4, layers: 1, bidirectional: false}}
        training: {epochs: 1, batch_size: 8, log_every: 1000}
        evaluation: {splits: [test]}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("exp-\(files)")
        let cache = dir.appendingPathComponent("cache-\(files)")
        let (p, stderr) = try runProgram(grus, ["run", recipe.path, "--out", out.path], environment: [CacheDirectory.environment: cache.path])
        XCTAssertEqual(p.terminationStatus, 0, stderr)
        let entries = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("features").path).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".lock") }
        XCTAssertEqual(entries.count, 1)
        let bin = cache.appendingPathComponent("features/\(entries.first ?? "")/features.bin")
        let bytes = (try FileManager.default.attributesOfItem(atPath: bin.path)[.size] as? Int) ?? 0
        let log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        let peak = log.split(separator: "\n").compactMap { line -> Double? in
            guard let r = line.range(of: "peak memory ") else { return nil }
            return Double(line[r.upperBound...].prefix { $0.isNumber || $0 == "." })
        }.max() ?? 0
        return (bytes, peak)
    }

    func testMemoryDoesNotGrowWithTheCorpus() throws {
        guard let grus = grusExecutable() else { return }
        let small = try run(files: 16, grus: grus)
        let large = try run(files: 80, grus: grus)
        let frames = 1 + (160_000 - 200) / 80   // Kaldi framing: 25 ms window, 10 ms shift at 8 kHz
        XCTAssertEqual(small.bytes, 16 * frames * 240 * 4)
        XCTAssertEqual(large.bytes, 80 * frames * 240 * 4)
        XCTAssertGreaterThan(small.peakMB, 0)
        // Holding the features would add (large - small) bytes ≈ 117 MB; allow a quarter of that.
        let growth = large.peakMB - small.peakMB, held = Double(large.bytes - small.bytes) / 1_048_576
        XCTAssertLessThan(growth, held / 4, "peak memory \(small.peakMB) MB → \(large.peakMB) MB for \(held) MB more features")
    }
}
