import Foundation
import GrusCore
import GrusText

public enum Split: String, Codable, Sendable, CaseIterable { case train, dev, test }

/// Layouts of labelled text files.
public enum TextFormat: String, Codable, Sendable, CaseIterable {
    /// A header line names the columns (`sentence<TAB>label`, GLUE layout).
    case textTSV = "text_tsv"
    /// Headerless `text<TAB>label` (or `label<TAB>text`, see `TextPairOrder`).
    case textPairs = "text_pairs"
    /// `__label__X text`.
    case fasttext
    /// `COARSE:fine text`.
    case trec
}

/// Column order of headerless text pairs.
public enum TextPairOrder: String, Codable, Sendable, CaseIterable {
    case textLabel = "text_label", labelText = "label_text"
}

/// Which TREC label: `COARSE` or `COARSE:fine`.
public enum TRECLabel: String, Codable, Sendable, CaseIterable { case coarse, fine }

/// One labelled example: an audio file path or a text, where it came from, and its split.
public struct Item: Codable, Equatable, Sendable {
    /// Audio: the file path. Text: the text itself.
    public var input: String
    public var label: String
    public var split: Split
    /// "file:line" for text, the path for audio; used in messages.
    public var origin: String
    public var speaker: String?
    /// For long audio split into stretches: which stretch of `input` this example is.
    public var segment: Int?
    /// Tagging corpora: the sentence's tokens and one tag per token (`input` is the tokens joined
    /// by spaces; `label` is the sentence's label, such as an intent, or empty).
    public var tokens: [String]?
    public var tags: [String]?

    public init(input: String, label: String, split: Split, origin: String, speaker: String? = nil, segment: Int? = nil) {
        self.input = input
        self.label = label
        self.split = split
        self.origin = origin
        self.speaker = speaker
        self.segment = segment
    }
}

/// A problem with one input, kept so that a run can list every bad item.
public struct BadInput: Codable, Equatable, Sendable, CustomStringConvertible {
    public var origin: String
    public var reason: String
    /// Left out because a policy the recipe chose says so (on_invalid_utf8: skip): listed, but
    /// not a reason to stop under on_bad_input: fail.
    public var byPolicy: Bool?
    public init(origin: String, reason: String, byPolicy: Bool? = nil) { self.origin = origin; self.reason = reason; self.byPolicy = byPolicy }
    public var description: String { "\(origin): \(reason)" }
}

