import GrusCore

/// Text files with a header line naming the columns (`sentence<TAB>label`, GLUE's layout).
public enum TextTSVFormat: CorpusFormat {
    public static let name = "text_tsv"
    public static let inputs: FrontEndType? = .text
    public static var keys: [String: Field] { CorpusKeys.merged(CorpusKeys.textFiles, CorpusKeys.textColumn, CorpusKeys.labelColumn) }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try readText(c, context, .textTSV)
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}

/// The labelled text files of a corpus in one of the text layouts.
package func readText(_ c: CorpusSettings, _ context: CorpusContext, _ format: TextFormat) throws -> (items: [Item], bad: [BadInput]) {
    try c.readSplitFiles(context.onlySplit) { p, split in
        try CorpusReader.textFile(p, split: split, format: format, textColumn: c.textColumn, labelColumn: c.labelColumn, order: c.order,
                                  trecLabel: c.trecLabel, invalidUTF8: c.onInvalidUtf8)
    }
}
