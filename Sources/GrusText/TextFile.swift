import Foundation
import GrusCore

/// What to do with a line that is not valid UTF-8.
public enum InvalidUTF8Policy: String, Codable, Sendable, CaseIterable {
    /// Stop with an error naming the file and line (default).
    case fail
    /// Replace the bad bytes with U+FFFD.
    case replace
    /// Leave the line out (it is reported).
    case skip
}

public enum TextError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case invalidUTF8(path: String, line: Int)
    case malformed(path: String, line: Int, message: String)

    public var description: String {
        switch self {
        case let .missing(p): return "\(p): no such file"
        case let .invalidUTF8(p, l): return "\(p):\(l): not valid UTF-8; fix the file's encoding or set on_invalid_utf8: replace (or skip)"
        case let .malformed(p, l, m): return "\(p):\(l): \(m)"
        }
    }
}

/// Reads a text file line by line: LF or CRLF endings, with or without a final newline,
/// lines of any length. Line numbers are 1-based.
public enum TextFile {
    public struct Line {
        public var number: Int
        public var text: String
    }

    /// All lines; invalid UTF-8 handled by `policy`, skipped line numbers returned in `skipped`.
    public static func lines(_ path: String, invalidUTF8 policy: InvalidUTF8Policy = .fail) throws -> (lines: [Line], skipped: [Int]) {
        if let problem = specialFileProblem(path) { throw TextError.malformed(path: path, line: 0, message: problem) }
        guard let data = readWholeFile(path) else { throw TextError.missing(path: path) }
        var out: [Line] = [], skipped: [Int] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            // A UTF-8 byte-order mark before the first line is not part of it.
            var start = textStart(bytes), number = 0
            let n = bytes.count
            while start < n {
                // A line ends at LF, CRLF, or a lone CR (old Mac files).
                var end = start
                while end < n && bytes[end] != 0x0A && bytes[end] != 0x0D { end += 1 }
                number += 1
                let stop = end
                if end < n - 1 && bytes[end] == 0x0D && bytes[end + 1] == 0x0A { end += 1 }
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<stop])
                if let s = String(validating: slice, as: UTF8.self) {
                    out.append(Line(number: number, text: s))
                } else {
                    switch policy {
                    case .fail: throw TextError.invalidUTF8(path: path, line: number)
                    case .replace: out.append(Line(number: number, text: String(decoding: slice, as: UTF8.self)))
                    case .skip: skipped.append(number)
                    }
                }
                start = end + 1
            }
        }
        return (out, skipped)
    }

    /// Where the text starts: after a UTF-8 byte-order mark, if there is one.
    static func textStart(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
    }
}