public struct CorpusError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Corpus readers. Each returns the items it found and the inputs it could not use.
public enum CorpusReader {
    /// FSDD: `{digit}_{speaker}_{index}.wav` in `folder` (or its `recordings/`). The official
    /// split puts index 0-4 in test; `testSpeaker` instead holds one speaker out for testing.
    public static func fsdd(_ folder: String, testSpeaker: String? = nil) throws -> (items: [Item], bad: [BadInput]) {
        var dir = folder
        if FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("recordings")) {
            dir = (folder as NSString).appendingPathComponent("recordings")
        }
        let names = try listFiles(dir)
        var items: [Item] = [], bad: [BadInput] = []
        for name in names where name.lowercased().hasSuffix(".wav") {
            let stem = String(name.dropLast(4))
            let parts = stem.split(separator: "_")
            let path = (dir as NSString).appendingPathComponent(name)
            guard !name.contains(where: \.isNewline), parts.count == 3, let index = Int(parts[2]) else {
                bad.append(BadInput(origin: path, reason: "name is not {label}_{speaker}_{index}.wav"))
                continue
            }
            let speaker = String(parts[1])
            let split: Split
            if let held = testSpeaker, !held.isEmpty { split = speaker == held ? .test : .train } else { split = index < 5 ? .test : .train }
            items.append(Item(input: path, label: String(parts[0]), split: split, origin: path, speaker: speaker))
        }
        if let held = testSpeaker, !held.isEmpty, !items.contains(where: { $0.speaker == held }) {
            let speakers = Set(items.compactMap(\.speaker)).sorted().joined(separator: ", ")
            throw CorpusError("\(folder): no recordings of speaker '\(held)' (speakers: \(speakers))")
        }
        return (items, bad)
    }

    /// Google Speech Commands layout: one folder per label; `validation_list.txt` and
    /// `testing_list.txt` when present, otherwise Warden's hash split on the file name before
    /// `_nohash_`. `_background_noise_` is not a label.
    public static func speechCommands(_ folder: String, validationPercent: Double = 10, testPercent: Double = 10) throws -> (items: [Item], bad: [BadInput]) {
        func readList(_ name: String) -> Set<String>? {
            let p = (folder as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: p, encoding: .utf8) else { return nil }
            return Set(text.split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) })
        }
        let validation = readList("validation_list.txt"), testing = readList("testing_list.txt")
        var items: [Item] = [], bad: [BadInput] = []
        for label in try listFiles(folder) where !label.hasPrefix(".") && !label.hasPrefix("_background_noise_") {
            let labelDir = (folder as NSString).appendingPathComponent(label)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: labelDir, isDirectory: &isDir), isDir.boolValue else { continue }
            let files = try listFiles(labelDir).filter { $0.lowercased().hasSuffix(".wav") }
            if files.isEmpty { bad.append(BadInput(origin: labelDir, reason: "label folder holds no .wav files")); continue }
            for f in files {
                let rel = label + "/" + f
                if f.contains(where: \.isNewline) {
                    bad.append(BadInput(origin: (labelDir as NSString).appendingPathComponent(f),
                                        reason: "the file name holds a line break, so validation_list.txt and testing_list.txt cannot name it; rename it"))
                    continue
                }
                let split: Split
                if let validation, let testing {
                    split = testing.contains(rel) ? .test : (validation.contains(rel) ? .dev : .train)
                } else {
                    split = wardenSplit(f, validationPercent: validationPercent, testPercent: testPercent)
                }
                let speaker = f.components(separatedBy: "_nohash_").first
                items.append(Item(input: (labelDir as NSString).appendingPathComponent(f), label: label, split: split,
                                  origin: (labelDir as NSString).appendingPathComponent(f), speaker: speaker))
            }
        }
        return (items, bad)
    }

    /// Warden's `which_set`: SHA-1 of the name before `_nohash_`, mod 2^27 − 1, as a percentage.
    public static func wardenSplit(_ fileName: String, validationPercent: Double, testPercent: Double) -> Split {
        let base = fileName.components(separatedBy: "_nohash_").first ?? fileName
        let digest = SHA1.hash(Array(base.utf8))
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        // int(hexdigest, 16) % (2^27 - 1): reduce the 160-bit number digit by digit.
        let m: UInt64 = (1 << 27) - 1
        var r: UInt64 = 0
        for ch in hex { r = (r * 16 + UInt64(ch.hexDigitValue!)) % m }
        let percent = Double(r) * (100.0 / Double(m))
        if percent < validationPercent { return .dev }
        if percent < testPercent + validationPercent { return .test }
        return .train
    }

    /// Text files: `format` is text_tsv (header, named columns), text_pairs (headerless, `order`),
    /// fasttext (`__label__X text`) or trec (`COARSE:fine text`).
    public static func textFile(_ path: String, split: Split, format: TextFormat, textColumn: String = "sentence",
                                labelColumn: String = "label", order: TextPairOrder = .textLabel, trecLabel: TRECLabel = .coarse,
                                invalidUTF8: InvalidUTF8Policy = .fail) throws -> (items: [Item], bad: [BadInput]) {
        let (lines, skipped) = try TextFile.lines(path, invalidUTF8: invalidUTF8)
        var items: [Item] = [], bad = skipped.map { BadInput(origin: "\(path):\($0)", reason: "not valid UTF-8 (skipped: on_invalid_utf8 is skip)", byPolicy: true) }
        var columns = 2
        var textIndex = 0, labelIndex = 1
        var body = lines[...]
        if format == .textTSV {
            guard let header = lines.first else { return ([], bad) }
            let cols = header.text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let t = cols.firstIndex(of: textColumn), let l = cols.firstIndex(of: labelColumn) else {
                throw CorpusError("\(path):1: header \(cols) lacks the text column '\(textColumn)' or the label column '\(labelColumn)'")
            }
            textIndex = t; labelIndex = l
            columns = cols.count
            body = lines.dropFirst()
        } else if format == .textPairs && order == .labelText {
            textIndex = 1; labelIndex = 0
        }
        for line in body {
            let origin = "\(path):\(line.number)"
            if line.text.trimmingCharacters(in: .whitespaces).isEmpty { continue }   // blank lines separate nothing here
            var text = "", label = ""
            switch format {
            case .fasttext:
                var words = line.text.split(separator: " ", omittingEmptySubsequences: true)
                guard let first = words.first, first.hasPrefix("__label__") else {
                    bad.append(BadInput(origin: origin, reason: "does not start with __label__X")); continue
                }
                label = String(first.dropFirst(9))
                words.removeFirst()
                text = words.joined(separator: " ")
            case .trec:
                guard let space = line.text.firstIndex(of: " "), let colon = line.text[..<space].firstIndex(of: ":") else {
                    bad.append(BadInput(origin: origin, reason: "not 'COARSE:fine text'")); continue
                }
                label = trecLabel == .fine ? String(line.text[..<space]) : String(line.text[..<colon])
                text = String(line.text[line.text.index(after: space)...])
            case .textTSV, .textPairs:
                let cols = line.text.split(separator: "\t", omittingEmptySubsequences: false)
                guard cols.count == columns else {
                    bad.append(BadInput(origin: origin, reason: "expected \(columns) tab-separated columns, found \(cols.count)" + (cols.count > columns ? " (a tab inside the text?)" : ""))); continue
                }
                text = String(cols[textIndex]); label = String(cols[labelIndex]).trimmingCharacters(in: .whitespaces)
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty { bad.append(BadInput(origin: origin, reason: "empty text")); continue }
            if label.isEmpty { bad.append(BadInput(origin: origin, reason: "empty label")); continue }
            items.append(Item(input: text, label: label, split: split, origin: origin))
        }
        return (items, bad)
    }

    static func listFiles(_ dir: String) throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: dir).sorted() } catch {
            throw CorpusError("\(dir): cannot list the folder (\(error.localizedDescription))")
        }
    }

    /// Moves a deterministic `fraction` of each label's training items to dev (when a corpus has no dev split).
    /// `stratified: false` carves at random from all training items (transcripts, whose labels
    /// are nearly all distinct, are not classes to stratify by).
    public static func carveDev(_ items: [Item], fraction: Double, seed: UInt64, stratified: Bool = true) -> [Item] {
        guard fraction > 0, !items.contains(where: { $0.split == .dev }) else { return items }
        var out = items
        var rng = RNG(seed: seed)
        let byLabel = Dictionary(grouping: out.indices.filter { out[$0].split == .train }, by: { stratified ? out[$0].label : "" })
        for label in byLabel.keys.sorted() {
            var idx = byLabel[label]!
            rng.shuffle(&idx)
            for i in idx.prefix(Int((Double(idx.count) * fraction).rounded())) { out[i].split = .dev }
        }
        return out
    }
}

