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
import GrusText
@testable import GrusTrain
import XCTest

/// Inputs that used to crash, hang or corrupt memory: each must now end in a clear error.
final class HostileInputTests: FolderTestCase {

    func write(_ name: String, _ text: String) -> String {
        let p = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        return p
    }

    /// Feature options that wrote past a buffer (n_fft below the window), divided by zero
    /// (rate or hop 0) or hung (a huge FFT) are refused before anything is allocated.
    func testImpossibleFeatureOptionsAreRefused() {
        func refused(_ change: (inout FeatureOptions) -> Void, _ field: String) {
            var o = FeatureOptions.kaldi
            change(&o)
            XCTAssertThrowsError(try FeatureExtractor(o), field) { e in
                XCTAssertTrue("\(e)".contains(field), "\(e)")
            }
        }
        refused({ $0.frame.nFFT = 256 }, "frame.nFFT")
        refused({ $0.frame.nFFT = 3 }, "frame.nFFT")
        refused({ $0.frame.nFFT = 100_000_000 }, "frame.nFFT")
        refused({ $0.frame.sampleRate = 0 }, "frame.sampleRate")
        refused({ $0.frame.sampleRate = 1 }, "frame.sampleRate")
        refused({ $0.frame.frameShiftMs = 0 }, "frame.frameShiftMs")
        refused({ $0.frame.frameLengthMs = -.infinity }, "frame.frameLengthMs")
        refused({ $0.mel.numBins = 0 }, "mel.numBins")
        refused({ $0.kind = .mfcc; $0.mfcc.numCeps = 41 }, "mfcc.numCeps")
        refused({ $0.deltaOrder = 7 }, "deltaOrder")
        // Found by fuzz/FuzzFeatures: the mel bank is built for spectrograms too.
        refused({ $0.kind = .spectrogram; $0.mel.numBins = 0 }, "mel.numBins")
        refused({ $0.kind = .spectrogram; $0.mfcc.numCeps = -1 }, "mfcc.numCeps")
        XCTAssertNoThrow(try FeatureExtractor(.kaldi))
        XCTAssertNoThrow(try FeatureExtractor(.librosa))
    }

