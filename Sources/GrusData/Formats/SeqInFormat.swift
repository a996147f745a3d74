import Foundation
import GrusCore

/// A folder per split holding `seq.in` (tokens), `seq.out` (a tag per token) and `label` (the
/// intent), as ATIS and SNIPS are distributed for joint intent + slot filling.
public enum SeqInFormat: CorpusFormat {
    public static let name = "seq_in"
    public static let inputs: FrontEndType? = .text
    public static let tagged = true
    public static var keys: [String: Field] { CorpusKeys.textFiles }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        try c.readSplitFiles(context.onlySplit) { p, split in try CorpusReader.seqIn(p, split: split, invalidUTF8: c.onInvalidUtf8) }
    }
    public static func isOneSplit(_ path: String) -> Bool { FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("seq.in")) }
}