extension CorpusReader {
    /// A manifest: CSV (RFC 4180 quoting), TSV or JSONL (by extension), one example per row with
    /// an input column (an audio path, relative to the manifest's folder, or a text), a label and
    /// an optional split column (train/dev/test; rows without one are training data).
    public static func manifest(_ path: String, inputColumn: String, labelColumn: String, splitColumn: String,
                                audio: Bool) throws -> (items: [Item], bad: [BadInput]) {
        let (lines, _) = try TextFile.lines(path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        let lower = path.lowercased()
        var rows: [(line: Int, fields: [String: String])] = []
        var bad: [BadInput] = []
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".json") {
            for l in lines where !l.text.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(l.text.utf8)) as? [String: Any] else {
                    bad.append(BadInput(origin: "\(path):\(l.number)", reason: "not a JSON object")); continue
                }
                // null (or a nested value) is no value: "label": null must not become a class "<null>".
                rows.append((l.number, obj.compactMapValues { v -> String? in
                    if v is NSNull || v is [Any] || v is [String: Any] { return nil }
                    return "\(v)"
                }))
            }
        } else {
            let tsv = lower.hasSuffix(".tsv")
            let records = tsv ? lines.map { (number: $0.number, fields: $0.text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)) }
                              : try csvRecords(lines, path: path)
            guard let header = records.first?.fields else { return ([], []) }
            for r in records.dropFirst() where !(r.fields.count == 1 && r.fields[0].isEmpty) {
                guard r.fields.count == header.count else {
                    bad.append(BadInput(origin: "\(path):\(r.number)", reason: "\(r.fields.count) columns, the header has \(header.count)")); continue
                }
                // A path, a label or a one-line text never holds a line break: a quoted field
                // that runs over lines is an unclosed quote swallowing the rows after it.
                if let long = r.fields.first(where: { $0.contains("\n") }) {
                    let n = long.split(separator: "\n", omittingEmptySubsequences: false).count
                    bad.append(BadInput(origin: "\(path):\(r.number)", reason: "a quoted field runs over \(n) lines (an unclosed quote?); lines \(r.number)-\(r.number + n - 1) are left out"))
                    continue
                }
                rows.append((r.number, Dictionary(zip(header, r.fields), uniquingKeysWith: { a, _ in a })))
            }
        }
        var items: [Item] = []
        for (number, f) in rows {
            let origin = "\(path):\(number)"
            guard let input = f[inputColumn], !input.isEmpty else { bad.append(BadInput(origin: origin, reason: "no '\(inputColumn)' value")); continue }
            guard let label = f[labelColumn], !label.isEmpty else { bad.append(BadInput(origin: origin, reason: "no '\(labelColumn)' value")); continue }
            var split = Split.train
            if let s = f[splitColumn], !s.isEmpty {
                guard let parsed = Split(rawValue: s.lowercased()) ?? (s.lowercased() == "validation" ? .dev : nil) else {
                    bad.append(BadInput(origin: origin, reason: "split '\(s)' is not train, dev or test")); continue
                }
                split = parsed
            }
            // An optional "speaker" column is kept (held-out-speaker splits read it).
            let speaker = f["speaker"].flatMap { $0.isEmpty ? nil : $0 }
            if audio {
                let full = input.hasPrefix("/") ? input : base.appendingPathComponent(input).path
                items.append(Item(input: full, label: label, split: split, origin: full, speaker: speaker))
            } else {
                items.append(Item(input: input, label: label, split: split, origin: origin, speaker: speaker))
            }
        }
        return (items, bad)
    }

    /// CSV records with quoted fields ("a, b", doubled quotes), which may span lines.
    static func csvRecords(_ lines: [TextFile.Line], path: String) throws -> [(number: Int, fields: [String])] {
        var out: [(Int, [String])] = []
        var fields: [String] = [], field = "", quoted = false, start = 0
        for l in lines {
            if !quoted { start = l.number; fields = []; field = "" } else { field += "\n" }
            var chars = Array(l.text)[...]
            while let c = chars.popFirst() {
                if quoted {
                    if c == "\"" {
                        if chars.first == "\"" { field.append("\""); chars.removeFirst() } else { quoted = false }
                    } else { field.append(c) }
                } else if c == "\"" && field.isEmpty {
                    quoted = true
                } else if c == "," {
                    fields.append(field); field = ""
                } else {
                    field.append(c)
                }
            }
            if !quoted { fields.append(field); out.append((start, fields)) }
        }
        if quoted { throw CorpusError("\(path):\(start): a quoted field is not closed") }
        return out
    }
}
