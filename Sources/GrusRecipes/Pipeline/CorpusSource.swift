import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusInference
import GrusTasks

/// Reads a corpus as a recipe's `corpus` section describes it: the one corpus dispatch, used by
/// the prepare stage of `grus run` and by `grus eval`.
public struct CorpusSource {
    let corpus: Recipe.Corpus
    let frontEnd: FrontEndType
    let seed: Int
    /// The feature rate asked for (0: native); the 12-class protocol cuts `_silence_` at it.
    let sampleRate: Int
    /// Folder for generated pieces (cache/silence of the 12-class protocol).
    let scratch: URL
    /// Tagging: the span scheme the model learns (tags are converted to it as they are read).
    let tagScheme: TagScheme?
    /// Whether a carved dev split keeps each label's share (classes), or is drawn at random (transcripts).
    let stratifiedDev: Bool

    /// `scratch` (default: a temporary folder) receives generated pieces such as 12-class silence clips.
    public init(_ recipe: Recipe, scratch: URL = FileManager.default.temporaryDirectory.appendingPathComponent("grus-corpus")) {
        corpus = recipe.corpus
        frontEnd = recipe.frontend.type
        seed = recipe.experiment.seed
        sampleRate = recipe.frontend.audio.sampleRate
        self.scratch = scratch
        tagScheme = recipe.model.head.tagScheme.scheme
        stratifiedDev = recipe.task != TranscribeTask.name
    }

    /// Every item with its split, and the inputs that could not be used. `onlySplit`: `path` is one
    /// split's file (a text file or manifest), read as that split.
    public func read(onlySplit: Split? = nil, log: (String) -> Void = { _ in }) throws -> (items: [Item], bad: [BadInput]) {
        let c = corpus
        var items: [Item] = [], bad: [BadInput] = []
        switch c.format {
        case .fsdd:
            (items, bad) = try CorpusReader.fsdd(c.path, testSpeaker: c.split == .speaker ? c.testSpeaker : nil)
        case .speechCommands, .syntheticSpeechCommands:
            if c.format == .syntheticSpeechCommands {
                var settings = SyntheticSpeechCommands.Settings()
                settings.seed = UInt64(seed)
                try CorpusLocks.process.using(c.path, current: { SyntheticSpeechCommands.isCurrent(c.path, settings) }, log: log) {
                    try SyntheticSpeechCommands.ensure(c.path, settings: settings, log: log)
                }
            }
            (items, bad) = try CorpusReader.speechCommands(c.path)
            if c.twelveClass {
                let (twelve, skipped) = try twelveClass(items)
                items = twelve
                bad += skipped
            }
        case .syntheticDigits:
            let settings = SyntheticDigits.Settings(c, seed: seed)
            try CorpusLocks.process.using(c.path, current: { SyntheticDigits.isCurrent(c.path, settings) }, log: log) {
                try SyntheticDigits.ensure(c.path, settings: settings, log: log)
            }
            (items, bad) = try CorpusReader.manifest((c.path as NSString).appendingPathComponent(SyntheticDigits.manifestName),
                                                     inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true)
        case .fsddDigits:
            var settings = FSDDDigits.Settings()
            settings.source = c.source
            try CorpusLocks.process.using(c.path, current: { FSDDDigits.isCurrent(c.path, settings) }, log: log) {
                try FSDDDigits.ensure(c.path, settings: settings, log: log)
            }
            (items, bad) = try CorpusReader.manifest((c.path as NSString).appendingPathComponent(FSDDDigits.manifestName),
                                                     inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true)
            if c.split == .speaker {
                // One speaker's strings (from all its recordings) are the test; the others' training strings train.
                guard items.contains(where: { $0.speaker == c.testSpeaker }) else {
                    throw CorpusError("\(c.path): no strings of speaker '\(c.testSpeaker)'")
                }
                items = items.compactMap { i in
                    var i = i
                    if i.speaker == c.testSpeaker { i.split = .test; return i }
                    return i.split == .train ? i : nil
                }
            }
            if !c.syntheticDigits.isEmpty && onlySplit == nil {
                // Many more voices to learn from: every synthetic string trains.
                var settings = SyntheticDigits.Settings()
                settings.seed = 1
                try CorpusLocks.process.using(c.syntheticDigits, current: { SyntheticDigits.isCurrent(c.syntheticDigits, settings) }, log: log) {
                    try SyntheticDigits.ensure(c.syntheticDigits, settings: settings, log: log)
                }
                let synthetic = try CorpusReader.manifest((c.syntheticDigits as NSString).appendingPathComponent(SyntheticDigits.manifestName),
                                                          inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true)
                items += synthetic.items.map { var i = $0; i.split = .train; return i }
                bad += synthetic.bad
            }
        case .manifest:
            (items, bad) = try CorpusReader.manifest(c.path, inputColumn: frontEnd == .audio ? c.pathColumn : c.textColumn,
                                                     labelColumn: c.labelColumn, splitColumn: c.splitColumn, audio: frontEnd == .audio)
            if let s = onlySplit { items = items.map { var i = $0; i.split = s; return i } }
        case .conllu, .conll, .seqIn, .taggedJSONL, .textTSV, .textPairs, .fasttext, .trec:
            for (p, split) in try splitFiles(onlySplit) {
                let r: (items: [Item], bad: [BadInput])
                switch c.format {
                case .conllu: r = try CorpusReader.conllu(p, column: c.conlluColumn, split: split, invalidUTF8: c.onInvalidUtf8)
                case .conll: r = try CorpusReader.conll(p, tokenColumn: c.tokenIndex, tagColumn: c.tagIndex, split: split, invalidUTF8: c.onInvalidUtf8)
                case .seqIn: r = try CorpusReader.seqIn(p, split: split)
                case .taggedJSONL: r = try CorpusReader.taggedJSONL(p, split: split)
                default:
                    r = try CorpusReader.textFile(p, split: split, format: c.format.textFormat!, textColumn: c.textColumn,
                                                  labelColumn: c.labelColumn, order: c.order, trecLabel: c.trecLabel, invalidUTF8: c.onInvalidUtf8)
                }
                items += r.items; bad += r.bad
            }
        }
        if frontEnd == .audio && c.longAudio == .split && c.maxSeconds > 0 { items = splitLongAudio(items) }
        if let scheme = tagScheme { items = try convertTags(items, to: scheme) }
        if onlySplit == nil { items = CorpusReader.carveDev(items, fraction: c.devFraction, seed: UInt64(seed), stratified: stratifiedDev) }
        return (items, bad)
    }

