import Foundation
import GrusAudio
import GrusCore
import GrusData
import GrusInference
import GrusTasks
import GrusRecipes
import GrusReports
import GrusTrain
import GrusText

extension AudioSetup {
    /// `rate`: the resolved feature rate. Noise clips for augmentation are loaded here; clips that
    /// cannot be read are returned as bad inputs.
    package static func make(_ a: Recipe.AudioFrontEnd, rate: Int, maxSeconds: Double, recipeFile: String) throws -> (AudioSetup, [BadInput]) {
        let options = a.featureOptions(rate: rate)
        let problems = options.problems()
        guard problems.isEmpty else {
            throw RecipeError(issues: problems.map { RecipeIssue(file: recipeFile, keyPath: Recipe.AudioFrontEnd.key(of: $0.field), message: $0.message) })
        }
        let frontEnd = try AudioFrontEnd(options)
        let aug = a.augment.options
        var clips: [[Float]] = [], bad: [BadInput] = []
        if aug.noise?.source == .clips {
            let (loaded, skipped) = try Augmenter.loadNoiseFolder(a.augment.noiseFolder, sampleRate: rate)
            clips = loaded
            bad = skipped.map { BadInput(origin: $0.path, reason: $0.description) }
            guard !clips.isEmpty else { throw CorpusError("\(a.augment.noiseFolder): no readable noise clips") }
        }
        let active = aug.specAugment != nil || aug.noise != nil || aug.speeds != nil || aug.maxShiftMs != nil || aug.vtlp != nil
        return (AudioSetup(frontEnd: frontEnd, augmenter: active ? Augmenter(aug, sampleRate: rate, noiseClips: clips) : nil,
                           maxSeconds: maxSeconds, cmvn: a.cmvn), bad)
    }

    /// Decodes and extracts a chunk of files at a time on `Threads.count` threads; each chunk's
    /// features are appended to the store file and dropped, so memory does not grow with the
    /// corpus. Global CMVN statistics accumulate over the training split as the chunks pass;
    /// speaker CMVN statistics over each speaker's utterances in each split.
    /// `cropped` counts files longer than `maxSeconds` whose start alone was used.
    package func extract(_ items: [Item], to url: URL) throws -> (examples: [Example], bad: [BadInput], store: FeatureStore, cmvn: CMVNStats?, cropped: Int) {
        let dimension = frontEnd.options.dimension
        let writer = try FeatureStore.Writer(url, dimension: dimension)
        var stats = CMVNStats(dimension: dimension)
        stats.relativeFloor = 0.1
        var kept: [Example] = [], bad: [BadInput] = []
        var speakers: [String: CMVNStats] = [:], groups: [String] = []
        var cropped = 0
        let chunk = 16
        do {
            for start in stride(from: 0, to: items.count, by: chunk) {
                let part = Array(items[start..<min(start + chunk, items.count)])
                var results = [Result<Tensor, Error>?](repeating: nil, count: part.count)
                var longer = [Bool](repeating: false, count: part.count)
                results.withUnsafeMutableBufferPointer { rp in
                    longer.withUnsafeMutableBufferPointer { lp in
                        let out = rp.baseAddress!, long = lp.baseAddress!
                        Threads.forEach(part.count) { i in
                            out[i] = Result {
                                frontEnd.extractor.compute(try loadAudio(part[i].input, frontEnd: frontEnd, maxSeconds: maxSeconds, segment: part[i].segment))
                            }
                            if maxSeconds > 0, part[i].segment == nil, let h = try? AudioFile.info(part[i].input) {
                                long[i] = Double(h.frames) > maxSeconds * Double(h.sampleRate)
                            }
                        }
                    }
                }
                cropped += longer.filter { $0 }.count
                for (i, r) in results.enumerated() {
                    switch r! {
                    case let .success(f):
                        kept.append(Example(item: part[i], stored: writer.frames.count, frames: f.shape[0]))
                        try writer.append(f)
                        if cmvn == .global && part[i].split == .train { stats.add(f) }
                        if cmvn == .speaker {
                            let g = SpeakerCMVN.group(part[i])
                            speakers[g, default: SpeakerCMVN.emptyStats(dimension)].add(f)
                            groups.append(g)
                        }
                    case let .failure(err):
                        bad.append(BadInput(origin: part[i].origin, reason: "\(err)"))
                    }
                }
                RunEvents.reach(.featuresChunk)
            }
            let global = cmvn == .global ? stats : nil
            let perSpeaker = cmvn == .speaker ? SpeakerCMVN(stats: speakers, groups: groups) : nil
            return (kept, bad, try writer.commit(cmvn: global, speakerCMVN: perSpeaker), global, cropped)
        } catch {
            writer.file.abort()
            throw error
        }
    }
}

package enum TextFeatures {
    /// Fits the text encoder on the training texts and encodes every item.
    /// Items with `tokens` (tagging corpora) keep one id per token; a long one is cut together
    /// with its tags.
    /// `characters`: also fit a character inventory and give each token its character ids.
    package static func encode(_ items: [Item], settings: TextEncoder.Settings, characters: Bool = false,
                               log: (String) -> Void) -> (examples: [Example], bad: [BadInput], encoder: TextEncoder) {
        let train = items.filter { $0.split == .train }
        let tokenized = !items.isEmpty && items.allSatisfy { $0.tokens != nil }
        var encoder = tokenized ? TextEncoder.fit(tokenized: train.map { $0.tokens! }, settings: settings)
                                : TextEncoder.fit(train.map(\.input), settings: settings)
        if characters {
            encoder.fitCharacters(tokenized: train.map { $0.tokens ?? $0.input.split(whereSeparator: \.isWhitespace).map(String.init) })
            log("text: \(encoder.characters!.count) characters (with <pad> and <unk>) for the character encoder")
        }
        var unknown = 0, truncated = 0, kept: [Example] = [], bad: [BadInput] = []
        for var item in items {
            if tokenized, let m = settings.maxLength, item.tokens!.count > m {
                truncated += 1
                let cut: ([String]) -> [String] = { settings.truncation == .keepStart ? Array($0.prefix(m)) : Array($0.suffix(m)) }
                item.tokens = cut(item.tokens!)
                item.tags = item.tags.map(cut)
            }
            let ids = tokenized ? encoder.encode(tokens: item.tokens!, unknown: &unknown) : encoder.encode(item.input, unknown: &unknown, truncated: &truncated)
            if ids.isEmpty { bad.append(BadInput(origin: item.origin, reason: "no tokens after normalisation")); continue }
            var example = Example(item: item, tokens: ids)
            if characters { example.chars = tokenized ? encoder.characterIDs(tokens: item.tokens!) : encoder.characterIDs(item.input) }
            kept.append(example)
        }
        log("text: vocabulary \(encoder.vocabulary.count) (\(settings.kind.rawValue)), \(unknown) unknown tokens outside training")
        if truncated > 0, let m = settings.maxLength {
            log("text: \(truncated) text(s) longer than frontend.text.max_length (\(m) tokens) were truncated (\(settings.truncation.rawValue))")
        }
        return (kept, bad, encoder)
    }
}
