import Foundation
import GrusCore

/// Text → ids: normaliser, tokenizer, vocabulary and length limit, saved together as one JSON
/// file kept with the model. Loading the file reproduces the same ids.
public struct TextEncoder: Codable, Equatable, Sendable {
    public enum Truncation: String, Codable, Sendable, CaseIterable {
        /// Keep the first `maxLength` tokens.
        case keepStart = "keep_start"
        /// Keep the last `maxLength` tokens.
        case keepEnd = "keep_end"

        /// Also reads the names model.json files used before ("keepStart", "keepEnd").
        public init(from decoder: Decoder) throws {
            let s = try decoder.singleValueContainer().decode(String.self)
            switch s {
            case "keep_start", "keepStart": self = .keepStart
            case "keep_end", "keepEnd": self = .keepEnd
            default: throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "truncation '\(s)' is not keep_start or keep_end"))
            }
        }
    }

    public var normalizer: NormalizerOptions
    public var tokenizer: Tokenizer
    public var vocabulary: Vocabulary
    public var maxLength: Int?
    public var truncation: Truncation
    public var addBOS: Bool
    public var addEOS: Bool
    /// Fitted on token lists (tagging corpora): each whitespace-separated token is normalised and
    /// looked up whole, so there is exactly one id per token (and per tag).
    public var pretokenized: Bool? = nil
    /// The characters of the normalised training tokens, when the model also reads each token's
    /// characters (a character encoder); nil otherwise.
    public var characters: Vocabulary? = nil

    public init(normalizer: NormalizerOptions, tokenizer: Tokenizer, vocabulary: Vocabulary,
                maxLength: Int? = nil, truncation: Truncation = .keepStart, addBOS: Bool = false, addEOS: Bool = false) {
        self.normalizer = normalizer
        self.tokenizer = tokenizer
        self.vocabulary = vocabulary
        self.maxLength = maxLength
        self.truncation = truncation
        self.addBOS = addBOS
        self.addEOS = addEOS
    }

    /// Settings for `fit`.
    public struct Settings: Codable, Equatable, Sendable {
        public enum Kind: String, Codable, Sendable, CaseIterable { case word, character, bpe }
        public var normalizer = NormalizerOptions()
        public var kind: Kind = .word
        public var splitPunctuation = true
        public var pattern: String? = nil
        /// BPE: symbol inventory to reach, and the least frequency a pair needs to be merged.
        public var bpeVocabularySize = 8000
        public var bpeMinFrequency = 2
        public var minCount = 1
        public var maxVocabulary: Int? = nil
        public var maxLength: Int? = nil
        public var truncation: Truncation = .keepStart
        public var addBOS = false
        public var addEOS = false
        public init() {}
    }

    /// Fits `characters` on the normalised training tokens (every character, however rare).
    public mutating func fitCharacters(tokenized sentences: [[String]]) {
        let norm = Normalizer(normalizer)
        var counts: [String: Int] = [:]
        for sentence in sentences { for t in sentence { for ch in norm(t) { counts[String(ch), default: 0] += 1 } } }
        characters = Vocabulary.build(counts: counts, minCount: 1, maxSize: nil, bos: false, eos: false)
    }

    /// Character ids of each token (normalised as `encode(tokens:)` does); a character outside
    /// the inventory is `<unk>`. Empty when the encoder has no character inventory.
    public func characterIDs(tokens: [String]) -> [[Int]] {
        guard let chars = characters else { return [] }
        let norm = Normalizer(normalizer)
        var unknown = 0
        return tokens.map { t in chars.encode(norm(t).map { String($0) }, unknown: &unknown) }
    }

    /// Character ids of the tokens `encode(_:)` gives for a text (pretokenized encoders: the
    /// whitespace-separated tokens, cut to `maxLength` the same way).
    public func characterIDs(_ text: String) -> [[Int]] {
        guard characters != nil else { return [] }
        var tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        if pretokenized != true { tokens = tokenizer.tokenize(Normalizer(normalizer)(text)) }
        if let m = maxLength, tokens.count > m { tokens = Array(truncation == .keepStart ? tokens.prefix(m) : tokens.suffix(m)) }
        return characterIDs(tokens: tokens)
    }

    /// Whole tokens (already split, as in tagging corpora), each normalised and looked up as one
    /// vocabulary entry. No length limit here: the caller cuts tokens and their tags together.
    public func encode(tokens: [String], unknown: inout Int) -> [Int] {
        let norm = Normalizer(normalizer)
        return vocabulary.encode(tokens.map { norm($0) }, unknown: &unknown)
    }

    /// The encoder for token lists: the vocabulary of the normalised training tokens.
    public static func fit(tokenized sentences: [[String]], settings s: Settings) -> TextEncoder {
        let norm = Normalizer(s.normalizer)
        var counts: [String: Int] = [:]
        for sentence in sentences { for t in sentence { counts[norm(t), default: 0] += 1 } }
        let vocab = Vocabulary.build(counts: counts, minCount: s.minCount, maxSize: s.maxVocabulary, bos: false, eos: false)
        var e = TextEncoder(normalizer: s.normalizer, tokenizer: .word(WordTokenizer(splitPunctuation: false, pattern: nil)), vocabulary: vocab,
                            maxLength: s.maxLength, truncation: s.truncation)
        e.pretokenized = true
        return e
    }

    /// Builds the tokenizer (training BPE) and vocabulary from training texts.
    public static func fit(_ texts: [String], settings s: Settings) -> TextEncoder {
        let norm = Normalizer(s.normalizer)
        let normalized = texts.map { norm($0) }
        let words = WordTokenizer(splitPunctuation: s.splitPunctuation, pattern: s.pattern)
        let tokenizer: Tokenizer
        switch s.kind {
        case .word: tokenizer = .word(words)
        case .character: tokenizer = .character(CharacterTokenizer())
        case .bpe: tokenizer = .bpe(BPE.train(normalized, words: words, vocabularySize: s.bpeVocabularySize, minFrequency: s.bpeMinFrequency))
        }
        var counts: [String: Int] = [:]
        for t in normalized { for tok in tokenizer.tokenize(t) { counts[tok, default: 0] += 1 } }
        let vocab = Vocabulary.build(counts: counts, minCount: s.minCount, maxSize: s.maxVocabulary, bos: s.addBOS, eos: s.addEOS)
        return TextEncoder(normalizer: s.normalizer, tokenizer: tokenizer, vocabulary: vocab, maxLength: s.maxLength,
                           truncation: s.truncation, addBOS: s.addBOS, addEOS: s.addEOS)
    }

    /// Ids for one text, truncated to `maxLength` (specials included); `unknown` counts tokens
    /// that map to `<unk>`.
    public func encode(_ text: String, unknown: inout Int) -> [Int] {
        var truncated = 0
        return encode(text, unknown: &unknown, truncated: &truncated)
    }

    /// As `encode(_:unknown:)`; `truncated` counts texts cut to `maxLength`.
    public func encode(_ text: String, unknown: inout Int, truncated: inout Int) -> [Int] {
        if pretokenized == true {
            var ids = encode(tokens: text.split(whereSeparator: \.isWhitespace).map(String.init), unknown: &unknown)
            if let m = maxLength, ids.count > m { truncated += 1; ids = Array(truncation == .keepStart ? ids.prefix(m) : ids.suffix(m)) }
            return ids
        }
        var ids = vocabulary.encode(tokenizer.tokenize(Normalizer(normalizer)(text)), unknown: &unknown)
        let extra = (addBOS ? 1 : 0) + (addEOS ? 1 : 0)
        if let m = maxLength, ids.count + extra > m {
            truncated += 1
            let keep = max(0, m - extra)
            ids = truncation == .keepStart ? Array(ids.prefix(keep)) : Array(ids.suffix(keep))
        }
        if addBOS, let b = vocabulary.bosID { ids.insert(b, at: 0) }
        if addEOS, let e = vocabulary.eosID { ids.append(e) }
        return ids
    }

    public func encode(_ text: String) -> [Int] {
        var u = 0
        return encode(text, unknown: &u)
    }

    public func save(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try enc.encode(self), to: url)
    }

    public static func load(_ url: URL) throws -> TextEncoder {
        guard let data = readWholeFile(url.path) else { throw TextError.missing(path: url.path) }
        do {
            return try JSONDecoder().decode(TextEncoder.self, from: data)
        } catch {
            throw TextError.malformed(path: url.path, line: 0, message: "not a Grus tokenizer file: \(readable(error))")
        }
    }
}
