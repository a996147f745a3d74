import Foundation
import GrusAudio
import GrusCore
@testable import GrusData
@testable import GrusExperiment
@testable import GrusExport
@testable import GrusInference
import GrusNN
@testable import GrusRecipes
@testable import GrusReports
@testable import GrusTasks
@testable import GrusTrain
import XCTest

/// The transcribe task end to end on strings of tones made here: token k is a tone of its own
/// pitch, strings of 1–4 tokens with short gaps. No alignment is given; CTC finds it.
final class TranscribeTests: FolderTestCase {
    func corpus(rate: Int = 8000) throws -> String {
        var rng = RNG(seed: 6)
        let pitches = ["1": 350.0, "2": 800.0, "3": 1700.0]
        let c = dir.appendingPathComponent("tones")
        try FileManager.default.createDirectory(at: c, withIntermediateDirectories: true)
        var lines = ["path\tlabel\tsplit"]
        for (split, n) in [("train", 160), ("dev", 30), ("test", 30)] {
            for i in 0..<n {
                let tokens = (0..<(1 + rng.int(below: 4))).map { _ in ["1", "2", "3"][rng.int(below: 3)] }
                var x: [Float] = (0..<(rate / 20)).map { _ in 0.01 * rng.normal() }
                for t in tokens {
                    let hz = pitches[t]! * (1 + 0.05 * Double(rng.normal()))
                    x += (0..<(rate * (12 + rng.int(below: 6)) / 100)).map { Float(0.4 * sin(2 * Double.pi * hz * Double($0) / Double(rate))) }
                    x += (0..<(rate * (5 + rng.int(below: 6)) / 100)).map { _ in 0.01 * rng.normal() }
                }
                let name = "\(split)_\(i).wav"
                try AudioFile.write(Audio(samples: x, sampleRate: rate), to: c.appendingPathComponent(name).path)
                lines.append("\(name)\t\(tokens.joined(separator: " "))\t\(split)")
            }
        }
        // An empty transcript and one its audio is too short for: bad inputs, skipped by policy.
        try AudioFile.write(Audio(samples: [Float](repeating: 0, count: rate / 4), sampleRate: rate), to: c.appendingPathComponent("short.wav").path)
        lines.append("short.wav\t1 1 2 2 3 3 1 1 2 2 3 3 1 1 2 2 3 3 1 1 2 2 3 3 1 1\ttrain")
        lines.append("short.wav\t\ttrain")
        try (lines.joined(separator: "\n") + "\n").write(to: c.appendingPathComponent("manifest.tsv"), atomically: true, encoding: .utf8)
        return c.appendingPathComponent("manifest.tsv").path
    }

