import GrusCore

/// fastText's `__label__X text` lines.
public enum FastTextFormat: CorpusFormat {
    public static let name = "fasttext"
    public static let inputs: FrontEndType? = .text
    public static var keys: [String: Field] { CorpusKeys.textFiles }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try readText(c, context, .fasttext)
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}
