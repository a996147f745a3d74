import Foundation
import GrusCore
import GrusText

/// A recipe's `corpus` section: which format, where, and the settings its reader takes. The keys
/// are declared in `CorpusKeys` and by each format; field names are the keys in camelCase.
public struct CorpusSettings: Codable, Equatable {
    public var format: String, path: String, source: String, syntheticDigits: String, train: String, dev: String, test: String
    public var devFraction: Double
    public var textColumn: String, pathColumn: String, labelColumn: String, splitColumn: String
    public var order: TextPairOrder, trecLabel: TRECLabel, split: FSDDSplit, testSpeaker: String
    public var twelveClass: Bool, words: [String]
    public var voices: SyntheticVoiceSet, stringsPerVoice: Int
    public var onBadInput: BadInputPolicy, onInvalidUtf8: InvalidUTF8Policy, maxSeconds: Double, longAudio: LongAudioPolicy
    public var conlluColumn: CoNLLUColumn, tokenIndex: Int, tagIndex: Int
}

/// FSDD's split: the official one (index 0-4 is test) or one speaker held out.
public enum FSDDSplit: String, Codable, Sendable, CaseIterable { case official, speaker }

/// What happens to an input that cannot be read or used.
public enum BadInputPolicy: String, Codable, Sendable, CaseIterable { case fail, skip }

/// Audio longer than `corpus.max_seconds`: keep the start, or split it into examples.
public enum LongAudioPolicy: String, Codable, Sendable, CaseIterable { case crop, split }

/// Corpus keys read by every format, or by several; each declared once.
public enum CorpusKeys {
    public static let common: [String: Field] = [
        "format": Field(.choice(CorpusFormats.names), required: true, "how the corpus is laid out"),
        "path": Field(.path, required: true, "corpus folder, or the manifest file (.csv, .tsv, .jsonl)"),
        "dev_fraction": .number(0.1, min: 0, max: 0.5, "share of training data held out when there is no dev split"),
        "on_bad_input": .choice(BadInputPolicy.fail, "stop on the first bad file or line, or skip and list it"),
    ]
    /// Audio corpora.
    public static let audio: [String: Field] = [
        "max_seconds": .number(60, min: 0, max: 86_400, "longer audio is cropped or split (see long_audio), so memory is bounded by this, not by the longest file (0 = no limit)"),
        "long_audio": .choice(LongAudioPolicy.crop, "audio longer than max_seconds: keep the start, or split it into max_seconds examples"),
    ]
    /// Corpora of text files, one per split, inside corpus.path.
    public static let textFiles: [String: Field] = [
        "train": Field(.string, default: "train.tsv", "text corpora: training file (seq_in: folder) inside path"),
        "dev": Field(.string, default: "dev.tsv", "text corpora: development file or folder ('' = carve from train)"),
        "test": Field(.string, default: "", "text corpora: test file or folder ('' = none)"),
        "on_invalid_utf8": .choice(InvalidUTF8Policy.fail, "text lines that are not UTF-8"),
    ]
    public static let textColumn: [String: Field] = ["text_column": Field(.string, default: "sentence", "TSV/manifest column with the text")]
    public static let labelColumn: [String: Field] = ["label_column": Field(.string, default: "label", "TSV/manifest column with the label")]
    /// FSDD recordings, and strings joined from them.
    public static let speakerSplit: [String: Field] = [
        "split": .choice(FSDDSplit.official, "FSDD: official split (index 0-4 test) or a held-out speaker"),
        "test_speaker": Field(.string, default: "", "FSDD with split: speaker, the speaker held out for testing"),
    ]
    /// Speech Commands layouts.
    public static let twelveClass: [String: Field] = [
        "twelve_class": .bool(false, "Speech Commands: the 12-class protocol (words + _unknown_ + _silence_ cut from _background_noise_)"),
        "words": Field(.list(.string), default: ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"],
                       "Speech Commands 12-class protocol: the command words"),
    ]

    /// Several declarations as one.
    public static func merged(_ parts: [String: Field]...) -> [String: Field] {
        parts.reduce(into: [:]) { out, p in out.merge(p) { a, _ in a } }
    }
}

extension CorpusSettings {
    /// The files (or seq_in folders) of a text corpus and their splits: train/dev/test inside
    /// path, or with `onlySplit`, path itself as that split. A named dev or test file that is
    /// missing is an error (the training file's absence is the reader's to report).
    public func splitFiles(_ onlySplit: Split?) throws -> [(String, Split)] {
        if let s = onlySplit { return [(path, s)] }
        let named: [(String, Split)] = [(train, .train), (dev, .dev), (test, .test)]
        return try named.filter { !$0.0.isEmpty }.map { name, split in
            let p = (path as NSString).appendingPathComponent(name)
            if split != .train && !FileManager.default.fileExists(atPath: p) {
                throw CorpusError("\(p): not found; set corpus.\(split.rawValue) to the \(split.rawValue) file (or folder), or '' for none")
            }
            return (p, split)
        }
    }

    /// Reads every split file with `read` (one file, as one split).
    public func readSplitFiles(_ onlySplit: Split?, _ read: (String, Split) throws -> (items: [Item], bad: [BadInput])) throws -> (items: [Item], bad: [BadInput]) {
        var items: [Item] = [], bad: [BadInput] = []
        for (p, split) in try splitFiles(onlySplit) {
            let r = try read(p, split)
            items += r.items; bad += r.bad
        }
        return (items, bad)
    }
}

/// Whether a path is a regular file.
package func isRegularFile(_ path: String) -> Bool {
    var dir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && !dir.boolValue
}
