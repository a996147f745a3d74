import GrusCore

/// TREC question classification: `COARSE:fine text` lines.
public enum TRECFormat: CorpusFormat {
    public static let name = "trec"
    public static let inputs: FrontEndType? = .text
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.textFiles, ["trec_label": .choice(TRECLabel.coarse, "TREC: coarse or fine labels")])
    }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try readText(c, context, .trec)
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}
