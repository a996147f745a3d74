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
