import ArgumentParser
import Foundation
import GrusAudio
import GrusCore
import GrusExperiment
import GrusInference
import GrusRecipes
import GrusReports
import GrusTasks
import GrusTrain

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute audio features and print a summary of each file.",
        discussion: """
        Reads any format libsndfile reads and mixes to mono; with --sample-rate N it resamples to N \
        (never up: a file below N is an error), by default each file keeps its own rate. Prints \
        duration, rate, channels, frames, feature shape and statistics. With --output DIR, also \
        writes each file's features as DIR/<name>.npy (float32, [frames, dim]). The options are \
        the recipe's frontend.audio keys, with the same defaults and ranges.
        """)

    @Argument(help: "Audio files.") var files: [String]
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.preset"))) var preset: FeaturePreset = .kaldi
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.kind"))) var kind: FeatureKind = .fbank
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.bins"))) var bins: Int?
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.ceps"))) var ceps: Int?
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.deltas"))) var deltas: Int?
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.sample_rate"))) var sampleRate: String = "native"
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.frame_length_ms"))) var frameLengthMs: Double?
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.frame_shift_ms"))) var frameShiftMs: Double?
    @Option(help: ArgumentHelp(RecipeSchema.help("frontend.audio.n_fft"))) var nfft: Int?
    @Flag(help: "Per-utterance mean and variance normalisation (frontend.audio.cmvn: utterance).") var cmvn = false
    @Option(help: "Log: \(LogKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the preset's).") var log: LogKind?
    @Option(help: "Folder for .npy feature files.") var output: String?

    /// Each flag and the recipe key it sets.
    static let keys = ["--preset": "preset", "--kind": "kind", "--bins": "bins", "--ceps": "ceps", "--deltas": "deltas",
                       "--sample-rate": "sample_rate", "--frame-length-ms": "frame_length_ms", "--frame-shift-ms": "frame_shift_ms",
                       "--nfft": "n_fft", "--cmvn": "cmvn"]

    /// The flags as a validated `frontend.audio` section: the same checks as a recipe, problems
    /// named by flag.
    func audioSection() throws -> Recipe.AudioFrontEnd {
        var audio: [String: Any] = ["preset": preset.rawValue, "kind": kind.rawValue, "sample_rate": sampleRate,
                                    "cmvn": cmvn ? "utterance" : "none"]
        if let bins { audio["bins"] = bins }
        if let ceps { audio["ceps"] = ceps } else if kind == .mfcc { audio["ceps"] = min(preset.options.mfcc.numCeps, bins ?? 40) }
        if let deltas { audio["deltas"] = deltas }
        if let frameLengthMs { audio["frame_length_ms"] = frameLengthMs }
        if let frameShiftMs { audio["frame_shift_ms"] = frameShiftMs }
        if let nfft { audio["n_fft"] = nfft }
        let tree: [String: Any] = ["corpus": ["format": "manifest", "path": "-"], "frontend": ["type": "audio", "audio": audio]]
        do {
            return try RecipeLoader.load(fromTree: tree, name: "grus features", fileExists: { _ in true }).recipe.frontend.audio
        } catch let e as RecipeError {
            let flags = Dictionary(uniqueKeysWithValues: Features.keys.map { ("frontend.audio." + $0.value, $0.key) })
            throw RecipeError(issues: e.issues.map { RecipeIssue(file: "grus features", keyPath: flags[$0.keyPath] ?? $0.keyPath, message: $0.message) })
        }
    }

    func run() throws {
        try reportingErrors {
            let section = try audioSection()
            var frontEnds: [Int: AudioFrontEnd] = [:]
            func frontEnd(rate: Int) throws -> AudioFrontEnd {
                if let f = frontEnds[rate] { return f }
                var o = section.featureOptions(rate: rate)
                if let log { o.log.kind = log }
                let problems = o.problems()
                guard problems.isEmpty else {
                    let flags = Dictionary(uniqueKeysWithValues: Features.keys.map { ("frontend.audio." + $0.value, $0.key) })
                    throw RecipeError(issues: problems.map {
                        let key = Recipe.AudioFrontEnd.key(of: $0.field)
                        return RecipeIssue(file: "grus features", keyPath: flags[key] ?? key, message: $0.message + " (at \(rate) Hz)")
                    })
                }
                let f = try AudioFrontEnd(o)
                frontEnds[rate] = f
                return f
            }
            var failures = 0
            print("file\tseconds\trate\tchannels\tframes\tshape\tmean\tstd\tmin\tmax")
            for path in files {
                do {
                    let header = try AudioFile.info(path)
                    let rate = section.sampleRate > 0 ? section.sampleRate : header.sampleRate
                    if rate > header.sampleRate {
                        throw CorpusErrorText("\(path): recorded at \(header.sampleRate) Hz; --sample-rate \(rate) would upsample it (use native or at most \(header.sampleRate))")
                    }
                    if section.sampleRate == 0 {
                        // The file's own rate, not a flag, is what the features cannot use: name the file.
                        let problems = section.featureOptions(rate: rate).problems().filter { $0.field == "frame.sampleRate" }
                        if !problems.isEmpty {
                            throw CorpusErrorText("\(path): its header says \(rate) Hz, a rate these features cannot use (\(problems.map(\.message).joined(separator: "; "))); the file may be damaged")
                        }
                    }
                    let fe = try frontEnd(rate: rate)
                    let f = try fe.features(ofFile: path)
                    guard f.shape[0] > 0 else {
                        throw CorpusErrorText("\(path): too short for one frame (\(String(format: "%.3f", Double(header.frames) / Double(max(header.sampleRate, 1)))) s; a frame needs \(section.frameLengthMs) ms)")
                    }
                    let n = Double(max(f.count, 1))
                    let mean = f.data.reduce(0.0) { $0 + Double($1) } / n
                    let std = (f.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
                    print([path, String(format: "%.3f", Double(header.frames) / Double(header.sampleRate)), "\(header.sampleRate)",
                           "\(header.channels)", "\(f.shape[0])", "\(f.shape[0])x\(f.shape[1])",
                           String(format: "%.4f", mean), String(format: "%.4f", std),
                           String(format: "%.4f", f.data.min() ?? 0), String(format: "%.4f", f.data.max() ?? 0)].joined(separator: "\t"))
                    if let out = output {
                        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent + ".npy"
                        try NPY.write(f, to: URL(fileURLWithPath: out).appendingPathComponent(name))
                    }
                } catch let e as RecipeError {
                    throw e
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                }
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}

extension FeaturePreset: ExpressibleByArgument {}
extension FeatureKind: ExpressibleByArgument {}
extension LogKind: ExpressibleByArgument {}

struct CorpusErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
