import Foundation
import GrusText

/// Which CoNLL-U column holds the tags.
public enum CoNLLUColumn: String, Codable, Sendable, CaseIterable {
    case upos, xpos
    var index: Int { self == .upos ? 3 : 4 }
}

/// Readers of corpora with a tag per token. Each sentence becomes an `Item` with `tokens` and
/// `tags`; a sentence that cannot be used is a bad input named by file and line.
extension CorpusReader {
    /// CoNLL-U: ten tab-separated columns per word, comments (`#`, `# sent_id = ...` kept in the
    /// origin), multiword-token ranges (`1-2`) and empty nodes (`8.1`) skipped, blank lines
    /// between sentences.
    public static func conllu(_ path: String, column: CoNLLUColumn = .upos, split: Split,
                              invalidUTF8: InvalidUTF8Policy = .fail) throws -> (items: [Item], bad: [BadInput]) {
        let (lines, skipped) = try TextFile.lines(path, invalidUTF8: invalidUTF8)
        var items: [Item] = [], bad = skipped.map { BadInput(origin: "\(path):\($0)", reason: "not valid UTF-8 (skipped: on_invalid_utf8 is skip)", byPolicy: true) }
        var tokens: [String] = [], tags: [String] = [], start = 0, sentID: String?, problem: String?
        func finish() {
            defer { tokens = []; tags = []; sentID = nil; problem = nil; start = 0 }
            guard start > 0 else { return }
            let origin = "\(path):\(start)" + (sentID.map { " (\($0))" } ?? "")
            if let p = problem { bad.append(BadInput(origin: origin, reason: p)); return }
            if tokens.isEmpty { bad.append(BadInput(origin: origin, reason: "a sentence with no words")); return }
            var item = Item(input: tokens.joined(separator: " "), label: "", split: split, origin: origin)
            item.tokens = tokens
            item.tags = tags
            items.append(item)
        }
        for line in lines {
            let text = line.text
            if text.trimmingCharacters(in: .whitespaces).isEmpty { finish(); continue }
            if start == 0 { start = line.number }
            if text.hasPrefix("#") {
                if let r = text.range(of: "sent_id = ") { sentID = String(text[r.upperBound...]).trimmingCharacters(in: .whitespaces) }
                continue
            }
            let cols = text.split(separator: "\t", omittingEmptySubsequences: false)
            guard cols.count == 10 else {
                if problem == nil { problem = "line \(line.number): \(cols.count) tab-separated columns, CoNLL-U has 10" }
                continue
            }
            switch conlluID(cols[0]) {
            case .word: break
            case .rangeOrEmptyNode: continue
            case .invalid:
                if problem == nil { problem = "line \(line.number): ID '\(cols[0])' is not a word number (3), a multiword range (1-2) or an empty node (8.1)" }
                continue
            }
            tokens.append(String(cols[1]))
            tags.append(String(cols[column.index]))
        }
        finish()
        return (items, bad)
    }

    enum CoNLLUID { case word, rangeOrEmptyNode, invalid }

    /// What a CoNLL-U ID column holds: a word's number (≥ 1), a multiword range `a-b` (a < b) or an
    /// empty node `a.b`; anything else is a damaged line.
    static func conlluID(_ id: Substring) -> CoNLLUID {
        func number(_ s: Substring) -> Int? { s.allSatisfy(\.isASCII) ? Int(s) : nil }
        if let n = number(id) { return n >= 1 ? .word : .invalid }
        let range = id.split(separator: "-", omittingEmptySubsequences: false)
        if range.count == 2, let a = number(range[0]), let b = number(range[1]), a >= 1, b > a { return .rangeOrEmptyNode }
        let node = id.split(separator: ".", omittingEmptySubsequences: false)
        if node.count == 2, let a = number(node[0]), let b = number(node[1]), a >= 0, b >= 1 { return .rangeOrEmptyNode }
        return .invalid
    }

    /// CoNLL / IOB columns: whitespace-separated columns, the token and the tag at the given
    /// indexes (0-based; negative counts from the end), blank lines between sentences,
    /// `-DOCSTART-` lines ignored.
    public static func conll(_ path: String, tokenColumn: Int = 0, tagColumn: Int = -1, split: Split,
                             invalidUTF8: InvalidUTF8Policy = .fail) throws -> (items: [Item], bad: [BadInput]) {
        let (lines, skipped) = try TextFile.lines(path, invalidUTF8: invalidUTF8)
        var items: [Item] = [], bad = skipped.map { BadInput(origin: "\(path):\($0)", reason: "not valid UTF-8 (skipped: on_invalid_utf8 is skip)", byPolicy: true) }
        var tokens: [String] = [], tags: [String] = [], start = 0, problem: String?
        func finish() {
            defer { tokens = []; tags = []; start = 0; problem = nil }
            guard start > 0 else { return }
            if let p = problem { bad.append(BadInput(origin: "\(path):\(start)", reason: p)); return }
            var item = Item(input: tokens.joined(separator: " "), label: "", split: split, origin: "\(path):\(start)")
            item.tokens = tokens
            item.tags = tags
            items.append(item)
        }
        for line in lines {
            let cols = line.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if cols.isEmpty { finish(); continue }
            if cols[0] == "-DOCSTART-" { continue }
            if start == 0 { start = line.number }
            func index(_ i: Int) -> Int? { let k = i < 0 ? cols.count + i : i; return k >= 0 && k < cols.count ? k : nil }
            guard let t = index(tokenColumn), let g = index(tagColumn) else {
                if problem == nil { problem = "line \(line.number): \(cols.count) columns, no column \(tokenColumn) or \(tagColumn)" }
                continue
            }
            guard t != g else {
                if problem == nil { problem = "line \(line.number): \(cols.count) column(s), and the token and the tag would be the same one; give each token its tag" }
                continue
            }
            let token = String(cols[t]), tag = String(cols[g])
            tokens.append(token)
            tags.append(tag)
        }
        finish()
        return (items, bad)
    }

