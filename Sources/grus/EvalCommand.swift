import ArgumentParser
import Foundation
import GrusCore
import GrusData
import GrusExperiment
import GrusInference
import GrusRecipes
import GrusReports
import GrusTasks
import GrusTrain

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a trained model on a corpus, a split's file or folder, with the model's own front end.",
        discussion: """
        The corpus is read as the experiment's recipe.yaml describes it (format, columns, 12-class \
        protocol, long-audio settings); --data replaces corpus.path, and --format and --set \
        corpus.KEY=VALUE override the rest. --data may be the whole corpus or one split's file (a \
        text file or manifest, read as --split, test by default). Labels the model does not know \
        are counted and reported, not scored. Example:
          grus eval --model experiments/fsdd --data ../shared/corpora/fsdd --split test
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "Corpus folder, or one split's file.") var data: String
    @Option(help: "Corpus format (default: the experiment's; \(CorpusFormats.names.joined(separator: ", "))).")
    var format: String?
    @Option(help: "Which split (a single file is read as this split; 'all' reads it as test).") var split: SplitChoice = .all
    @OptionGroup var set: OverrideOptions
    @Option(help: ArgumentHelp(RecipeSchema.help("evaluation.top_k"))) var topK: Int?
    @Option(help: "Write the metrics as JSON here.") var report: String?
    @Flag(help: "Speaker CMVN models: the inputs are one speaker's; pool their statistics (by default each speaker the corpus names is pooled, and an input with no speaker is normalised over itself).") var oneSpeaker = false
    @Option(help: "Write report.html for this evaluation here (figures of the task, the data summary; self-contained).") var reportHtml: String?
    @Option(help: "Write one JSON line per input here.") var predictions: String?
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if let f = format, CorpusFormats.named(f) == nil {
            throw ValidationError("--format: '\(f)' is not one of \(CorpusFormats.names.joined(separator: ", "))")
        }
    }

    enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
        case all, train, dev, test
        var only: Split? { Split(rawValue: rawValue) }
    }

    func run() throws {
        for output in [report, predictions, reportHtml] { try refuseExperimentFiles(output, experiments: model.model) }
        try reportingErrors {
            threads.apply()
            let loaded = try model.load()
            loaded.oneSpeaker = oneSpeaker
            var recipe = try corpusRecipe(for: loaded)
            if format == nil && isFile(data) && CorpusFormats.named(recipe.corpus.format)?.generated == true {
                // A model trained on a corpus Grus generates is evaluated on a manifest file.
                recipe = try corpusRecipe(for: loaded, extra: ["corpus.format=manifest"])
            }
            let oneSplit = CorpusFormats.named(recipe.corpus.format)?.isOneSplit(data) ?? false
            let only: Split? = oneSplit ? split.only ?? .test : nil
            var (items, bad) = try CorpusSource(recipe).read(onlySplit: only)
            if let s = split.only { items = items.filter { $0.split == s } }
            guard !items.isEmpty else {
                throw CorpusError("\(data): no labelled inputs found (format \(recipe.corpus.format), split \(split.rawValue))")
            }
            let (metrics, failed) = try loaded.evaluate(items, topK: topK ?? recipe.evaluation.topK,
                                                        predictions: predictions.map { URL(fileURLWithPath: $0) }) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            bad += failed
            print(metrics.table(title: "\(data) (\(split.rawValue))"), terminator: "")
            if !bad.isEmpty {
                print("\(bad.count) input(s) could not be used:")
                for b in bad.prefix(20) { print("  \(b)") }
            }
            if let r = report { try AtomicFile.write(try metrics.json(), to: URL(fileURLWithPath: r)) }
            if let page = reportHtml {
                try HTMLReport.forEvaluation(model: model.path, data: data, task: loaded.taskName, report: metrics, items: items, bad: bad)
                    .write(to: URL(fileURLWithPath: page))
            }
            // As grus run: inputs left out are a failure unless the recipe's policy skips them.
            let failing = bad.filter { $0.byPolicy != true }.count
            if failing > 0 && recipe.corpus.onBadInput == .fail {
                FileHandle.standardError.write(Data("error: \(failing) input(s) could not be used and were not scored (listed above); fix them, or add --set corpus.on_bad_input=skip to score the rest and exit 0\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    /// The experiment's recipe with the corpus pointed at --data (and the flags' overrides); a
    /// model folder without recipe.yaml gets a recipe made from the flags alone.
    func corpusRecipe(for loaded: any LoadedModel, extra: [String] = []) throws -> Recipe {
        let folder = URL(fileURLWithPath: model.path)
        let candidates = [folder, folder.deletingLastPathComponent()].map { $0.appendingPathComponent("recipe.yaml").path }
        var overrides = ["corpus.path=\(data)"] + (format.map { ["corpus.format=\($0)"] } ?? []) + extra + set.overrides
        // Only the data must exist: the recipe may name folders of the machine it was trained on.
        let exists: (String) -> Bool = { $0 == data ? FileManager.default.fileExists(atPath: $0) : true }
        if let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return try RecipeLoader.load(path, overrides: overrides, fileExists: exists).recipe
        }
        let audio: Bool
        if case .audio = loaded.frontEnd { audio = true } else { audio = false }
        if format == nil { overrides.append("corpus.format=\(audio ? (looksLikeFSDD(data) ? "fsdd" : "speech_commands") : "text_tsv")") }
        overrides += ["frontend.type=\(audio ? "audio" : "text")", "task=\(loaded.taskName)"]
        return try RecipeLoader.load(fromTree: [:], name: "eval", overrides: overrides, fileExists: exists).recipe
    }

    func isFile(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && !dir.boolValue
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
        per line from standard input. Prints one line per input: its name and the prediction \
        (with --top-k, the k best labels and their probabilities), or JSON lines with --json. \
        Inputs that cannot be read are reported on standard error; the others are still labelled, \
        and the exit code is then 1.
        """)

    @OptionGroup var model: ModelOptions
    @Option(help: "How many labels to show per input.") var topK: Int = 1
    @Flag(help: "JSON lines output.") var json = false
    @Flag(help: "Speaker CMVN models: the inputs are one speaker's; pool their statistics over all of them (a first pass reads them all). Without it each input is normalised over itself, which loses accuracy.") var oneSpeaker = false
    @OptionGroup var threads: ThreadOptions
    @Argument(help: "Audio files or texts; '-' for standard input.") var inputs: [String]

    func run() throws {
        try reportingErrors {
            threads.apply()
            let loaded = try model.load()
            loaded.oneSpeaker = oneSpeaker
            var failures = 0, outputClosed = false
            let stream = AnySequence<(input: String, origin: String)> { () -> AnyIterator<(input: String, origin: String)> in
                var args = inputs.makeIterator()
                var readingStdin = false
                var lineNumber = 0
                return AnyIterator {
                    // Nobody reads what follows: stop (reportingErrors says so, with exit 1).
                    if outputClosed { return nil }
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
            loaded.predict(stream, topK: max(1, topK)) { origin, result in
                switch result {
                case let .success((text, record)):
                    if json {
                        var r = record
                        r["input"] = origin
                        if let d = try? JSONSerialization.data(withJSONObject: r, options: [.sortedKeys, .withoutEscapingSlashes]) {
                            print(String(decoding: d, as: UTF8.self))
                        }
                    } else {
                        print("\(origin)\t\(text)")
                    }
                    if fflush(stdout) != 0 { outputClosed = true }
                case let .failure(e):
                    failures += 1
                    FileHandle.standardError.write(Data("error: \(e)\n".utf8))
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
