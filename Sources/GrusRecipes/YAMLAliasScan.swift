/// Finds YAML anchors (`&name`) and aliases (`*name`) in a document before it is parsed.
/// Composing a document expands aliases, and a few hundred bytes of nested aliases ("billion
/// laughs") expand into gigabytes, so recipes, which never need them, are refused up front.
/// The scan skips quoted scalars, comments and block scalars (`|`, `>`); elsewhere a `&` or `*`
/// that starts a token is an anchor or alias in YAML's grammar.
package enum YAMLAliasScan {
    /// The 1-based line of the first anchor or alias, and the token, or nil.
    package static func find(_ text: String) -> (line: Int, token: String)? {
        var line = 1
        var quote: Character? = nil
        var previous: Character? = nil            // previous character on this line outside quotes
        var blockIndent: Int? = nil               // inside a block scalar: lines indented more than this
        var lineIndent = 0, atLineStart = true, lineContent = ""
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "\n" {
                if quote == nil, blockIndent == nil, isBlockIndicator(lineContent.trimmingTrailingSpaces) { blockIndent = lineIndent }
                line += 1; previous = nil; lineIndent = 0; atLineStart = true; lineContent = ""
                continue
            }
            if atLineStart {
                if c == " " { lineIndent += 1; continue }
                atLineStart = false
                if let b = blockIndent {
                    if lineIndent > b { skipLine(&chars); continue }
                    blockIndent = nil
                }
            }
            if let q = quote {
                if q == "\"" && c == "\\" { chars = chars.dropFirst(); continue }
                if c == q {
                    if q == "'" && chars.first == "'" { chars = chars.dropFirst(); continue }
                    quote = nil
                }
                previous = c
                continue
            }
            let tokenStart = previous == nil || " \t[{,".contains(previous!)
            if tokenStart && c == "#" { skipLine(&chars); continue }
            if tokenStart && (c == "\"" || c == "'") { quote = c; previous = c; lineContent.append(c); continue }
            if tokenStart && (c == "&" || c == "*"), let next = chars.first, !" \t\n,]}".contains(next) {
                let name = chars.prefix { !" \t\n,]}".contains($0) }
                return (line, String(c) + String(name))
            }
            lineContent.append(c)
            previous = c
        }
        return nil
    }

    package static func skipLine(_ chars: inout ArraySlice<Character>) {
        while let c = chars.first, c != "\n" { chars = chars.dropFirst() }
    }

    /// A line ending in a block scalar header: `key: |`, `- >-`, `|+2`, ...
    package static func isBlockIndicator(_ s: String) -> Bool {
        guard let i = s.lastIndex(where: { $0 == "|" || $0 == ">" }) else { return false }
        let rest = s[s.index(after: i)...]
        guard rest.allSatisfy({ "+-0123456789".contains($0) }) else { return false }
        let before = s[..<i]
        return before.isEmpty || before.last == " " || before.last == "\t"
    }
}

private extension String {
    package var trimmingTrailingSpaces: String {
        var s = self
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
