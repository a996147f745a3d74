/// Tag schemes for spans: IOB1 (I- everywhere, B- only between two chunks of one type), IOB2
/// (BIO: every chunk starts with B-) and IOBES (single-token chunks S-, last tokens E-).
/// Corpora in any scheme are read as their chunks (`SpanMetrics.chunks`) and written again in the
/// scheme a model is trained on.
public enum TagScheme: String, Codable, Sendable, CaseIterable {
    case iob1, iob2, iobes

    /// The tags of one sentence in this scheme, from its chunks (conlleval's reading of the input).
    public func convert(_ tags: [String]) -> [String] {
        let chunks = SpanMetrics.chunks(tags)
        var out = [String](repeating: "O", count: tags.count)
        var previous: SpanMetrics.Chunk?
        for c in chunks {
            for i in c.first...c.last {
                switch self {
                case .iob2: out[i] = (i == c.first ? "B-" : "I-") + c.type
                case .iobes:
                    out[i] = (c.first == c.last ? "S-" : i == c.first ? "B-" : i == c.last ? "E-" : "I-") + c.type
                case .iob1:
                    let touches = previous.map { $0.last == c.first - 1 && $0.type == c.type } ?? false
                    out[i] = (i == c.first && touches ? "B-" : "I-") + c.type
                }
            }
            previous = c
        }
        return out
    }

    /// Whether a tag is a span tag: "O", or B-, I-, E- or S- and a type.
    public static func isSpanTag(_ tag: String) -> Bool {
        if tag == "O" { return true }
        guard tag.count > 2, let dash = tag.firstIndex(of: "-") else { return false }
        return ["B", "I", "E", "S"].contains(String(tag[..<dash]))
    }

    /// The scheme training tags are in, as NCRF++ and seqeval infer it: IOBES when E- or S- tags
    /// occur; otherwise IOB1 when more chunks open with I- than with B- (after O, at the start, or
    /// after another type), else IOB2. nil for plain tags (part of speech), which have no spans.
    public static func detect(_ sentences: [[String]]) -> TagScheme? {
        var prefixed = false, openB = 0, openI = 0
        for tags in sentences {
            var prev: (prefix: String, type: String) = ("O", "")
            for t in tags {
                guard t != "O", isSpanTag(t) else { prev = ("O", ""); continue }
                prefixed = true
                let cur = SpanMetrics.split(t)
                if cur.prefix == "E" || cur.prefix == "S" { return .iobes }
                let opens = prev.prefix == "O" || prev.type != cur.type
                if opens && cur.prefix == "B" { openB += 1 }
                if opens && cur.prefix == "I" { openI += 1 }
                prev = cur
            }
        }
        return prefixed ? (openI > openB ? .iob1 : .iob2) : nil
    }

    /// Whether tag `next` may follow tag `prev` in a well-formed sequence of this scheme ("O"
    /// included; nil `prev` is the sentence start, nil `next` its end). A CRF can forbid the rest.
    public func allows(_ prev: String?, _ next: String?) -> Bool {
        func parts(_ t: String?) -> (String, String) {
            guard let t, let dash = t.firstIndex(of: "-") else { return (t ?? "O", "") }
            return (String(t[..<dash]), String(t[t.index(after: dash)...]))
        }
        let (p, pt) = parts(prev), (n, nt) = parts(next)
        switch self {
        case .iob1:
            return n != "B" || (p != "O" && pt == nt)       // B-X only right after a chunk of X
        case .iob2:
            return n != "I" || ((p == "B" || p == "I") && pt == nt)
        case .iobes:
            let inside = p == "B" || p == "I"               // a chunk is open after prev
            if inside { return (n == "I" || n == "E") && pt == nt }
            return n == "O" || n == "B" || n == "S"
        }
    }
}
