import Foundation
import GrusAudio
import GrusCore

/// Google Speech Commands: a folder per word, the split from the file-name hash (Warden's
/// validation and testing lists), optionally the 12-class protocol.
public enum SpeechCommandsFormat: CorpusFormat {
    public static let name = "speech_commands"
    public static let inputs: FrontEndType? = .audio
    public static var keys: [String: Field] { CorpusKeys.merged(CorpusKeys.audio, CorpusKeys.twelveClass) }

    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        var (items, bad) = try CorpusReader.speechCommands(c.path)
        if c.twelveClass {
            let (twelve, skipped) = try twelveClass(items, c, context)
            items = twelve
            bad += skipped
        }
        return (items, bad)
    }

    /// The 12-class protocol: the command words, the other words as `_unknown_`, and `_silence_`
    /// clips (one per class share) cut from `_background_noise_`, written once to the scratch
    /// folder and split 80/10/10.
    static func twelveClass(_ items: [Item], _ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        let words = Set(c.words)
        var out = items.filter { $0.label != "_silence_" }.map { item -> Item in
            var i = item
            if !words.contains(i.label) { i.label = "_unknown_" }
            return i
        }
        let noiseDir = (c.path as NSString).appendingPathComponent("_background_noise_")
        guard FileManager.default.fileExists(atPath: noiseDir) else {
            throw CorpusError("\(noiseDir): the 12-class protocol cuts _silence_ from this folder; it is missing")
        }
        let rate = context.sampleRate > 0 ? context.sampleRate : try AudioRates.native(of: items).rate
        let (clips, skipped) = try Augmenter.loadNoiseFolder(noiseDir, sampleRate: rate)
        let bad = skipped.map { BadInput(origin: $0.path, reason: $0.description) }
        guard !clips.isEmpty else { throw CorpusError("\(noiseDir): no readable noise clips for _silence_") }
        let perClass = max(1, out.count / (words.count + 1))
        let folder = context.scratch.appendingPathComponent("silence-\(rate)")
        var rng = RNG(seed: UInt64(context.seed) &+ 12)
        for k in 0..<perClass {
            let clip = clips[rng.int(below: clips.count)]
            let piece = Augmenter.segment(of: clip, count: rate, rng: &rng)
            let gain = Float(pow(10, -2 * rng.uniformDouble()))   // 0 to -40 dB
            let url = folder.appendingPathComponent("silence_\(k).wav")
            if !FileManager.default.fileExists(atPath: url.path) {
                try AudioFile.write(Audio(samples: piece.map { $0 * gain }, sampleRate: rate), to: url.path)
            }
            let r = rng.uniformDouble()
            out.append(Item(input: url.path, label: "_silence_", split: r < 0.8 ? .train : (r < 0.9 ? .dev : .test), origin: url.path))
        }
        return (out, bad)
    }
}

/// The rate audio was recorded at, from file headers.
public enum AudioRates {
    /// The most common rate among up to `sample` training files (evenly spread; every file when
    /// fewer), and one file at that rate. Unreadable files are left to the features stage.
    public static func native(of items: [Item], sample: Int = 256) throws -> (rate: Int, example: String) {
        let pool = items.filter { $0.split == .train }.isEmpty ? items : items.filter { $0.split == .train }
        guard !pool.isEmpty else { throw CorpusError("no audio to find the native sample rate from") }
        let step = max(1, pool.count / sample)
        var counts: [Int: (n: Int, file: String)] = [:]
        for i in stride(from: 0, to: pool.count, by: step) {
            guard let info = try? AudioFile.info(pool[i].input), info.sampleRate > 0 else { continue }
            counts[info.sampleRate, default: (0, pool[i].input)].n += 1
        }
        guard let best = counts.max(by: { ($0.value.n, $1.key) < ($1.value.n, $0.key) }) else {
            throw CorpusError("\(pool[0].input): no readable audio header among \(min(sample, pool.count)) training files")
        }
        return (best.key, best.value.file)
    }
}
