import GrusCore

/// The Free Spoken Digit Dataset: `DIGIT_SPEAKER_INDEX.wav` files; the official split (index 0-4
/// is test) or one speaker held out.
public enum FSDDFormat: CorpusFormat {
    public static let name = "fsdd"
    public static let inputs: FrontEndType? = .audio
    public static var keys: [String: Field] { CorpusKeys.merged(CorpusKeys.audio, CorpusKeys.speakerSplit) }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try CorpusReader.fsdd(c.path, testSpeaker: c.split == .speaker ? c.testSpeaker : nil)
    }
}
