import Foundation
import GrusCore

/// How a corpus is laid out (`corpus.format`): its reader and the corpus keys it reads. One type
/// per format, one file each, registered in `CorpusFormats.all`.
public protocol CorpusFormat {
    /// The recipe's `corpus.format` value.
    static var name: String { get }
    /// What its inputs are (nil: either, as a manifest names its column).
    static var inputs: FrontEndType? { get }
    /// Whether it gives a tag per token.
    static var tagged: Bool { get }
    /// Whether Grus makes the corpus in corpus.path on first use (the path need not exist).
    static var generated: Bool { get }
    /// The corpus keys it reads beside `CorpusKeys.common`, declared once (shared ones come from `CorpusKeys`).
    static var keys: [String: Field] { get }
    /// Every item with its split (`context.onlySplit`: corpus.path is that one split's file),
    /// and the inputs that could not be used.
    static func read(_ c: CorpusSettings, _ context: CorpusContext) throws -> (items: [Item], bad: [BadInput])
    /// Whether `path` is one split's file (or folder) rather than a whole corpus.
    static func isOneSplit(_ path: String) -> Bool
    /// Paths the settings name that must exist before a run (key, problem).
    static func missingPaths(_ c: CorpusSettings, fileExists: (String) -> Bool) -> [(key: String, message: String)]
}

extension CorpusFormat {
    public static var tagged: Bool { false }
    public static var generated: Bool { false }
    public static func isOneSplit(_ path: String) -> Bool { false }
    public static func missingPaths(_ c: CorpusSettings, fileExists: (String) -> Bool) -> [(key: String, message: String)] {
        guard !generated, !fileExists(c.path) else { return [] }
        return [("corpus.path", "'\(c.path)' does not exist; point it at the corpus (e.g. --set corpus.path=DIR)")]
    }
}

/// What a reader needs beside the corpus settings.
public struct CorpusContext {
    /// The recipe's front end (a manifest reads its path or its text column by it).
    public var inputs: FrontEndType
    public var seed: Int
    /// The feature rate asked for (0: native); the 12-class protocol cuts `_silence_` at it.
    public var sampleRate: Int
    /// Folder for generated pieces (the 12-class protocol's silence clips).
    public var scratch: URL
    public var onlySplit: Split?
    public var log: (String) -> Void

    public init(inputs: FrontEndType, seed: Int, sampleRate: Int, scratch: URL, onlySplit: Split?, log: @escaping (String) -> Void) {
        (self.inputs, self.seed, self.sampleRate, self.scratch, self.onlySplit, self.log) = (inputs, seed, sampleRate, scratch, onlySplit, log)
    }
}

/// What a corpus's inputs are, and the front end that reads them.
public enum FrontEndType: String, Codable, Sendable, CaseIterable { case audio, text }

/// The registered corpus formats.
public enum CorpusFormats {
    public static let all: [any CorpusFormat.Type] = [
        SyntheticSpeechCommandsFormat.self, SyntheticDigitsFormat.self, FSDDDigitsFormat.self, SpeechCommandsFormat.self,
        FSDDFormat.self, ManifestFormat.self, TextTSVFormat.self, TextPairsFormat.self, FastTextFormat.self, TRECFormat.self,
        CoNLLUFormat.self, CoNLLFormat.self, SeqInFormat.self, TaggedJSONLFormat.self,
    ]

    public static var names: [String] { all.map { $0.name } }
    public static func named(_ name: String) -> (any CorpusFormat.Type)? { all.first { $0.name == name } }
    public static var tagged: [String] { all.filter { $0.tagged }.map { $0.name } }

    /// Every corpus key: the common ones and each format's own.
    public static var keys: [String: Field] {
        all.reduce(CorpusKeys.common) { CorpusKeys.merged($0, $1.keys) }
    }
}