    /// Trains the tone-string corpus with these model and training settings; returns the experiment folder.
    func train(_ name: String, model: String, training: String, extra: String = "", overrides: [String] = []) throws -> String {
        let m = try corpus()
        let p = dir.appendingPathComponent(name + ".yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        task: transcribe
        corpus: {format: manifest, path: \(m), on_bad_input: skip}
        frontend: {type: audio, audio: {sample_rate: 8000, bins: 20, n_fft: 256}}
        model: \(model)
        training: \(training)
        \(extra)
        """.utf8))
        let out = dir.appendingPathComponent(name).path
        _ = try Experiment(try RecipeLoader.load(p, overrides: overrides), out: out).run()
        return out
    }

    func testTranscriberLearnsToneStrings() throws {
        let m = try corpus()
        let p = dir.appendingPathComponent("t.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        task: transcribe
        corpus: {format: manifest, path: \(m), on_bad_input: skip}
        frontend: {type: audio, audio: {sample_rate: 8000, bins: 20, n_fft: 256}}
        model: {stack_frames: 2, encoder: {hidden: 32, layers: 1}}
        training: {epochs: 12, batch_size: 16, lr: 0.01}
        evaluation: {beam_width: 4}
        """.utf8))
        let out = dir.appendingPathComponent("exp").path
        let report = try XCTUnwrap(try Experiment(try RecipeLoader.load(p), out: out).run() as? TranscribeReport)
        XCTAssertEqual(report.n, 30)
        XCTAssertLessThanOrEqual(report.tokenErrorRate, 0.1, report.table(title: "test"))
        XCTAssertGreaterThanOrEqual(report.sequenceAccuracy, 0.8)
        let bad = try String(contentsOfFile: out + "/bad-inputs.jsonl", encoding: .utf8)
        XCTAssertTrue(bad.contains("a transcript of 26 tokens needs at least"), bad)
        XCTAssertTrue(bad.contains("manifest.tsv:223\",\"reason\":\"no 'label' value"), bad)
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        for key in ["token_error_rate", "sequence_accuracy", "substitutions", "deletions", "insertions", "n"] { XCTAssertNotNil(metrics[key], key) }
        // grus eval's path reproduces the run; grus predict prints the string.
        let model = try Models.load(out)
        let items = try CorpusReader.manifest(m, inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true).items
            .filter { $0.split == .test }
        let (again, _) = try model.evaluate(items, topK: 1, predictions: nil) { _ in }
        XCTAssertEqual(try XCTUnwrap(again as? TranscribeReport).tokenErrorRate, report.tokenErrorRate)
        // An ensemble of the model with itself averages equal posteriors: the same strings.
        let (doubled, _) = try Models.load([out, out]).evaluate(items, topK: 1, predictions: nil) { _ in }
        XCTAssertEqual(try XCTUnwrap(doubled as? TranscribeReport).tokenErrorRate, report.tokenErrorRate)
        XCTAssertEqual(try XCTUnwrap(doubled as? TranscribeReport).sequenceAccuracy, report.sequenceAccuracy)
        var lines: [String] = []
        model.predict(AnySequence([(input: items[0].input, origin: "x")]), topK: 1) { _, r in
            if case let .success((text, _)) = r { lines.append(text) }
        }
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].split(separator: " ").allSatisfy { ["1", "2", "3"].contains(String($0)) }, lines[0])
    }

    func testRecipeChecks() throws {
        let p = dir.appendingPathComponent("x.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("corpus: {format: text_tsv, path: \(dir.path)}\nfrontend: {type: text}\nmodel: {stack_frames: 3}\n".utf8))
        XCTAssertThrowsError(try RecipeLoader.load(p)) { XCTAssertTrue("\($0)".contains("model.stack_frames: stacks audio frames for task: transcribe"), "\($0)") }
    }

    /// FSDD connected digits: strings only within a speaker and an official split; with a
    /// held-out speaker, its strings are the test and the others' test strings are left out.
    func testFSDDDigitsBuilderAndSpeakerSplit() throws {
        let fsdd = dir.appendingPathComponent("fsdd/recordings")
        try FileManager.default.createDirectory(at: fsdd, withIntermediateDirectories: true)
        for speaker in ["ann", "bob"] { for d in 0..<3 { for i in 0..<7 {
            let hz = 300.0 + 200 * Double(d) + (speaker == "bob" ? 50 : 0)
            try AudioFile.write(Audio(samples: (0..<2000).map { Float(0.3 * sin(2 * Double.pi * hz * Double($0) / 8000)) }, sampleRate: 8000),
                                to: fsdd.appendingPathComponent("\(d)_\(speaker)_\(i).wav").path)
        } } }
        var settings = FSDDDigits.Settings()
        settings.source = fsdd.path
        (settings.trainStrings, settings.testStrings) = (12, 4)
        let out = dir.appendingPathComponent("fd").path
        try FSDDDigits.ensure(out, settings: settings) { _ in }
        let rows = try CorpusReader.manifest(out + "/digits.tsv", inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true).items
        XCTAssertEqual(rows.count, 2 * (12 + 4))
        XCTAssertEqual(Set(rows.compactMap(\.speaker)), ["ann", "bob"])
        for r in rows {
            let digits = TranscribeTask.tokens(r.label)
            XCTAssertTrue((1...7).contains(digits.count) && digits.allSatisfy { ["0", "1", "2"].contains($0) }, r.label)
            // each recording is 2000 samples; gaps add 0.05-0.25 s between and 0.1-0.3 s around
            let n = try AudioFile.read(r.input).samples.count
            XCTAssertTrue(n >= digits.count * 2000 + 2 * 800 + (digits.count - 1) * 400 && n <= digits.count * 2000 + 2 * 2400 + (digits.count - 1) * 2000, "\(n)")
        }
        let p = dir.appendingPathComponent("fd.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        task: transcribe
        corpus: {format: fsdd_digits, path: \(out), source: \(fsdd.path), split: speaker, test_speaker: bob, dev_fraction: 0}
        frontend: {type: audio}
        """.utf8))
        // The settings differ from the recipe's (800 / 100 strings), so reading rebuilds it: keep ours.
        let recipe = try RecipeLoader.load(p).recipe
        try FSDDDigits.ensure(out, settings: settings) { _ in }
        let stamp = try Data(contentsOf: URL(fileURLWithPath: out + "/fsdd-digits.json"))
        var asRead = FSDDDigits.Settings(); asRead.source = fsdd.path
        XCTAssertNotEqual(try JSONDecoder().decode(FSDDDigits.Settings.self, from: stamp), asRead)
        let items = try CorpusSource(recipe).read().items
        XCTAssertEqual(items.filter { $0.split == .test }.count, 2 * (800 + 100) / 2)
        XCTAssertTrue(items.filter { $0.split == .test }.allSatisfy { $0.speaker == "bob" })
        XCTAssertEqual(items.filter { $0.split == .train }.count, 800)
        XCTAssertTrue(items.filter { $0.split == .train }.allSatisfy { $0.speaker == "ann" && $0.input.contains("/train_") })
    }


    /// `corpus.voices: wide` speaks the synthetic digits with espeak-ng's other variants too,
    /// still split by voice; the standard corpus's stamp (which has no variant list) is unchanged.
    func testWideSyntheticDigitVoices() throws {
        var settings = SyntheticDigits.Settings()
        settings.variants = SyntheticDigits.wideVariants
        settings.voices = 40
        settings.stringsPerVoice = 2
        (settings.devVoices, settings.testVoices) = (0.25, 0.25)
        let out = dir.appendingPathComponent("wide").path
        try SyntheticDigits.ensure(out, settings: settings) { _ in }
        let table = try String(contentsOfFile: out + "/digits.tsv", encoding: .utf8).split(separator: "\n").dropFirst().map { $0.split(separator: "\t").map(String.init) }
        XCTAssertEqual(table.count, 80)
        var splitOf: [String: String] = [:]
        for row in table {
            let (split, voice) = (row[2], row[4])
            XCTAssertEqual(splitOf[voice, default: split], split, "voice \(voice) in two splits")
            splitOf[voice] = split
            let parts = voice.split(separator: "+").map(String.init)
            XCTAssertTrue(SyntheticSpeechCommands.accents.contains(parts[0]) && SyntheticDigits.wideVariants.contains(parts[1]), voice)
            XCTAssertGreaterThan(try AudioFile.read(out + "/" + row[0]).samples.count, 16000 / 5)
        }
        XCTAssertEqual(splitOf.count, 40)
        let read = try CorpusReader.manifest(out + "/digits.tsv", inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true)
        XCTAssertEqual(read.items.count, 80)
        XCTAssertTrue(read.bad.isEmpty, "\(read.bad)")
        XCTAssertEqual(splitOf.values.filter { $0 == "test" }.count, 10)
        let extra = Set(splitOf.keys.map { String($0.split(separator: "+")[1]) }).subtracting(SyntheticSpeechCommands.variants)
        XCTAssertGreaterThan(extra.count, 10, "variants beyond the standard 12: \(extra.sorted())")
        // The standard settings encode as they did before the variant list existed.
        let standard = String(decoding: try JSONEncoder().encode(SyntheticDigits.Settings()), as: UTF8.self)
        XCTAssertFalse(standard.contains("variants") || standard.contains("voices"), standard)
        // The recipe's keys become the generator's settings.
        let p = dir.appendingPathComponent("wide.yaml").path
        FileManager.default.createFile(atPath: p, contents: Data("""
        task: transcribe
        corpus: {format: synthetic_digits, path: \(out), voices: wide, strings_per_voice: 3}
        frontend: {type: audio}
        """.utf8))
        let recipe = try RecipeLoader.load(p).recipe
        let fromRecipe = SyntheticDigits.Settings(recipe.corpus, seed: 7)
        XCTAssertEqual(fromRecipe.variants, SyntheticDigits.wideVariants)
        XCTAssertEqual(fromRecipe.stringsPerVoice, 3)
        XCTAssertEqual(fromRecipe.seed, 7)
    }
    /// Streaming gives the offline scores bit for bit, whatever the chunk size, and the offline
    /// transcript; a bidirectional model is refused.
    func testStreamingMatchesOffline() throws {
        let settings = "{stack_frames: 3, encoder: {hidden: 32, layers: 2, bidirectional: false}}"
        // Log-mel; and MFCCs with deltas, which wait for their look-ahead and are flushed at the end.
        for (name, frontEnd) in [("uni", [String]()), ("uni-mfcc", ["frontend.audio.kind=mfcc", "frontend.audio.ceps=13", "frontend.audio.deltas=2"])] {
            let out = try train(name, model: settings, training: "{epochs: 4, batch_size: 16, lr: 0.01}", overrides: frontEnd)
            let (bundle, model) = try ModelBundle<TranscribeTask>.load(try ModelFolder.locate(out))
            guard case let .audio(options, stats, _) = bundle.frontEnd else { return XCTFail("audio model") }
            let wav = dir.appendingPathComponent("tones/test_3.wav").path
            let samples = try AudioFile.read(wav).samples
            var feats = try FeatureExtractor(options).compute(samples)
            feats = try XCTUnwrap(stats).apply(feats)
            var rng = RNG(seed: 0)
            let offline = model.forward(SequenceBatch(features: feats.reshaped([feats.shape[0], 1, feats.shape[1]]), lengths: [feats.shape[0]]),
                                        training: false, keepForBackward: false, rng: &rng)
            let text = TranscribeTask(labels: bundle.labels).predictionText(model.decode(offline.logits, lengths: offline.lengths)[0], topK: 1)
            for chunk in [37, 160, 1000, samples.count] {
                let stream = try TranscriptStream(model: out)
                stream.keepScores = true
                var i = 0
                while i < samples.count { stream.push(Array(samples[i..<min(i + chunk, samples.count)])); i += chunk }
                stream.finish()
                XCTAssertEqual(stream.steps, offline.lengths[0], "\(name) chunk \(chunk)")
                XCTAssertEqual(stream.scores, offline.logits.data, "\(name) chunk \(chunk): streaming scores differ from offline")
                XCTAssertEqual(stream.text, text)
            }
        }
        // A bidirectional model cannot stream.
        let bi = try train("bi", model: settings, training: "{epochs: 1}", overrides: ["model.encoder.bidirectional=true"])
        XCTAssertThrowsError(try TranscriptStream(model: bi)) { XCTAssertTrue("\($0)".contains("the encoder is bidirectional"), "\($0)") }
    }

    /// `grus stream` on a file and on raw PCM from standard input that ends mid-sample: the
    /// final line is the offline transcript; a wrong rate is a usage error.
    func testStreamCommand() throws {
        guard let exe = grusExecutable() else { return }
        let out = try train("uni", model: "{stack_frames: 2, encoder: {hidden: 32, layers: 1, bidirectional: false}}",
                            training: "{epochs: 8, batch_size: 16, lr: 0.01}")
        let wav = dir.appendingPathComponent("tones/test_5.wav").path
        var offline: [String] = []
        try Models.load(out).predict(AnySequence([(input: wav, origin: "x")]), topK: 1) { _, r in
            if case let .success((text, _)) = r { offline.append(text) }
        }
        func stream(_ args: [String], stdin: Data? = nil) throws -> (Int32, String, String) {
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: exe)
            proc.arguments = ["stream", "--model", out, "--json"] + args
            let o = Pipe(), e = Pipe(), i = Pipe()
            proc.standardOutput = o; proc.standardError = e; proc.standardInput = i
            try proc.run()
            if let d = stdin { i.fileHandleForWriting.write(d) }
            try i.fileHandleForWriting.close()
            let od = o.fileHandleForReading.readDataToEndOfFile(), ed = e.fileHandleForReading.readDataToEndOfFile()
            proc.waitUntilExit()
            return (proc.terminationStatus, String(decoding: od, as: UTF8.self), String(decoding: ed, as: UTF8.self))
        }
        func final(_ output: String) throws -> String {
            let last = try XCTUnwrap(output.split(separator: "\n").last)
            let obj = try JSONSerialization.jsonObject(with: Data(last.utf8)) as! [String: Any]
            XCTAssertEqual(obj["final"] as? Bool, true)
            return obj["text"] as! String
        }
        let fromFile = try stream([wav, "--chunk-ms", "20"])
        XCTAssertEqual(fromFile.0, 0, fromFile.2)
        XCTAssertEqual(try final(fromFile.1), offline.first)
        // Raw 16-bit PCM, cut off after an odd number of bytes.
        let samples = try AudioFile.read(wav).samples
        var pcm = Data()
        for x in samples { let v = UInt16(bitPattern: Int16(max(-32768, min(32767, (x * 32768).rounded())))); pcm.append(UInt8(v & 0xff)); pcm.append(UInt8(v >> 8)) }
        pcm.append(0x7f)
        let fromStdin = try stream(["-", "--rate", "8000"], stdin: pcm)
        XCTAssertEqual(fromStdin.0, 0, fromStdin.2)
        XCTAssertEqual(try final(fromStdin.1), offline.first)
        let wrongRate = try stream(["-", "--rate", "16000"], stdin: Data())
        XCTAssertEqual(wrongRate.0, 64, "a usage error (EX_USAGE)")
        XCTAssertTrue(wrongRate.2.contains("the model reads 8000 Hz audio"), wrongRate.2)
    }
}
