import GrusCore

/// JSON lines `{"tokens": [...], "tags": [...]}` (and optionally "label").
public enum TaggedJSONLFormat: CorpusFormat {
    public static let name = "tagged_jsonl"
    public static let inputs: FrontEndType? = .text
    public static let tagged = true
    public static var keys: [String: Field] { CorpusKeys.textFiles }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try c.readSplitFiles(context.onlySplit) { p, split in try CorpusReader.taggedJSONL(p, split: split, invalidUTF8: c.onInvalidUtf8) }
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}
