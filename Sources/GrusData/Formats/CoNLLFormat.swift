import GrusCore

/// Whitespace-separated columns, a token per line and a blank line between sentences (CoNLL-2000,
/// CoNLL-2003); corpus.token_index and tag_index pick the columns.
public enum CoNLLFormat: CorpusFormat {
    public static let name = "conll"
    public static let inputs: FrontEndType? = .text
    public static let tagged = true
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.textFiles, [
            "token_index": .int(0, min: -64, max: 64, "CoNLL columns: the token's column (0-based; negative counts from the end)"),
            "tag_index": .int(-1, min: -64, max: 64, "CoNLL columns: the tag's column (0-based; negative counts from the end)"),
        ])
    }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try c.readSplitFiles(context.onlySplit) { p, split in
            try CorpusReader.conll(p, tokenColumn: c.tokenIndex, tagColumn: c.tagIndex, split: split, invalidUTF8: c.onInvalidUtf8)
        }
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}
