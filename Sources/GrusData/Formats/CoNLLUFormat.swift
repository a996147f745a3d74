import GrusCore

/// CoNLL-U (Universal Dependencies): a tag per word from one column.
public enum CoNLLUFormat: CorpusFormat {
    public static let name = "conllu"
    public static let inputs: FrontEndType? = .text
    public static let tagged = true
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.textFiles, ["conllu_column": .choice(CoNLLUColumn.upos, "CoNLL-U: the column whose tags are learnt")])
    }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try c.readSplitFiles(context.onlySplit) { p, split in
            try CorpusReader.conllu(p, column: c.conlluColumn, split: split, invalidUTF8: c.onInvalidUtf8)
        }
    }
    public static func isOneSplit(_ path: String) -> Bool { isRegularFile(path) }
}