    /// Every item's tags in `scheme` (model.head.tag_scheme). Only span tags convert: a plain tag
    /// such as a part of speech is an error naming its sentence.
    func convertTags(_ items: [Item], to scheme: TagScheme) throws -> [Item] {
        try items.map { item in
            guard let tags = item.tags else { return item }
            if let t = tags.first(where: { !TagScheme.isSpanTag($0) }) {
                throw CorpusError("\(item.origin): tag '\(t)' is not a span tag (O, or B-, I-, E-, S- and a type); model.head.tag_scheme converts span tags only, so leave it as_read for these tags")
            }
            var out = item
            out.tags = scheme.convert(tags)
            return out
        }
    }

    /// The files (or seq_in folders) of a text corpus and their splits: corpus.train/dev/test inside
    /// corpus.path, or with `onlySplit`, corpus.path itself as that split. A named dev or test
    /// file that is missing is an error (the training file's absence is the reader's to report).
    func splitFiles(_ onlySplit: Split?) throws -> [(String, Split)] {
        if let s = onlySplit { return [(corpus.path, s)] }
        let named: [(String, Split)] = [(corpus.train, .train), (corpus.dev, .dev), (corpus.test, .test)]
        return try named.filter { !$0.0.isEmpty }.map { name, split in
            let p = (corpus.path as NSString).appendingPathComponent(name)
            if split != .train && !FileManager.default.fileExists(atPath: p) {
                throw CorpusError("\(p): not found; set corpus.\(split.rawValue) to the \(split.rawValue) file (or folder), or '' for none")
            }
            return (p, split)
        }
    }

    /// The 12-class protocol: the command words keep their labels, every other word becomes
    /// `_unknown_`, and `_silence_` examples are one-second stretches cut (at random gains) from
    /// `_background_noise_`, written once to the scratch folder and split 80/10/10.
    func twelveClass(_ items: [Item]) throws -> (items: [Item], bad: [BadInput]) {
        let words = Set(corpus.words)
        var out = items.filter { $0.label != "_silence_" }.map { item -> Item in
            var i = item
            if !words.contains(i.label) { i.label = "_unknown_" }
            return i
        }
        let noiseDir = (corpus.path as NSString).appendingPathComponent("_background_noise_")
        guard FileManager.default.fileExists(atPath: noiseDir) else {
            throw CorpusError("\(noiseDir): the 12-class protocol cuts _silence_ from this folder; it is missing")
        }
        let rate = sampleRate > 0 ? sampleRate : try AudioRates.native(of: items).rate
        let (clips, skipped) = try Augmenter.loadNoiseFolder(noiseDir, sampleRate: rate)
        let bad = skipped.map { BadInput(origin: $0.path, reason: $0.description) }
        guard !clips.isEmpty else { throw CorpusError("\(noiseDir): no readable noise clips for _silence_") }
        let perClass = max(1, out.count / (words.count + 1))
        let folder = scratch.appendingPathComponent("silence-\(rate)")
        var rng = RNG(seed: UInt64(seed) &+ 12)
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

    /// Audio longer than max_seconds becomes one example per max_seconds stretch (the last one
    /// kept if it holds at least half a stretch). Only headers are read here.
    func splitLongAudio(_ items: [Item]) -> [Item] {
        let limit = corpus.maxSeconds
        var out: [Item] = []
        for item in items {
            guard let info = try? AudioFile.info(item.input), info.sampleRate > 0 else { out.append(item); continue }
            let seconds = Double(info.frames) / Double(info.sampleRate)
            if seconds <= limit { out.append(item); continue }
            let whole = Int(seconds / limit), rest = seconds - Double(whole) * limit
            for k in 0..<(whole + (rest >= limit / 2 ? 1 : 0)) {
                var s = item
                s.segment = k
                s.origin = "\(item.origin)#\(k)"
                out.append(s)
            }
        }
        return out
    }
}

/// The rate audio was recorded at, from file headers.
enum AudioRates {
    /// The most common rate among up to `sample` training files (evenly spread; every file when
    /// fewer), and one file at that rate. Unreadable files are left to the features stage.
    static func native(of items: [Item], sample: Int = 256) throws -> (rate: Int, example: String) {
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

extension SyntheticDigits.Settings {
    /// The generator's settings for a `synthetic_digits` corpus of a recipe.
    public init(_ c: Recipe.Corpus, seed: Int) {
        self.init()
        self.seed = UInt64(seed)
        stringsPerVoice = c.stringsPerVoice
        if c.voices == .wide { variants = SyntheticDigits.wideVariants }
    }
}
