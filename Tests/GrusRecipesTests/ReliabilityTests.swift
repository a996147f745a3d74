import Foundation
import GrusAudio
import GrusCore
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// Broken inputs through `grus run`'s stages, and hostile model folders through ModelBundle.load.
final class ReliabilityTests: FolderTestCase {

    func tone(_ hz: Double, rate: Int, frames: Int, channels: Int = 1) -> Audio {
        var s: [Float] = []
        for i in 0..<frames { for _ in 0..<channels { s.append(Float(0.4 * sin(2 * Double.pi * hz * Double(i) / Double(rate)))) } }
        return Audio(samples: s, sampleRate: rate, channels: channels)
    }

    /// An FSDD-named corpus of good tones plus one of each kind of broken file.
    func brokenCorpus() throws -> (folder: String, broken: [String]) {
        let c = dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        for (label, hz) in [("lo", 300.0), ("hi", 1500.0)] {
            for s in ["a", "b"] { for i in 0..<8 { try AudioFile.write(tone(hz * (1 + 0.02 * Double(i)), rate: 8000, frames: 4000), to: c.appendingPathComponent("\(label)_\(s)_\(i).wav").path) } }
        }
        // Unusual but valid: 96 kHz and 6 channels are resampled and mixed down.
        try AudioFile.write(tone(300, rate: 96000, frames: 48000), to: c.appendingPathComponent("lo_c_10.wav").path)
        try AudioFile.write(tone(1500, rate: 8000, frames: 4000, channels: 6), to: c.appendingPathComponent("hi_c_10.wav").path)
        var broken: [String] = []
        func bad(_ name: String, _ data: Data) { FileManager.default.createFile(atPath: c.appendingPathComponent(name).path, contents: data); broken.append(name) }
        bad("lo_c_11.wav", Data())                                   // 0 bytes
        let good = try Data(contentsOf: c.appendingPathComponent("lo_a_0.wav"))
        bad("lo_c_12.wav", good.prefix(30))                          // truncated header
        var rng = RNG(seed: 1)
        bad("lo_c_13.wav", Data((0..<3000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))   // random bytes
        try AudioFile.write(Audio(samples: [Float](repeating: .nan, count: 4000), sampleRate: 8000), to: c.appendingPathComponent("lo_c_14.wav").path, encoding: .float32)
        broken.append("lo_c_14.wav")                                 // all NaN
        try AudioFile.write(Audio(samples: [0.5], sampleRate: 8000), to: c.appendingPathComponent("hi_c_15.wav").path)
        broken.append("hi_c_15.wav")                                 // 1 sample
        try FileManager.default.createDirectory(at: c.appendingPathComponent("hi_c_16.wav"), withIntermediateDirectories: true)
        broken.append("hi_c_16.wav")                                 // a directory
        try FileManager.default.createSymbolicLink(atPath: c.appendingPathComponent("hi_c_17.wav").path, withDestinationPath: "/nowhere.wav")
        broken.append("hi_c_17.wav")                                 // dangling link
        return (c.path, broken)
    }

    func recipe(_ corpus: String, policy: String) -> String {
        let p = dir.appendingPathComponent("r-\(policy).yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: fsdd, path: \(corpus), on_bad_input: \(policy), dev_fraction: 0}
        frontend: {type: audio, audio: {bins: 20}}
        model: {encoder: {hidden: 8, layers: 1}}
        training: {epochs: 2, batch_size: 4, log_every: 1000}
        evaluation: {splits: [test]}
        """.utf8))
        return p
    }

    func testFailPolicyListsEveryBadFileBeforeTraining() throws {
        let (corpus, broken) = try brokenCorpus()
        let out = dir.appendingPathComponent("fail")
        XCTAssertThrowsError(try Experiment(try RecipeLoader.load(recipe(corpus, policy: "fail")), out: out.path).run()) { e in
            let msg = "\(e)"
            XCTAssertTrue(msg.contains("\(broken.count) bad input(s)"), msg)
            for name in broken { XCTAssertTrue(msg.contains(name), "\(name) missing from: \(msg)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("model").path), "nothing trained")
    }

    func testSkipPolicyTrainsAndListsTheSkippedFiles() throws {
        let (corpus, broken) = try brokenCorpus()
        let out = dir.appendingPathComponent("skip")
        let m = try Experiment(try RecipeLoader.load(recipe(corpus, policy: "skip")), out: out.path).run()!
        XCTAssertGreaterThan(m.n, 0)
        let lines = try String(contentsOf: out.appendingPathComponent("bad-inputs.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, broken.count)
        for name in broken { XCTAssertTrue(lines.contains { $0.contains(name) }, name) }
    }

    func testHostileModelFoldersGiveClearErrors() throws {
        // A real model to damage.
        let corpus = dir.appendingPathComponent("ok")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        try "__label__a x y\n__label__b z w\n__label__a x\n__label__b w\n".write(to: corpus.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        try "__label__a x\n__label__b z\n".write(to: corpus.appendingPathComponent("dev.txt"), atomically: true, encoding: .utf8)
        let p = dir.appendingPathComponent("t.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: fasttext, path: \(corpus.path), train: train.txt, dev: dev.txt}
        frontend: {type: text}
        model: {embedding_dim: 4, encoder: {hidden: 4, layers: 1}}
        training: {epochs: 1, batch_size: 2}
        evaluation: {splits: [dev]}
        """.utf8))
        let exp = dir.appendingPathComponent("exp")
        _ = try Experiment(try RecipeLoader.load(p), out: exp.path).run()
        let weights = exp.appendingPathComponent("model/model.safetensors")
        let json = exp.appendingPathComponent("model/model.json")
        let goodWeights = try Data(contentsOf: weights), goodJSON = try Data(contentsOf: json)
        func expectError(_ containing: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try ModelBundle<ClassifyTask>.load(ModelFolder.locate(exp.path)), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains(containing), "\(e)", file: file, line: line)
            }
            try? goodWeights.write(to: weights)
            try? goodJSON.write(to: json)
        }
        try goodWeights.prefix(goodWeights.count - 10).write(to: weights)
        expectError("model.safetensors")                                   // truncated data
        var oversized = goodWeights
        oversized.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0])
        try oversized.write(to: weights)
        expectError("header length")                                       // header claims more than the file
        try goodJSON.prefix(goodJSON.count / 2).write(to: json)
        expectError("model.json")                                          // truncated JSON
        var config = try JSONSerialization.jsonObject(with: goodJSON) as! [String: Any]
        var arch = config["architecture"] as! [String: Any]
        var enc = arch["encoder"] as! [String: Any]
        enc["hiddenSize"] = 5
        arch["encoder"] = enc
        config["architecture"] = arch
        try JSONSerialization.data(withJSONObject: config).write(to: json)
        expectError("expects")                                             // shapes disagree with model.json
        XCTAssertNoThrow(try ModelBundle<ClassifyTask>.load(ModelFolder.locate(exp.path)))
    }
}

