import Foundation
import GrusAudio
import GrusCore

/// Makes a connected-digits corpus with espeak-ng: strings of 1–7 digits spoken by the 96
/// voices of the synthetic speech-commands corpus (8 English accents × 12 variants; 664 with
/// `wideVariants`), with a random pitch, rate and pause between words, random silence around,
/// at a random level, over white or pink noise at a random SNR. Split by voice: dev and test voices are never heard in
/// training. Writes `digits.tsv` (path, label as "3 1 4", split, speaker, espeak-ng voice) and the 16 kHz clips.
public enum SyntheticDigits {
    public static let words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    package static let stampName = "synthetic-digits.json"
    /// Whether `folder` holds the corpus these settings make (its stamp says so).
    public static func isCurrent(_ folder: String, _ settings: Settings) -> Bool { stampMatches(folder, stampName, settings) }
    public static let manifestName = "digits.tsv"

    /// espeak-ng's voice variants (`voices/!v`) but its robots, whispers, croak and the ones that
    /// change the language or only the rate: 83 formant and pitch shapes.
    public static let wideVariants = [
        "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene", "Gene2", "Henrique", "Hugo",
        "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen", "RicishayMax", "RicishayMax2", "RicishayMax3",
        "adam", "anika", "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "david", "ed", "edward",
        "edward2", "f1", "f2", "f3", "f4", "f5", "grandma", "grandpa", "gustave", "iven", "iven2", "iven3", "iven4", "john",
        "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "linda", "m1", "m2", "m3", "m4", "m5",
        "m6", "m7", "m8", "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul", "pedro", "quincy", "rob",
        "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis", "victor", "zac"]

    public struct Settings: Codable, Equatable {
        public var seed: UInt64 = 1
        /// The variants each accent is spoken with; nil: the 12 of the speech-commands corpus.
        public var variants: [String]? = nil
        /// Only the first this many voices of the shuffled list (nil: all); small corpora for tests.
        public var voices: Int? = nil
        public var stringsPerVoice = 40
        public var minDigits = 1, maxDigits = 7
        public var devVoices = 0.15, testVoices = 0.15
        public var minSNR = 10.0, maxSNR = 30.0
        public init() {}
    }

    /// Generates the corpus in `folder` unless one with the same settings is already there.
    public static func ensure(_ folder: String, settings: Settings = Settings(), log: (String) -> Void) throws {
        let root = URL(fileURLWithPath: folder)
        let stamp = root.appendingPathComponent(stampName)
        if isCurrent(folder, settings) { return }
        guard let espeak = SyntheticSpeechCommands.findExecutable("espeak-ng") else {
            throw CorpusError("espeak-ng is not installed; it speaks the synthetic digits (Debian: apt-get install espeak-ng; `make demo` installs it)")
        }
        let t0 = Date()
        log("generating the synthetic connected-digits corpus in \(folder) (espeak-ng, seed \(settings.seed))")
        try clearGeneratedFolder(root, stamp: stampName, format: "synthetic_digits", instead: "manifest")
        var rng = RNG(seed: settings.seed)
        let variants = settings.variants ?? SyntheticSpeechCommands.variants
        var voices = SyntheticSpeechCommands.accents.flatMap { a in variants.map { (a, $0) } }
        rng.shuffle(&voices)
        if let n = settings.voices { voices = Array(voices.prefix(max(1, n))) }
        let nTest = Int((Double(voices.count) * settings.testVoices).rounded()), nDev = Int((Double(voices.count) * settings.devVoices).rounded())
        // Plan every string first (deterministic), then render on all threads.
        struct Clip { var digits: [Int]; var voice: String; var speaker: String; var pitch: Int; var rate: Int; var gap: Int; var split: Split; var name: String; var seed: UInt64 }
        var clips: [Clip] = []
        for (vi, v) in voices.enumerated() {
            let split: Split = vi < nTest ? .test : (vi < nTest + nDev ? .dev : .train)
            let speaker = String(format: "v%03d", vi)
            try FileManager.default.createDirectory(at: root.appendingPathComponent(speaker), withIntermediateDirectories: true)
            for k in 0..<settings.stringsPerVoice {
                let n = settings.minDigits + rng.int(below: settings.maxDigits - settings.minDigits + 1)
                clips.append(Clip(digits: (0..<n).map { _ in rng.int(below: 10) }, voice: "\(v.0)+\(v.1)", speaker: speaker,
                                  pitch: 25 + rng.int(below: 50), rate: 130 + rng.int(below: 70), gap: rng.int(below: 20),
                                  split: split, name: "\(speaker)/\(String(format: "%03d", k)).wav", seed: rng.next()))
            }
        }
        // -g: extra pause between words, in 10 ms units at the default rate
        try SyntheticSpeechCommands.render(clips.count, espeak: espeak, what: "synthetic digits") { i in
            let c = clips[i]
            return (["-v", c.voice, "-p", "\(c.pitch)", "-s", "\(c.rate)", "-g", "\(c.gap)"], c.digits.map { words[$0] }.joined(separator: " "))
        } write: { i, speech in
            var r = RNG(seed: clips[i].seed)
            try AudioFile.write(Audio(samples: surround(speech, rng: &r, settings: settings), sampleRate: 16000),
                                to: root.appendingPathComponent(clips[i].name).path)
        }
        let rows = ["path\tlabel\tsplit\tspeaker\tvoice"] + clips.map { c in
            "\(c.name)\t\(c.digits.map(String.init).joined(separator: " "))\t\(c.split.rawValue)\t\(c.speaker)\t\(c.voice)"
        }
        try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: root.appendingPathComponent(manifestName))
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(settings), to: stamp)
        log(String(format: "generated %d digit strings from %d voices (%d dev, %d test voices) in %.1f s", clips.count, voices.count, nDev, nTest,
                   Date().timeIntervalSince(t0)))
    }

    /// The speech with 0.1–0.4 s of silence either side, at a random level, over noise.
    package static func surround(_ speech: [Float], rng: inout RNG, settings: Settings) -> [Float] {
        let lead = 1600 + rng.int(below: 4800), tail = 1600 + rng.int(below: 4800)
        var clip = [Float](repeating: 0, count: lead + speech.count + tail)
        let level = SyntheticSpeechCommands.normalise(speech, peak: Float(0.3 + 0.6 * rng.uniformDouble()))
        for i in 0..<speech.count { clip[lead + i] = level[i] }
        let noise = rng.int(below: 2) == 0 ? Augmenter.whiteNoise(count: clip.count, rng: &rng) : Augmenter.pinkNoise(count: clip.count, rng: &rng)
        return Augmenter.mix(clip, noise, snrDb: settings.minSNR + (settings.maxSNR - settings.minSNR) * rng.uniformDouble())
    }
}

/// The espeak-ng voices of the synthetic connected digits: 8 English accents × 12 variants, or
/// × the 83 human-sounding variants espeak-ng ships (`SyntheticDigits.wideVariants`).
public enum SyntheticVoiceSet: String, Codable, Sendable, CaseIterable { case standard, wide }