    /// A named pipe called *.wav blocked every reader forever; now every entry point refuses it.
    func testNamedPipesAreRefusedNotWaitedOn() throws {
        let fifo = dir.appendingPathComponent("voice.wav").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        XCTAssertThrowsError(try AudioFile.read(fifo)) { XCTAssertTrue("\($0)".contains("named pipe"), "\($0)") }
        XCTAssertThrowsError(try AudioFile.info(fifo)) { XCTAssertTrue("\($0)".contains("named pipe"), "\($0)") }
        XCTAssertThrowsError(try TextFile.lines(fifo)) { XCTAssertTrue("\($0)".contains("named pipe"), "\($0)") }
        XCTAssertThrowsError(try RecipeLoader.load(fifo)) { XCTAssertTrue("\($0)".contains("named pipe"), "\($0)") }
        // In a corpus, under the skip policy: listed as a bad input, the run goes on.
        let c = dir.appendingPathComponent("corpus")
        try writeToneCorpus(c, rate: 8000)
        XCTAssertEqual(mkfifo(c.appendingPathComponent("lo_a_9.wav").path, 0o644), 0)
        let p = write("fifo.yaml", """
        corpus: {format: fsdd, path: \(c.path), on_bad_input: skip}
        frontend: {type: audio, audio: {bins: 10}}
        model: {encoder: {hidden: 4, layers: 1}}
        training: {epochs: 1, batch_size: 4}
        """)
        let out = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(p), out: out.path).run()
        let bad = try String(contentsOf: out.appendingPathComponent("bad-inputs.jsonl"), encoding: .utf8)
        XCTAssertTrue(bad.contains("lo_a_9.wav") && bad.contains("named pipe"), bad)
    }

    /// "Billion laughs": nested aliases grew memory without bound while the recipe was read.
    func testNestedAliasesAreRefusedBeforeExpanding() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<20 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let p = write("laughs.yaml", yaml)
        let start = Date(), before = peakMemoryMB()
        XCTAssertThrowsError(try RecipeLoader.load(p)) { XCTAssertTrue("\($0)".contains("anchors and aliases are not supported"), "\($0)") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertLessThan(peakMemoryMB() - before, 100)
        let big = write("big.yaml", "corpus:\n  path: " + String(repeating: "x", count: 2 << 20) + "\n")
        XCTAssertThrowsError(try RecipeLoader.load(big)) { XCTAssertTrue("\($0)".contains("a recipe is at most"), "\($0)") }
    }

    func testAliasScanFindsAliasesAndNothingElse() {
        XCTAssertEqual(YAMLAliasScan.find("a: &x 1\nb: *x\n")?.token, "&x")
        XCTAssertEqual(YAMLAliasScan.find("a: 1\nb: [1, *x]\n")?.line, 2)
        XCTAssertEqual(YAMLAliasScan.find("- *x\n")?.token, "*x")
        XCTAssertEqual(YAMLAliasScan.find("a: {k: &v 1}\n")?.token, "&v")
        for clean in ["name: R&D\n", "a: 'a *star* & more'\n", "a: \"*x \\\" &y\"\n", "a: 1 # &not *an alias\n",
                      "a: b*c\n", "text: |\n  * item\n  & more\nb: 2\n", "x: 'it''s *fine*'\n", "a: 5 * 3\n"] {
            XCTAssertNil(YAMLAliasScan.find(clean), clean)
        }
        XCTAssertEqual(YAMLAliasScan.find("text: |\n  * item\nb: *x\n")?.line, 3, "the block scalar ends where the indentation does")
    }

    func testIncludeOfAFolderIsAnError() {
        try? FileManager.default.createDirectory(at: dir.appendingPathComponent("base"), withIntermediateDirectories: true)
        let p = write("child.yaml", "include: base\n")
        XCTAssertThrowsError(try RecipeLoader.load(p)) { XCTAssertTrue("\($0)".contains("'base' is a folder"), "\($0)") }
    }

    /// A damaged or hostile model.json is refused naming the key, before anything is allocated
    /// (hiddenSize 1e9 asked for 192 GB; -16 looped forever; nFFT 3 corrupted the heap).
    func testHostileModelDescriptionsNameTheKey() throws {
        let c = dir.appendingPathComponent("c")
        try writeToneCorpus(c, rate: 8000)
        let p = write("m.yaml", """
        corpus: {format: fsdd, path: \(c.path)}
        frontend: {type: audio, audio: {bins: 10}}
        model: {encoder: {hidden: 4, layers: 1}}
        training: {epochs: 1, batch_size: 4}
        """)
        let exp = dir.appendingPathComponent("exp")
        try Experiment(try RecipeLoader.load(p), out: exp.path).run()
        let json = exp.appendingPathComponent("model/model.json"), weights = exp.appendingPathComponent("model/model.safetensors")
        let good = try Data(contentsOf: json), goodWeights = try Data(contentsOf: weights)
        func edit(_ change: (inout [String: Any]) -> Void, expect: String, file: StaticString = #filePath, line: UInt = #line) throws {
            var o = try JSONSerialization.jsonObject(with: good) as! [String: Any]
            change(&o)
            try JSONSerialization.data(withJSONObject: o).write(to: json)
            XCTAssertThrowsError(try Models.load(exp.path), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains(expect), "\(e)", file: file, line: line)
            }
            try good.write(to: json)
        }
        func nested(_ o: inout [String: Any], _ path: [String], _ value: Any) {
            if path.count == 1 { o[path[0]] = value; return }
            var sub = o[path[0]] as! [String: Any]
            nested(&sub, Array(path.dropFirst()), value)
            o[path[0]] = sub
        }
        try edit({ nested(&$0, ["architecture", "encoder", "hiddenSize"], 1_000_000_000) }, expect: "architecture.encoder.hiddenSize: must be 1 to 4096")
        try edit({ nested(&$0, ["architecture", "encoder", "hiddenSize"], -16) }, expect: "architecture.encoder.hiddenSize")
        try edit({ nested(&$0, ["architecture", "encoder", "numLayers"], 0) }, expect: "architecture.encoder.numLayers")
        try edit({ nested(&$0, ["frontEnd", "audio", "options", "frame", "nFFT"], 3) }, expect: "frontEnd.audio.options.frame.nFFT")
        try edit({ nested(&$0, ["frontEnd", "audio", "options", "frame", "sampleRate"], 0) }, expect: "frontEnd.audio.options.frame.sampleRate")
        try edit({ nested(&$0, ["frontEnd", "audio", "options", "frame", "frameShiftMs"], 0) }, expect: "frontEnd.audio.options.frame.frameShiftMs")
        try edit({ $0["format"] = "grus-model-99" }, expect: "format 'grus-model-99'")
        try edit({ $0["labels"] = ["hi", "hi"] }, expect: "labels: 'hi' appears twice")
        try edit({ $0["labels"] = ["hi", "lo", "mid"] }, expect: "architecture.numClasses: 2, but there are 3 labels")
        try edit({ nested(&$0, ["frontEnd", "audio", "cmvn", "sum"], [1.0, 2.0]) }, expect: "frontEnd.audio.cmvn: statistics for 2 dimensions")
        try edit({ $0["task"] = "juggle" }, expect: "task 'juggle'")
        // All-NaN weights.
        var (tensors, _) = try Safetensors.load(weights)
        for k in tensors.keys { tensors[k]!.data = tensors[k]!.data.map { _ in .nan } }
        try Safetensors.save(tensors, metadata: [:], to: weights)
        XCTAssertThrowsError(try Models.load(exp.path)) { XCTAssertTrue("\($0)".contains("NaN or infinite"), "\($0)") }
        try goodWeights.write(to: weights)
        XCTAssertNoThrow(try Models.load(exp.path))
    }

    // Text inputs that were read wrongly.

    func testTextFilesReadAsTheirAuthorsMeant() throws {
        // A byte-order mark before the header, CR-only line ends, trailing blank lines.
        let bom = dir.appendingPathComponent("bom.tsv").path
        FileManager.default.createFile(atPath: bom, contents: Data([0xEF, 0xBB, 0xBF]) + Data("sentence\tlabel\rgood one\tpos\rbad one\tneg\r\r\n\n".utf8))
        let r = try CorpusReader.textFile(bom, split: .train, format: .textTSV)
        XCTAssertEqual(r.items.map(\.label), ["pos", "neg"])
        XCTAssertEqual(r.bad, [], "blank lines are not bad inputs")
        // Extra columns are a bad input, not silently dropped.
        let extra = write("extra.tsv", "sentence\tlabel\na tab\tinside\tpos\nfine\tneg\n")
        let e = try CorpusReader.textFile(extra, split: .train, format: .textTSV)
        XCTAssertEqual(e.items.map(\.input), ["fine"])
        XCTAssertTrue(e.bad.first?.description.contains("extra.tsv:2: expected 2 tab-separated columns, found 3") ?? false, "\(e.bad)")
        // An unclosed CSV quote no longer swallows the rows after it without a word.
        let csv = write("m.csv", "text,label\n\"open quote,a\nb,c\nd\",e\nfine,f\n")
        let q = try CorpusReader.manifest(csv, inputColumn: "text", labelColumn: "label", splitColumn: "split", audio: false)
        XCTAssertEqual(q.items.map(\.input), ["fine"])
        XCTAssertTrue(q.bad.first?.description.contains("m.csv:2: a quoted field runs over 3 lines") ?? false, "\(q.bad)")
        // JSONL null labels are missing labels.
        let jsonl = write("m.jsonl", "{\"text\": \"hello\", \"label\": null}\n{\"text\": \"hi\", \"label\": \"greet\"}\n")
        let m = try CorpusReader.manifest(jsonl, inputColumn: "text", labelColumn: "label", splitColumn: "split", audio: false)
        XCTAssertEqual(m.items.map(\.label), ["greet"])
        XCTAssertTrue(m.bad.first?.description.contains("m.jsonl:1: no 'label' value") ?? false, "\(m.bad)")
    }

    /// on_invalid_utf8: skip lists the skipped lines but does not fail the run.
    func testSkippedUTF8LinesDoNotFailTheRun() throws {
        let c = dir.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        var train = Data("sentence\tlabel\n".utf8)
        for i in 0..<40 { train += Data("the \(i % 2 == 0 ? "good" : "bad") film\t\(i % 2 == 0 ? "pos" : "neg")\n".utf8) }
        train += Data([0x66, 0xFF, 0x09, 0x70, 0x6F, 0x73, 0x0A])   // "f\xFF\tpos"
        FileManager.default.createFile(atPath: c.appendingPathComponent("train.tsv").path, contents: train)
        FileManager.default.createFile(atPath: c.appendingPathComponent("dev.tsv").path, contents: Data("sentence\tlabel\ngood\tpos\nbad\tneg\n".utf8))
        let p = write("u.yaml", """
        corpus: {format: text_tsv, path: \(c.path), on_invalid_utf8: skip}
        frontend: {type: text}
        model: {embedding_dim: 4, encoder: {hidden: 4, layers: 1}}
        training: {epochs: 1, batch_size: 8}
        """)
        let out = dir.appendingPathComponent("exp")
        XCTAssertNoThrow(try Experiment(try RecipeLoader.load(p), out: out.path).run())
        let bad = try String(contentsOf: out.appendingPathComponent("bad-inputs.jsonl"), encoding: .utf8)
        XCTAssertTrue(bad.contains("train.tsv:42"), bad)
    }

    func testLongTextsAreTruncatedByDefaultAndSaySo() throws {
        let c = dir.appendingPathComponent("c")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        let long = Array(repeating: "word", count: 5000).joined(separator: " ")
        try ("sentence\tlabel\n" + (0..<20).map { "\($0 % 2 == 0 ? "good" : "bad") \($0 == 3 ? long : "")\t\($0 % 2)" }.joined(separator: "\n") + "\n")
            .write(to: c.appendingPathComponent("train.tsv"), atomically: true, encoding: .utf8)
        try "sentence\tlabel\ngood\t0\nbad\t1\n".write(to: c.appendingPathComponent("dev.tsv"), atomically: true, encoding: .utf8)
        let p = write("t.yaml", "corpus: {format: text_tsv, path: \(c.path)}\nfrontend: {type: text}\n")
        let out = dir.appendingPathComponent("exp")
        let examples = try stagesForTest(p, out: out).features()
        XCTAssertEqual(examples.map(\.length).max(), 512)
        let log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("1 text(s) longer than frontend.text.max_length (512 tokens) were truncated"), log)
    }

    // Audio inputs that were accepted wrongly.

    /// A 44-byte header that claims 1 Hz: resampling it to 16 kHz took 3 GB.
    func testAbsurdSampleRatesAreRefused() throws {
        var wav = Data("RIFF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { wav.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { wav.append(contentsOf: $0) } }
        let samples = 1000
        u32(UInt32(36 + samples * 2)); wav += Data("WAVEfmt ".utf8); u32(16); u16(1); u16(1); u32(1); u32(2); u16(2); u16(16)
        wav += Data("data".utf8); u32(UInt32(samples * 2)); wav += Data(count: samples * 2)
        let path = dir.appendingPathComponent("slow.wav").path
        FileManager.default.createFile(atPath: path, contents: wav)
        XCTAssertThrowsError(try AudioFile.read(path)) { XCTAssertTrue("\($0)".contains("header gives 1 Hz"), "\($0)") }
        // grus features names the file, not a --sample-rate flag nobody gave.
        guard let grus = grusExecutable() else { return }
        let r = try runCapturing(grus, ["features", path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue((r.stdout + r.stderr).contains("slow.wav: its header says 1 Hz"), r.stdout + r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains("--sample-rate"), r.stdout + r.stderr)
    }

    /// A file name with a line break cannot be named by the split lists: it was silently trained on.
    func testFileNamesWithLineBreaksAreBadInputs() throws {
        let c = dir.appendingPathComponent("sc")
        for w in ["yes", "no"] {
            for s in ["aa", "bb"] {
                try AudioFile.write(Audio(samples: [Float](repeating: 0.1, count: 16000), sampleRate: 16000), to: c.appendingPathComponent("\(w)/\(s)_nohash_0.wav").path)
            }
        }
        try AudioFile.write(Audio(samples: [Float](repeating: 0.1, count: 16000), sampleRate: 16000), to: c.appendingPathComponent("yes/cc\n_nohash_0.wav").path)
        try "yes/aa_nohash_0.wav\n".write(to: c.appendingPathComponent("testing_list.txt"), atomically: true, encoding: .utf8)
        try "no/aa_nohash_0.wav\n".write(to: c.appendingPathComponent("validation_list.txt"), atomically: true, encoding: .utf8)
        let r = try CorpusReader.speechCommands(c.path)
        XCTAssertEqual(r.items.count, 4)
        XCTAssertTrue(r.bad.first?.reason.contains("line break") ?? false, "\(r.bad)")
    }

    /// Long audio is cropped by default (memory bounded by corpus.max_seconds), and the log says so.
    func testLongAudioIsCroppedByDefaultAndSaysSo() throws {
        let c = dir.appendingPathComponent("long")
        for (label, hz) in [("lo", 300.0), ("hi", 1500.0)] {
            for s in ["a", "b"] {
                for i in 4..<9 {
                    let n = (label == "lo" && s == "a" && i == 5) ? 8000 * 70 : 4000
                    let x = (0..<n).map { Float(0.4 * sin(2 * Double.pi * hz * Double($0) / 8000)) }
                    try AudioFile.write(Audio(samples: x, sampleRate: 8000), to: c.appendingPathComponent("\(label)_\(s)_\(i).wav").path)
                }
            }
        }
        let p = write("long.yaml", "corpus: {format: fsdd, path: \(c.path)}\nfrontend: {type: audio, audio: {bins: 10}}\n")
        let out = dir.appendingPathComponent("exp")
        let examples = try stagesForTest(p, out: out).features()
        XCTAssertEqual(examples.map(\.length).max(), 5998, "60 s at 10 ms hops")
        let log = try String(contentsOf: out.appendingPathComponent("log.txt"), encoding: .utf8)
        XCTAssertTrue(log.contains("1 file(s) longer than corpus.max_seconds (60.0 s) were cropped"), log)
    }
}
