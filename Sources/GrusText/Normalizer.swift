import Foundation

/// Text clean-up before tokenizing. Defaults: NFKC, case folding, whitespace collapsed,
/// invisible format characters (zero-width space, BOM, soft hyphen) removed.
public struct NormalizerOptions: Codable, Equatable, Sendable {
    public enum UnicodeForm: String, Codable, Sendable, CaseIterable {
        case none
        /// Canonical composition: "e" + U+0301 → "é".
        case nfc
        /// Compatibility composition as well: full-width "Ａ１" → "A1", ligatures split, etc.
        case nfkc
    }

    public var unicode: UnicodeForm = .nfkc
    /// Full Unicode case folding ("Straße" → "strasse"), not just lower-casing.
    public var caseFold = true
    /// Turn every run of white space (including tabs, NBSP, line separators) into one space and trim the ends.
    public var collapseWhitespace = true
    /// Drop zero-width space U+200B, word joiner U+2060, BOM U+FEFF and soft hyphen U+00AD.
    /// (Zero-width joiners stay: emoji sequences and some scripts need them.)
    public var removeInvisible = true

    public init() {}
}

public struct Normalizer: Sendable {
    public let options: NormalizerOptions

    public init(_ options: NormalizerOptions = NormalizerOptions()) { self.options = options }

    /// ASCII text needs no Unicode tables: NFC/NFKC leave it as it is and case folding is
    /// lower-casing. Returns nil for anything else.
    func ascii(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for b in text.utf8 {
            if b >= 0x80 { return nil }
            if options.collapseWhitespace && (b == 0x20 || (b >= 0x09 && b <= 0x0D)) {
                pendingSpace = !bytes.isEmpty
                continue
            }
            if pendingSpace { bytes.append(0x20); pendingSpace = false }
            bytes.append(options.caseFold && b >= 0x41 && b <= 0x5A ? b + 32 : b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static let invisible: Set<Unicode.Scalar> = ["\u{200B}", "\u{2060}", "\u{FEFF}", "\u{00AD}"]

    public func callAsFunction(_ text: String) -> String {
        ascii(text) ?? general(text)
    }

    func general(_ text: String) -> String {
        var s = text
        switch options.unicode {
        case .none: break
        case .nfc: s = s.precomposedStringWithCanonicalMapping
        case .nfkc: s = s.precomposedStringWithCompatibilityMapping
        }
        if options.caseFold { s = s.folding(options: [.caseInsensitive], locale: nil) }
        if options.removeInvisible || options.collapseWhitespace {
            var out = String.UnicodeScalarView()
            var pendingSpace = false
            for u in s.unicodeScalars {
                if options.removeInvisible && Normalizer.invisible.contains(u) { continue }
                if options.collapseWhitespace && u.properties.isWhitespace {
                    pendingSpace = !out.isEmpty
                    continue
                }
                if pendingSpace { out.append(" "); pendingSpace = false }
                out.append(u)
            }
            s = String(out)
        }
        return s
    }
}
