import GrusCore

/// Headerless `text<TAB>label` lines (or `label<TAB>text`, corpus.order).
public enum TextPairsFormat: CorpusFormat {
    public static let name = "text_pairs"
    public static let inputs: FrontEndType? = .text
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.textFiles, ["order": .choice(TextPairOrder.textLabel, "headerless text pairs: column order")])
    }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try readText(c, context, .textPairs)
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}
