import Foundation
import GrusAudio
import GrusCore

/// Connected digits from real voices: strings of 1–7 of one FSDD speaker's isolated recordings,
/// joined with 50–250 ms gaps of low noise (and 100–300 ms either side), at FSDD's 8 kHz. A
/// string only joins recordings of one speaker and one official split (index 0–4 test), so no
/// test recording is ever heard in training. Writes `digits.tsv` (path, label, split, speaker).
public enum FSDDDigits {
    package static let stampName = "fsdd-digits.json"
    /// Whether `folder` holds the corpus these settings make (its stamp says so).
    public static func isCurrent(_ folder: String, _ settings: Settings) -> Bool { stampMatches(folder, stampName, settings) }
    public static let manifestName = "digits.tsv"

    public struct Settings: Codable, Equatable {
        public var source = ""
        public var seed: UInt64 = 1
        /// Strings per speaker from its training recordings, and from its test recordings.
        public var trainStrings = 800, testStrings = 100
        public var minDigits = 1, maxDigits = 7
        public init() {}
    }

    /// Builds the corpus in `folder` from the FSDD recordings in `settings.source` unless one with
    /// the same settings is already there.
    public static func ensure(_ folder: String, settings: Settings, log: (String) -> Void) throws {
        let root = URL(fileURLWithPath: folder)
        let stamp = root.appendingPathComponent(stampName)
        if isCurrent(folder, settings) { return }
        guard !settings.source.isEmpty, FileManager.default.fileExists(atPath: settings.source) else {
            throw CorpusError("corpus.source: '\(settings.source)' does not exist; point it at the FSDD recordings the strings are joined from")
        }
        let t0 = Date()
        log("joining FSDD recordings from \(settings.source) into connected-digit strings in \(folder)")
        let (items, _) = try CorpusReader.fsdd(settings.source)
        // (speaker, split) → digit → recordings
        var pools: [String: [Split: [Int: [String]]]] = [:]
        for i in items { if let s = i.speaker, let d = Int(i.label) { pools[s, default: [:]][i.split, default: [:]][d, default: []].append(i.input) } }
        guard !pools.isEmpty else { throw CorpusError("\(settings.source): no FSDD recordings ({digit}_{speaker}_{index}.wav)") }
        try clearGeneratedFolder(root, stamp: stampName, format: "fsdd_digits", instead: "manifest")
        var rng = RNG(seed: settings.seed)
        var rows = ["path\tlabel\tsplit\tspeaker"]
        var cache: [String: [Float]] = [:]
        func clip(_ path: String) throws -> [Float] {
            if let c = cache[path] { return c }
            let a = try AudioFile.read(path)
            guard a.sampleRate == 8000 else { throw CorpusError("\(path): \(a.sampleRate) Hz; FSDD recordings are 8000 Hz") }
            cache[path] = a.samples
            return a.samples
        }
        for speaker in pools.keys.sorted() {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(speaker), withIntermediateDirectories: true)
            for (split, count) in [(Split.train, settings.trainStrings), (.test, settings.testStrings)] {
                guard let pool = pools[speaker]?[split], !pool.isEmpty else { continue }
                let digits = pool.keys.sorted()
                for k in 0..<count {
                    let n = settings.minDigits + rng.int(below: settings.maxDigits - settings.minDigits + 1)
                    let string = (0..<n).map { _ in digits[rng.int(below: digits.count)] }
                    let level = Float(0.001 + 0.004 * rng.uniformDouble())
                    func gap(_ ms: Int) -> [Float] { (0..<(8 * ms)).map { _ in level * rng.normal() } }
                    var x = gap(100 + rng.int(below: 200))
                    for (j, d) in string.enumerated() {
                        let choices = pool[d]!
                        x += try clip(choices[rng.int(below: choices.count)])
                        x += j == n - 1 ? gap(100 + rng.int(below: 200)) : gap(50 + rng.int(below: 200))
                    }
                    let name = "\(speaker)/\(split.rawValue)_\(String(format: "%04d", k)).wav"
                    try AudioFile.write(Audio(samples: x, sampleRate: 8000), to: root.appendingPathComponent(name).path)
                    rows.append("\(name)\t\(string.map(String.init).joined(separator: " "))\t\(split.rawValue)\t\(speaker)")
                }
            }
        }
        try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: root.appendingPathComponent(manifestName))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(settings), to: stamp)
        log(String(format: "joined %d strings from %d speakers in %.1f s", rows.count - 1, pools.count, Date().timeIntervalSince(t0)))
    }
}