extension ReliabilityTests {
    /// A 3-hour WAV (sparse on disk): with max_seconds only its start is decoded.
    func testThreeHourFileIsReadOnlyAsFarAsNeeded() throws {
        let path = dir.appendingPathComponent("long.wav").path
        let rate = 8000, frames = 3 * 3600 * rate
        var header = Data()
        func u32(_ v: Int) { var x = UInt32(v).littleEndian; withUnsafeBytes(of: &x) { header.append(contentsOf: $0) } }
        func u16(_ v: Int) { var x = UInt16(v).littleEndian; withUnsafeBytes(of: &x) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8)); u32(36 + frames * 2); header.append(contentsOf: Array("WAVEfmt ".utf8))
        u32(16); u16(1); u16(1); u32(rate); u32(rate * 2); u16(2); u16(16)
        header.append(contentsOf: Array("data".utf8)); u32(frames * 2)
        FileManager.default.createFile(atPath: path, contents: header)
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.truncate(atOffset: UInt64(header.count + frames * 2))   // silence, without writing it
        try h.close()
        XCTAssertEqual(try AudioFile.info(path).frames, frames)
        let t0 = Date()
        let head = try AudioFile.read(path, maxSeconds: 2)
        XCTAssertEqual(head.frames, 2 * rate)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1, "only the start is decoded")
        let later = try AudioFile.read(path, maxSeconds: 1, startSeconds: 3 * 3600 - 0.5)
        XCTAssertEqual(later.frames, rate / 2, "a stretch near the end, cut at the end")
    }

    /// long_audio: split turns a long recording into max_seconds examples.
    func testLongAudioSplitIntoExamples() throws {
        let c = dir.appendingPathComponent("split")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        try AudioFile.write(tone(300, rate: 8000, frames: 8000 * 10), to: c.appendingPathComponent("lo_a_5.wav").path)
        try AudioFile.write(tone(1500, rate: 8000, frames: 8000 * 9), to: c.appendingPathComponent("hi_a_5.wav").path)
        try AudioFile.write(tone(300, rate: 8000, frames: 8000), to: c.appendingPathComponent("lo_b_0.wav").path)
        try AudioFile.write(tone(1500, rate: 8000, frames: 8000), to: c.appendingPathComponent("hi_b_0.wav").path)
        let p = dir.appendingPathComponent("split.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: fsdd, path: \(c.path), dev_fraction: 0, max_seconds: 2, long_audio: split}
        frontend: {type: audio, audio: {bins: 20}}
        """.utf8))
        let examples = try stagesForTest(p, out: dir.appendingPathComponent("exp")).features()
        let train = examples.filter { $0.item.split == .train }
        XCTAssertEqual(train.count, 5 + 5, "10 s → 5 stretches; 9 s → 4 stretches and a half-length rest")
        XCTAssertEqual(Set(train.compactMap(\.item.segment)), [0, 1, 2, 3, 4])
        XCTAssertTrue(train.filter { $0.item.segment! < 4 }.allSatisfy { $0.length == 198 }, "2 s at 10 ms hops")
        XCTAssertEqual(examples.filter { $0.item.split == .test }.count, 2)
    }
}

extension ReliabilityTests {
    /// An unreadable file is reported by name. As root (CI), `grus features` runs as `nobody`
    /// through setpriv, because root reads any file.
    func testUnreadableFileIsReportedByName() throws {
        let path = dir.appendingPathComponent("secret.wav").path
        try AudioFile.write(tone(440, rate: 8000, frames: 800), to: path)
        XCTAssertEqual(chmod(path, 0), 0)
        if getuid() != 0 {
            XCTAssertThrowsError(try AudioFile.read(path)) { XCTAssertEqual("\($0)", "\(path): cannot be read (permission denied); check its permissions") }
            return
        }
        guard let grus = grusExecutable() else { return }
        let (p, stderr) = try runProgram("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", grus, "features", path])
        XCTAssertEqual(p.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("\(path): cannot be read (permission denied)"), stderr)
    }
}

extension ReliabilityTests {
    /// Speech Commands layout with Unicode label folders, through the 12-class protocol.
    func testSpeechCommandsTwelveClassWithUnicodeLabels() throws {
        let c = dir.appendingPathComponent("gsc")
        for (label, hz) in [("ñandú", 300.0), ("日本", 700.0), ("other", 1200.0)] {
            for s in ["a1b2c3d4", "e5f6a7b8", "c9d0e1f2", "a3b4c5d6"] {
                try AudioFile.write(tone(hz, rate: 16000, frames: 16000), to: c.appendingPathComponent("\(label)/\(s)_nohash_0.wav").path)
            }
        }
        var rng = RNG(seed: 3)
        try AudioFile.write(Audio(samples: Augmenter.pinkNoise(count: 16000 * 5, rng: &rng), sampleRate: 16000),
                            to: c.appendingPathComponent("_background_noise_/pink.wav").path)
        let p = dir.appendingPathComponent("gsc.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        corpus: {format: speech_commands, path: \(c.path), twelve_class: true, words: ["ñandú", "日本"]}
        frontend: {type: audio}
        """.utf8))
        let items = try stagesForTest(p, out: dir.appendingPathComponent("exp")).stages.prepare().items
        XCTAssertEqual(Set(items.map(\.label)), ["ñandú", "日本", "_unknown_", "_silence_"])
        XCTAssertEqual(items.filter { $0.label == "_unknown_" }.count, 4, "'other' became _unknown_")
        XCTAssertEqual(items.filter { $0.label == "_silence_" }.count, 4, "one class's worth of silence")
        XCTAssertTrue(items.filter { $0.label == "_silence_" }.allSatisfy { FileManager.default.fileExists(atPath: $0.input) })
    }
}
