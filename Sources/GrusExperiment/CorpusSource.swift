import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain

/// Reads a corpus as a recipe's `corpus` section describes it: the one corpus dispatch, used by
/// the prepare stage of `grus run` and by `grus eval`.
public struct CorpusSource {
    package let corpus: Recipe.Corpus
    package let frontEnd: FrontEndType
    package let seed: Int
    /// The feature rate asked for (0: native); the 12-class protocol cuts `_silence_` at it.
    package let sampleRate: Int
    /// Folder for generated pieces (cache/silence of the 12-class protocol).
    package let scratch: URL
    /// Tagging: the span scheme the model learns (tags are converted to it as they are read).
    package let tagScheme: TagScheme?
    /// Whether a carved dev split keeps each label's share (classes), or is drawn at random (transcripts).
    package let stratifiedDev: Bool
    /// Whether the test split is read. Without it, a format's test file is not opened and its test
    /// items are dropped before any of their audio is touched.
    package let readsTest: Bool

    /// `scratch` (default: a temporary folder) receives generated pieces such as 12-class silence
    /// clips. `test: false` leaves the test split unread.
    public init(_ recipe: Recipe, scratch: URL = FileManager.default.temporaryDirectory.appendingPathComponent("grus-corpus"), test: Bool = true) {
        readsTest = test
        corpus = recipe.corpus
        frontEnd = recipe.frontend.type
        seed = recipe.experiment.seed
        sampleRate = recipe.frontend.audio.sampleRate
        self.scratch = scratch
        tagScheme = recipe.model.head.tagScheme.scheme
        stratifiedDev = Tasks.named(recipe.task)?.info.stratifiedDev ?? true
    }

    /// Every item with its split, and the inputs that could not be used. `onlySplit`: `path` is one
    /// split's file (a text file or manifest), read as that split.
    public func read(onlySplit: Split? = nil, log: @escaping (String) -> Void = { _ in }) throws -> (items: [Item], bad: [BadInput]) {
        guard let format = CorpusFormats.named(corpus.format) else {
            throw CorpusError("corpus.format '\(corpus.format)' is not one of \(CorpusFormats.names.joined(separator: ", "))")
        }
        let context = CorpusContext(inputs: frontEnd, seed: seed, sampleRate: sampleRate, scratch: scratch, onlySplit: onlySplit, log: log)
        var settings = corpus
        let skipTest = !readsTest && onlySplit == nil
        if skipTest && format.keys["test"] != nil { settings.test = "" }
        var (items, bad) = try format.read(settings, context)
        if skipTest {
            let n = items.count
            items.removeAll { $0.split == .test }
            log("the test split is left unread" + (n > items.count ? " (\(n - items.count) items)" : ""))
        }
        if frontEnd == .audio && corpus.longAudio == .split && corpus.maxSeconds > 0 { items = splitLongAudio(items) }
        if let scheme = tagScheme { items = try convertTags(items, to: scheme) }
        if onlySplit == nil { items = CorpusReader.carveDev(items, fraction: corpus.devFraction, seed: UInt64(seed), stratified: stratifiedDev) }
        return (items, bad)
    }

    /// Every item's tags in `scheme` (model.head.tag_scheme). Only span tags convert: a plain tag
    /// such as a part of speech is an error naming its sentence.
    package func convertTags(_ items: [Item], to scheme: TagScheme) throws -> [Item] {
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

    /// Audio longer than max_seconds becomes one example per max_seconds stretch (the last one
    /// kept if it holds at least half a stretch). Only headers are read here.
    package func splitLongAudio(_ items: [Item]) -> [Item] {
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
