import Foundation
import GrusAudio
import GrusCore

/// Makes a speech-commands corpus with espeak-ng, in Google Speech Commands layout:
/// one folder per label (10 command words, `_unknown_` for other words, `_silence_`),
/// `_background_noise_`, and `validation_list.txt` / `testing_list.txt`. Voices are English
/// accents × voice variants; the split is by voice, so test voices are never heard in training.
/// Each clip: one word at a random pitch and rate, resampled to 16 kHz, placed at a random offset
/// in one second, with generated noise at a random SNR. The same seed gives the same corpus.
public enum SyntheticSpeechCommands {
    public static let commands = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
    public static let others = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow",
                                "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                "learn", "follow", "forward", "backward", "visual", "apple", "water", "table", "light", "music"]
    public static let accents = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan",
                                 "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
    public static let variants = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5"]
    package static let stampName = "synthetic-corpus.json"
    /// Whether `folder` holds the corpus these settings make (its stamp says so).
    public static func isCurrent(_ folder: String, _ settings: Settings) -> Bool { stampMatches(folder, stampName, settings) }

    public struct Settings: Codable, Equatable {
        public var seed: UInt64 = 1
        public var repetitions = 2          // per command word and voice
        public var unknownPerVoice = 8
        public var silencePerVoice = 3
        public var devVoices = 0.15
        public var testVoices = 0.15
        public var minSNR = 10.0, maxSNR = 30.0
        /// Only the first this many voices of the shuffled 96 (nil: all); small corpora for tests.
        public var voices: Int? = nil
        public init() {}
    }

