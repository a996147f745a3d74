import GrusCore

/// A CSV, TSV or JSON-lines manifest: an audio path (or a text), a label and optionally a split
/// and a speaker per row.
public enum ManifestFormat: CorpusFormat {
    public static let name = "manifest"
    public static let inputs: FrontEndType? = nil
    public static var keys: [String: Field] {
        CorpusKeys.merged(CorpusKeys.audio, CorpusKeys.textColumn, CorpusKeys.labelColumn, [
            "path_column": Field(.string, default: "path", "manifest column with the audio path (relative to the manifest)"),
            "split_column": Field(.string, default: "split", "manifest column with train/dev/test (optional)"),
        ])
    }
    public static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput]) {
        let audio = context.inputs == .audio
        var (items, bad) = try CorpusReader.manifest(c.path, inputColumn: audio ? c.pathColumn : c.textColumn,
                                                     labelColumn: c.labelColumn, splitColumn: c.splitColumn, audio: audio)
        if let s = context.onlySplit { items = items.map { var i = $0; i.split = s; return i } }
        return (items, bad)
    }
}
