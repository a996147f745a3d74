import Foundation

/// Token ↔ id. Specials come first (`<pad>` = 0, `<unk>` = 1, then `<bos>`/`<eos>` when
/// asked for), then tokens by descending count; equal counts are ordered by the tokens'
/// Unicode scalar values, so the same counts always give the same ids.
public struct Vocabulary: Codable, Equatable, Sendable {
    public static let pad = "<pad>", unk = "<unk>", bos = "<bos>", eos = "<eos>"

    public private(set) var tokens: [String]
    private var index: [String: Int]

    public init(tokens: [String]) {
        self.tokens = tokens
        index = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    private enum CodingKeys: String, CodingKey { case tokens }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tokens: try c.decode([String].self, forKey: .tokens))
        guard tokens.count >= 2, tokens[0] == Vocabulary.pad, tokens[1] == Vocabulary.unk else {
            throw DecodingError.dataCorruptedError(forKey: .tokens, in: c, debugDescription: "a vocabulary starts with <pad>, <unk>")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
    }

    /// Builds a vocabulary from token counts.
    public static func build(counts: [String: Int], minCount: Int = 1, maxSize: Int? = nil,
                             bos: Bool = false, eos: Bool = false) -> Vocabulary {
        var specials = [pad, unk]
        if bos { specials.append(Vocabulary.bos) }
        if eos { specials.append(Vocabulary.eos) }
        let special = Set(specials)
        var ordered = counts.filter { $0.value >= minCount && !special.contains($0.key) }.sorted {
            $0.value != $1.value ? $0.value > $1.value : $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars)
        }.map(\.key)
        if let m = maxSize { ordered = Array(ordered.prefix(max(0, m - specials.count))) }
        return Vocabulary(tokens: specials + ordered)
    }

    public var count: Int { tokens.count }
    public var padID: Int { 0 }
    public var unkID: Int { 1 }
    public var bosID: Int? { index[Vocabulary.bos] }
    public var eosID: Int? { index[Vocabulary.eos] }

    public func id(_ token: String) -> Int? { index[token] }

    /// Ids, with unknown tokens mapped to `<unk>` and counted.
    public func encode(_ toks: [String], unknown: inout Int) -> [Int] {
        toks.map { t in
            if let i = index[t] { return i }
            unknown += 1
            return unkID
        }
    }
}

/// Word vectors in the GloVe (`word v1 … vD`, no header), word2vec text or fastText `.vec`
/// (first line `count dim`) formats.
public struct PretrainedVectors {
    public var dimension: Int
    public var vectors: [String: [Float]]

    /// Reads the file; with `only`, keeps just those words (saves memory for large files).
    /// A malformed line is an error naming its line number.
    public static func load(_ path: String, only: Set<String>? = nil) throws -> PretrainedVectors {
        guard FileManager.default.fileExists(atPath: path) else { throw TextError.missing(path: path) }
        let (lines, _) = try TextFile.lines(path, invalidUTF8: .fail)
        var dim = 0
        var vectors: [String: [Float]] = [:]
        for (i, line) in lines.enumerated() {
            let fields = line.text.split(separator: " ", omittingEmptySubsequences: true)
            if fields.isEmpty { continue }
            if i == 0 && fields.count == 2, let _ = Int(fields[0]), let d = Int(fields[1]) {
                dim = d   // word2vec / fastText header
                continue
            }
            if dim == 0 { dim = fields.count - 1 }
            guard fields.count == dim + 1 else {
                throw TextError.malformed(path: path, line: line.number,
                                          message: "expected a word and \(dim) numbers, found \(fields.count) fields")
            }
            let word = String(fields[0])
            if let only, !only.contains(word) { continue }
            var v = [Float](repeating: 0, count: dim)
            for j in 0..<dim {
                guard let x = Float(fields[j + 1]), x.isFinite else {
                    throw TextError.malformed(path: path, line: line.number, message: "'\(fields[j + 1])' is not a finite number")
                }
                v[j] = x
            }
            if vectors[word] == nil { vectors[word] = v }
        }
        guard dim > 0 else { throw TextError.malformed(path: path, line: 1, message: "no vectors found") }
        return PretrainedVectors(dimension: dim, vectors: vectors)
    }

    /// Rows for a vocabulary's tokens: the pretrained vector where there is one (also trying the
    /// lower-cased token), otherwise `fallback(row)`. Returns the matrix and the coverage.
    public func matrix(for vocab: Vocabulary, fallback: (Int) -> [Float]) -> (rows: [[Float]], found: Int) {
        var found = 0
        let rows = vocab.tokens.enumerated().map { (i, t) -> [Float] in
            if i == vocab.padID { return [Float](repeating: 0, count: dimension) }
            if let v = vectors[t] ?? vectors[t.lowercased()] { found += 1; return v }
            return fallback(i)
        }
        return (rows, found)
    }
}
