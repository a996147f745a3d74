/// Chunks (spans) in tag sequences and their precision, recall and F1, exactly as the CoNLL
/// `conlleval` script counts them (and seqeval in its default mode): a chunk ends and starts by
/// conlleval's rules for IOB1, IOB2 (BIO) and IOBES tags, so ill-formed sequences are scored as
/// conlleval scores them (an I-X with no B-X before it starts a chunk). Tags are "PREFIX-TYPE"
/// (split at the first dash) or "O". Verified against seqeval
/// (Tests/GrusRecipesTests/Fixtures/make_span_fixtures.py).
public enum SpanMetrics {
    /// A chunk: its type and its first and last token (inclusive).
    public struct Chunk: Hashable, Sendable {
        public var type: String, first: Int, last: Int
        public init(type: String, first: Int, last: Int) { self.type = type; self.first = first; self.last = last }
    }

    package static func split(_ tag: String) -> (prefix: String, type: String) {
        guard let dash = tag.firstIndex(of: "-") else { return (tag, "") }
        return (String(tag[..<dash]), String(tag[tag.index(after: dash)...]))
    }

    /// conlleval's endOfChunk: does a chunk end between the previous tag and this one?
    package static func endsChunk(_ prev: (prefix: String, type: String), _ cur: (prefix: String, type: String)) -> Bool {
        let p = prev.prefix, t = cur.prefix
        if p == "E" || p == "S" { return true }
        if (p == "B" || p == "I") && (t == "B" || t == "S" || t == "O") { return true }
        if p != "O" && p != "." && prev.type != cur.type { return true }
        return false
    }

    /// conlleval's startOfChunk: does a chunk start at this tag?
    package static func startsChunk(_ prev: (prefix: String, type: String), _ cur: (prefix: String, type: String)) -> Bool {
        let p = prev.prefix, t = cur.prefix
        if t == "B" || t == "S" { return true }
        if (p == "E" || p == "S" || p == "O") && (t == "E" || t == "I") { return true }
        if t != "O" && t != "." && prev.type != cur.type { return true }
        return false
    }

    /// The chunks of one sentence.
    public static func chunks(_ tags: [String]) -> [Chunk] {
        var out: [Chunk] = []
        var prev = (prefix: "O", type: ""), start: Int? = nil
        for (i, tag) in (tags + ["O"]).enumerated() {
            let cur = split(tag)
            if let s = start, endsChunk(prev, cur) {
                out.append(Chunk(type: prev.type, first: s, last: i - 1))
                start = nil
            }
            if startsChunk(prev, cur) { start = i }
            prev = cur
        }
        return out
    }

    public struct Scores: Codable, Equatable, Sendable {
        public var precision: Double, recall: Double, f1: Double
        /// Gold chunks of this type.
        public var support: Int
    }

    /// Per-type and micro-averaged scores over sentences of gold and predicted tags (each pair of
    /// the same length), and token accuracy.
    public static func score(gold: [[String]], predicted: [[String]]) -> (perType: [String: Scores], micro: Scores, tokenAccuracy: Double) {
        precondition(gold.count == predicted.count, "SpanMetrics: as many predicted sentences as gold ones")
        var correct: [String: Int] = [:], goldCount: [String: Int] = [:], predCount: [String: Int] = [:]
        var tokens = 0, rightTokens = 0
        for (g, p) in zip(gold, predicted) {
            precondition(g.count == p.count, "SpanMetrics: a predicted tag per gold tag")
            tokens += g.count
            rightTokens += zip(g, p).filter { $0 == $1 }.count
            let gc = chunks(g), pc = Set(chunks(p))
            for c in gc { goldCount[c.type, default: 0] += 1; if pc.contains(c) { correct[c.type, default: 0] += 1 } }
            for c in pc { predCount[c.type, default: 0] += 1 }
        }
        func scores(_ c: Int, _ g: Int, _ p: Int) -> Scores {
            let precision = p > 0 ? Double(c) / Double(p) : 0, recall = g > 0 ? Double(c) / Double(g) : 0
            return Scores(precision: precision, recall: recall, f1: precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0, support: g)
        }
        var perType: [String: Scores] = [:]
        for t in Set(goldCount.keys).union(predCount.keys) {
            perType[t] = scores(correct[t] ?? 0, goldCount[t] ?? 0, predCount[t] ?? 0)
        }
        let micro = scores(correct.values.reduce(0, +), goldCount.values.reduce(0, +), predCount.values.reduce(0, +))
        return (perType, micro, tokens > 0 ? Double(rightTokens) / Double(tokens) : 0)
    }
}