    /// Generates the corpus in `folder` unless a corpus with the same settings is already there.
    public static func ensure(_ folder: String, settings: Settings = Settings(), log: (String) -> Void) throws {
        let stamp = URL(fileURLWithPath: folder).appendingPathComponent(stampName)
        if isCurrent(folder, settings) { return }
        guard let espeak = findExecutable("espeak-ng") else {
            throw CorpusError("espeak-ng is not installed; it speaks the synthetic corpus (Debian: apt-get install espeak-ng; `make demo` installs it)")
        }
        let t0 = Date()
        log("generating the synthetic speech-commands corpus in \(folder) (espeak-ng, seed \(settings.seed))")
        let root = URL(fileURLWithPath: folder)
        try clearGeneratedFolder(root, stamp: stampName, format: "synthetic_speech_commands", instead: "speech_commands")
        var rng = RNG(seed: settings.seed)
        var voices = accents.flatMap { a in variants.map { (a, $0) } }
        rng.shuffle(&voices)
        if let n = settings.voices { voices = Array(voices.prefix(max(1, n))) }
        let nTest = Int((Double(voices.count) * settings.testVoices).rounded()), nDev = Int((Double(voices.count) * settings.devVoices).rounded())
        // Plan every clip first (deterministic), then render on both cores.
        struct Clip { var word: String; var label: String; var voice: String; var pitch: Int; var rate: Int; var split: Split; var name: String; var seed: UInt64 }
        var clips: [Clip] = []
        for (vi, v) in voices.enumerated() {
            let split: Split = vi < nTest ? .test : (vi < nTest + nDev ? .dev : .train)
            let voice = "\(v.0)+\(v.1)"
            let speaker = String(format: "v%03d", vi)
            var words: [(String, String)] = []
            for w in commands { for _ in 0..<settings.repetitions { words.append((w, w)) } }
            for _ in 0..<settings.unknownPerVoice { words.append((others[rng.int(below: others.count)], "_unknown_")) }
            for _ in 0..<settings.silencePerVoice { words.append(("", "_silence_")) }
            var counter: [String: Int] = [:]
            for (w, label) in words {
                let n = counter[label, default: 0]
                counter[label] = n + 1
                clips.append(Clip(word: w, label: label, voice: voice, pitch: 25 + rng.int(below: 50), rate: 120 + rng.int(below: 80),
                                  split: split, name: "\(label)/\(speaker)_nohash_\(n).wav", seed: rng.next()))
            }
        }
        for label in commands + ["_unknown_", "_silence_", "_background_noise_"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(label), withIntermediateDirectories: true)
        }
        try render(clips.count, espeak: espeak, what: "synthetic corpus") { i in
            clips[i].word.isEmpty ? nil : (["-v", clips[i].voice, "-p", "\(clips[i].pitch)", "-s", "\(clips[i].rate)"], clips[i].word)
        } write: { i, speech in
            var r = RNG(seed: clips[i].seed)
            let clip = place(speech, rng: &r, minSNR: settings.minSNR, maxSNR: settings.maxSNR)
            try AudioFile.write(Audio(samples: clip, sampleRate: 16000), to: root.appendingPathComponent(clips[i].name).path)
        }
        var noiseRNG = RNG(seed: settings.seed &+ 99)
        for (name, noise) in [("white_noise.wav", Augmenter.whiteNoise(count: 16000 * 10, rng: &noiseRNG)),
                              ("pink_noise.wav", Augmenter.pinkNoise(count: 16000 * 10, rng: &noiseRNG))] {
            try AudioFile.write(Audio(samples: normalise(noise, peak: 0.3), sampleRate: 16000),
                                to: root.appendingPathComponent("_background_noise_/" + name).path)
        }
        let lists = [(Split.dev, "validation_list.txt"), (.test, "testing_list.txt")]
        for (split, file) in lists {
            try AtomicFile.write(clips.filter { $0.split == split }.map(\.name).joined(separator: "\n") + "\n", to: root.appendingPathComponent(file))
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try enc.encode(settings), to: stamp)
        log(String(format: "generated %d clips from %d voices (%d dev, %d test voices) in %.1f s", clips.count, voices.count, nDev, nTest,
                   Date().timeIntervalSince(t0)))
    }

    /// Renders `count` clips on every thread: `speak(i)` gives clip i's espeak-ng options and text
    /// (nil: no speech), `write(i, speech)` receives its speech at 16 kHz, trimmed (empty when
    /// none), and writes the clip. The first failure is thrown, naming `what`.
    package static func render(_ count: Int, espeak: String, what: String, speak: (Int) -> (options: [String], text: String)?,
                               write: (Int, [Float]) throws -> Void) throws {
        let resampler = ResamplerCache.shared.resampler(from: 22050, to: 16000)
        var failures = [String?](repeating: nil, count: count)
        failures.withUnsafeMutableBufferPointer { fp in
            let out = fp.baseAddress!
            let workers = max(1, min(Threads.count, count))
            parallelFor(workers) { k in
                let tmp = NSTemporaryDirectory() + "grus-espeak-\(getpid())-\(k).wav"
                for i in stride(from: k, to: count, by: workers) {
                    do {
                        var speech: [Float] = []
                        if let (options, text) = speak(i) {
                            try run(espeak, options + ["-w", tmp, text])
                            let a = try AudioFile.read(tmp)
                            speech = trim(a.sampleRate == 16000 ? a.samples : resampler.process(a.samples))
                        }
                        try write(i, speech)
                    } catch {
                        out[i] = "clip \(i): \(error)"
                    }
                }
                try? FileManager.default.removeItem(atPath: tmp)
            }
        }
        if let f = failures.compactMap({ $0 }).first { throw CorpusError("\(what): \(f)") }
    }

    /// Drops leading and trailing near-silence (below 1% of the peak), keeping 20 ms either side.
    package static func trim(_ x: [Float]) -> [Float] {
        let peak = x.map(abs).max() ?? 0
        guard peak > 0 else { return [] }
        let th = 0.01 * peak
        let first = x.firstIndex { abs($0) > th } ?? 0, last = x.lastIndex { abs($0) > th } ?? x.count - 1
        return Array(x[max(0, first - 320)...min(x.count - 1, last + 320)])
    }

    /// One second: the word at a random offset (cropped if longer), scaled to a random level,
    /// plus white or pink noise at a random SNR (noise alone for silence).
    package static func place(_ speech: [Float], rng: inout RNG, minSNR: Double, maxSNR: Double) -> [Float] {
        let n = 16000
        var clip = [Float](repeating: 0, count: n)
        let s = speech.count > n ? Array(speech.prefix(n)) : speech
        if !s.isEmpty {
            let offset = rng.int(below: n - s.count + 1)
            let level = normalise(s, peak: Float(0.3 + 0.6 * rng.uniformDouble()))
            for i in 0..<s.count { clip[offset + i] = level[i] }
        }
        let noise = rng.int(below: 2) == 0 ? Augmenter.whiteNoise(count: n, rng: &rng) : Augmenter.pinkNoise(count: n, rng: &rng)
        if s.isEmpty { return normalise(noise, peak: Float(0.01 + 0.2 * rng.uniformDouble())) }
        return Augmenter.mix(clip, noise, snrDb: minSNR + (maxSNR - minSNR) * rng.uniformDouble())
    }

    package static func normalise(_ x: [Float], peak: Float) -> [Float] {
        let m = x.map(abs).max() ?? 0
        return m > 0 ? x.map { $0 * peak / m } : x
    }

    package static func findExecutable(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    package static func run(_ exe: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CorpusError("\(exe) \(args.joined(separator: " ")) exited with \(p.terminationStatus)") }
    }
}
