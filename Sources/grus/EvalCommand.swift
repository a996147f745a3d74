import ArgumentParser
import Foundation
import GrusCore
import GrusData
import GrusRecipes

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained model on a corpus or file, with the model's own front end.",
        discussion: """
        --data is a corpus folder (fsdd, speech_commands) or a text file (text_tsv, text_pairs, \
        fasttext, trec). Labels the model does not know are counted and reported, not scored.
        Example: grus eval --model experiments/fsdd --data ../shared/corpora/fsdd --format fsdd --split test
        """)

    @Option(help: "Experiment folder (or its model/ folder).") var model: String
    @Option(help: "Corpus folder or text file.") var data: String
    @Option(help: "fsdd, speech_commands, manifest (.csv/.tsv/.jsonl), text_tsv, text_pairs, fasttext or trec (default: fsdd/speech_commands for audio, text_tsv for text).") var format: String?
    @Option(help: "Which split of a corpus folder: all, train, dev or test.") var split: String = "all"
    @Option(help: "FSDD: the held-out speaker that defines the test split.") var testSpeaker: String?
    @Option(help: "text_tsv / manifest: text column.") var textColumn: String = "sentence"
    @Option(help: "text_tsv / manifest: label column.") var labelColumn: String = "label"
    @Option(help: "manifest: audio path column.") var pathColumn: String = "path"
    @Option(help: "manifest: split column.") var splitColumn: String = "split"
    @Option(help: "Top-k accuracy's k.") var topK: Int = 3
    @Option(help: "Write the metrics as JSON here.") var report: String?
    @Option(help: "Write one JSON line per input here.") var predictions: String?
    @Flag(help: "Stream the GRU's recurrent weights as Float16 (faster; probabilities move by about 1e-3).") var fp16 = false

    func run() throws {
        let predictor = try Predictor(modelPath: model, halfPrecision: fp16)
        let isAudio: Bool
        if case .audio = predictor.bundle.frontEnd { isAudio = true } else { isAudio = false }
        let fmt = format ?? (isAudio ? (looksLikeFSDD(data) ? "fsdd" : "speech_commands") : "text_tsv")
        var items: [Item], bad: [BadInput]
        switch fmt {
        case "fsdd": (items, bad) = try CorpusReader.fsdd(data, testSpeaker: testSpeaker)
        case "speech_commands": (items, bad) = try CorpusReader.speechCommands(data)
        case "manifest":
            (items, bad) = try CorpusReader.manifest(data, inputColumn: isAudio ? pathColumn : textColumn, labelColumn: labelColumn,
                                                     splitColumn: splitColumn, audio: isAudio)
        case "text_tsv", "text_pairs", "fasttext", "trec":
            (items, bad) = try CorpusReader.textFile(data, split: .test, format: fmt, textColumn: textColumn, labelColumn: labelColumn)
        default: throw ValidationError("--format must be fsdd, speech_commands, manifest, text_tsv, text_pairs, fasttext or trec")
        }
        if split != "all" {
            guard let s = Split(rawValue: split) else { throw ValidationError("--split must be all, train, dev or test") }
            items = items.filter { $0.split == s }
        }
        guard !items.isEmpty else { throw ValidationError("\(data): no labelled inputs found (format \(fmt), split \(split))") }
        let (metrics, failed) = try predictor.evaluate(items, topK: topK, predictions: predictions.map { URL(fileURLWithPath: $0) }) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        bad += failed
        print(metrics.table(title: "\(data) (\(split))"), terminator: "")
        if !bad.isEmpty {
            print("\(bad.count) input(s) could not be used:")
            for b in bad.prefix(20) { print("  \(b)") }
        }
        if let r = report { try AtomicFile.write(try metrics.json(), to: URL(fileURLWithPath: r)) }
    }

    func looksLikeFSDD(_ path: String) -> Bool {
        let dir = FileManager.default.fileExists(atPath: path + "/recordings") ? path + "/recordings" : path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.contains { $0.range(of: #"^[^_/]+_[^_/]+_\d+\.wav$"#, options: .regularExpression) != nil }
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label audio files or text lines with a trained model.",
        discussion: """
        Inputs are audio files for an audio model and texts for a text model; '-' reads one input \
        per line from standard input. Prints one line per input: the label and its probability \
        (and the top k with --top-k), or JSON lines with --json.
        """)

    @Option(help: "Experiment folder (or its model/ folder).") var model: String
    @Option(help: "How many labels to show per input.") var topK: Int = 1
    @Flag(help: "JSON lines output.") var json = false
    @Flag(help: "Stream the GRU's recurrent weights as Float16 (faster at batch 1; probabilities move by about 1e-3).") var fp16 = false
    @Argument(help: "Audio files or texts; '-' for standard input.") var inputs: [String]

    func run() throws {
        let predictor = try Predictor(modelPath: model, halfPrecision: fp16)
        var failures = 0
        let stream = AnySequence<(input: String, origin: String)> { () -> AnyIterator<(input: String, origin: String)> in
            var args = inputs.makeIterator()
            var readingStdin = false
            var lineNumber = 0
            return AnyIterator {
                while true {
                    if readingStdin {
                        if let line = readLine(strippingNewline: true) { lineNumber += 1; return (line, "stdin:\(lineNumber)") }
                        readingStdin = false
                    }
                    guard let a = args.next() else { return nil }
                    if a == "-" { readingStdin = true; continue }
                    return (a, a)
                }
            }
        }
        predictor.predict(stream, topK: max(1, topK)) { origin, result in
            switch result {
            case let .success(top):
                if json {
                    let obj: [String: Any] = ["input": origin, "label": top[0].0, "probability": Double(top[0].1),
                                              "top_k": top.map { ["label": $0.0, "probability": Double($0.1)] }]
                    if let d = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) {
                        print(String(decoding: d, as: UTF8.self))
                    }
                } else {
                    print("\(origin)\t" + top.map { String(format: "%@ %.4f", $0.0 as NSString, $0.1) }.joined(separator: "\t"))
                }
            case let .failure(e):
                failures += 1
                FileHandle.standardError.write(Data("error: \(e)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
