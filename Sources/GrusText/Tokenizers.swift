import Foundation

/// Splits on white space; with `splitPunctuation`, every punctuation or symbol character
/// (Unicode categories P* and S*, emoji included) becomes a token of its own.
/// With `pattern`, tokens are instead the pattern's matches (NSRegularExpression syntax).
public struct WordTokenizer: Codable, Equatable, Sendable {
    public var splitPunctuation = true
    public var pattern: String? = nil

    public init(splitPunctuation: Bool = true, pattern: String? = nil) {
        self.splitPunctuation = splitPunctuation
        self.pattern = pattern
    }

    public func tokenize(_ s: String) -> [String] {
        if let p = pattern {
            guard let re = try? NSRegularExpression(pattern: p) else { return [] }
            let ns = s as NSString
            return re.matches(in: s, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
        }
        var out: [String] = []
        var current = ""
        for ch in s {
            if ch.isWhitespace {
                if !current.isEmpty { out.append(current); current = "" }
            } else if splitPunctuation && (ch.isPunctuation || ch.isSymbol) {
                if !current.isEmpty { out.append(current); current = "" }
                out.append(String(ch))
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}

/// One token per user-perceived character (grapheme cluster: "é", "👩‍👩‍👧" and "क्षि" are one each).
/// White space becomes "▁" when `keepSpaces`, otherwise it is dropped.
public struct CharacterTokenizer: Codable, Equatable, Sendable {
    public var keepSpaces = true

    public init(keepSpaces: Bool = true) { self.keepSpaces = keepSpaces }

    public func tokenize(_ s: String) -> [String] {
        var out: [String] = []
        out.reserveCapacity(s.count)
        for ch in s {
            if ch.isWhitespace {
                if keepSpaces && out.last != "▁" { out.append("▁") }
            } else {
                out.append(String(ch))
            }
        }
        return out
    }
}

/// The tokenizer choices a recipe can name.
public enum Tokenizer: Codable, Equatable, Sendable {
    case word(WordTokenizer)
    case character(CharacterTokenizer)
    case bpe(BPE)

    public func tokenize(_ s: String) -> [String] {
        switch self {
        case let .word(t): return t.tokenize(s)
        case let .character(t): return t.tokenize(s)
        case let .bpe(t): return t.tokenize(s)
        }
    }
}
