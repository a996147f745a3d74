import ArgumentParser
import Foundation
import GrusAudio
import GrusCore

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute audio features and print a summary of each file.",
        discussion: """
        Reads any format libsndfile reads, mixes to mono and resamples to the preset's rate \
        (16 kHz). Prints duration, rate, channels, frames, feature shape and statistics. With \
        --output DIR, also writes each file's features as DIR/<name>.npy (float32, [frames, dim]).
        """)

    enum Preset: String, ExpressibleByArgument, CaseIterable { case kaldi, librosa }
    enum Kind: String, ExpressibleByArgument, CaseIterable { case fbank, mfcc, spectrogram }

    @Argument(help: "Audio files.") var files: [String]
    @Option(help: "Settings to start from: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")).") var preset: Preset = .kaldi
    @Option(help: "Feature type: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: Kind = .fbank
    @Option(help: "Mel bands.") var bins: Int = 40
    @Option(help: "Cepstra for mfcc (default: the preset's).") var ceps: Int?
    @Option(help: "Append deltas (1) or deltas and delta-deltas (2).") var deltas: Int = 0
    @Flag(help: "Per-utterance mean and variance normalisation.") var cmvn = false
    @Option(help: "Log: natural, decibel or none (default: the preset's).") var log: String?
    @Option(help: "Folder for .npy feature files.") var output: String?
    @Option(help: "Sample rate to compute at (files at other rates are resampled). Default 16000.") var sampleRate: Int = 16000
    @Option(help: "FFT size (default: the preset's).") var nfft: Int?

    func run() throws {
        var o = preset == .kaldi ? FeatureOptions.kaldi : FeatureOptions.librosa
        o.kind = FeatureKind(rawValue: kind.rawValue)!
        o.mel.numBins = bins
        o.frame.sampleRate = sampleRate
        if let n = nfft { o.frame.nFFT = n }
        if let c = ceps { o.mfcc.numCeps = c }
        o.deltaOrder = deltas
        if cmvn { o.cmvn = .utterance }
        if let l = log {
            guard let k = LogKind(rawValue: l) else { throw ValidationError("--log must be natural, decibel or none") }
            o.log.kind = k
        }
        guard (0...2).contains(deltas), bins > 0, o.mfcc.numCeps <= bins else {
            throw ValidationError("--deltas must be 0, 1 or 2; --bins positive; --ceps at most --bins")
        }
        let frontEnd = AudioFrontEnd(o)
        var failures = 0
        print("file\tseconds\trate\tchannels\tframes\tshape\tmean\tstd\tmin\tmax")
        for path in files {
            do {
                let header = try AudioFile.info(path)
                let f = try frontEnd.features(ofFile: path)
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
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