    /// The seq.in / seq.out / label layout of joint intent and slot corpora: one folder per
    /// split holding three aligned files, one example a line (tokens, one tag per token, the
    /// intent). A line whose token and tag counts differ is a bad input named by file and line.
    /// Lines that are not UTF-8 follow `invalidUTF8`; a line skipped in one file is left out of all three.
    public static func seqIn(_ folder: String, split: Split, invalidUTF8: InvalidUTF8Policy = .fail) throws -> (items: [Item], bad: [BadInput]) {
        var skipped = Set<Int>(), bad: [BadInput] = []
        func read(_ name: String) throws -> [TextFile.Line] {
            let p = (folder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: p) else { throw CorpusError("\(p): not found; a seq.in corpus folder holds seq.in, seq.out and label") }
            let r = try TextFile.lines(p, invalidUTF8: invalidUTF8)
            for n in r.skipped where skipped.insert(n).inserted {
                bad.append(BadInput(origin: "\(p):\(n)", reason: "not valid UTF-8 (skipped with the line of the other two files: on_invalid_utf8 is skip)", byPolicy: true))
            }
            return r.lines
        }
        let (allIns, allOuts, allLabels) = (try read("seq.in"), try read("seq.out"), try read("label"))
        let (ins, outs, labels) = (allIns.filter { !skipped.contains($0.number) }, allOuts.filter { !skipped.contains($0.number) },
                                   allLabels.filter { !skipped.contains($0.number) })
        guard ins.count == outs.count && ins.count == labels.count else {
            throw CorpusError("\(folder): seq.in has \(ins.count) lines, seq.out \(outs.count), label \(labels.count); they must align line by line")
        }
        var items: [Item] = []
        let inPath = (folder as NSString).appendingPathComponent("seq.in"), outPath = (folder as NSString).appendingPathComponent("seq.out")
        for (i, (a, b)) in zip(ins, outs).enumerated() {
            let tokens = a.text.split(separator: " ").map(String.init), tags = b.text.split(separator: " ").map(String.init)
            let origin = "\(inPath):\(a.number)"
            if tokens.isEmpty { bad.append(BadInput(origin: origin, reason: "an empty sentence")); continue }
            guard tokens.count == tags.count else {
                bad.append(BadInput(origin: "\(outPath):\(b.number)", reason: "\(tags.count) tags for the \(tokens.count) tokens of seq.in line \(a.number)"))
                continue
            }
            var item = Item(input: tokens.joined(separator: " "), label: labels[i].text.trimmingCharacters(in: .whitespaces), split: split, origin: origin)
            item.tokens = tokens
            item.tags = tags
            items.append(item)
        }
        return (items, bad)
    }

    /// JSON lines `{"tokens": [...], "tags": [...], "label": ...}` (label optional).
    public static func taggedJSONL(_ path: String, split: Split, invalidUTF8: InvalidUTF8Policy = .fail) throws -> (items: [Item], bad: [BadInput]) {
        let (lines, skipped) = try TextFile.lines(path, invalidUTF8: invalidUTF8)
        var items: [Item] = [], bad = skipped.map { BadInput(origin: "\(path):\($0)", reason: "not valid UTF-8 (skipped: on_invalid_utf8 is skip)", byPolicy: true) }
        for l in lines where !l.text.trimmingCharacters(in: .whitespaces).isEmpty {
            let origin = "\(path):\(l.number)"
            guard let obj = try? JSONSerialization.jsonObject(with: Data(l.text.utf8)) as? [String: Any] else {
                bad.append(BadInput(origin: origin, reason: "not a JSON object")); continue
            }
            guard let tokens = obj["tokens"] as? [String], let tags = obj["tags"] as? [String] else {
                bad.append(BadInput(origin: origin, reason: "needs \"tokens\" and \"tags\", lists of strings")); continue
            }
            if tokens.isEmpty { bad.append(BadInput(origin: origin, reason: "an empty sentence")); continue }
            guard tokens.count == tags.count else {
                bad.append(BadInput(origin: origin, reason: "\(tags.count) tags for \(tokens.count) tokens")); continue
            }
            if let label = obj["label"], !(label is String) {
                bad.append(BadInput(origin: origin, reason: "\"label\" should be a string (the sentence's intent), not \(label is NSNull ? "null" : "\(label)")")); continue
            }
            var item = Item(input: tokens.joined(separator: " "), label: (obj["label"] as? String) ?? "", split: split, origin: origin)
            item.tokens = tokens
            item.tags = tags
            items.append(item)
        }
        return (items, bad)
    }
}
