import Foundation
import GrusCore

/// Connected digits spoken by espeak-ng voices, made in corpus.path on first use
/// (`SyntheticDigits`): transcripts such as "3 1 4", split by voice.
public enum SyntheticDigitsFormat: CorpusFormat {
    public static let name = "synthetic_digits"
    public static let inputs: FrontEndType? = .audio
    public static let generated = true
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.audio, [
            "voices": .choice(SyntheticVoiceSet.standard, "synthetic_digits: standard = 8 English accents × 12 espeak-ng variants (96 voices); wide = × 83 variants (664 voices), many more formant shapes"),
            "strings_per_voice": .int(40, min: 1, max: 1000, "synthetic_digits: digit strings spoken by each voice"),
        ])
    }

    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try made(c.path, SyntheticDigits.Settings(c, seed: context.seed), log: context.log)
    }

    /// The corpus in `folder`, made first when it is missing or was made with other settings.
    static func made(_ folder: String, _ settings: SyntheticDigits.Settings, log: (String) -> Void) throws -> (items: [Item], bad: [BadInput]) {
        try CorpusLocks.process.using(folder, current: { SyntheticDigits.isCurrent(folder, settings) }, log: log) {
            try SyntheticDigits.ensure(folder, settings: settings, log: log)
        }
        return try CorpusReader.manifest((folder as NSString).appendingPathComponent(SyntheticDigits.manifestName),
                                         inputColumn: "path", labelColumn: "label", splitColumn: "split", audio: true)
    }
}

extension SyntheticDigits.Settings {
    /// The generator's settings for a `synthetic_digits` corpus section.
    public init(_ c: CorpusSettings, seed: Int) {
        self.init()
        self.seed = UInt64(seed)
        stringsPerVoice = c.stringsPerVoice
        if c.voices == .wide { variants = SyntheticDigits.wideVariants }
    }
}
