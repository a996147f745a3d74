import Foundation
import GrusCore
import GrusTasks
import GrusTrain

/// A recipe problem: the file, the key path and what is wrong. Recipes with problems exit with code 2.
public struct RecipeIssue: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var keyPath: String
    public var message: String

    public var description: String { keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)" }

    public init(file: String, keyPath: String, message: String) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
    }
}

/// All problems found in a recipe, reported together.
public struct RecipeError: Error, CustomStringConvertible {
    public var issues: [RecipeIssue]
    public var description: String { issues.map(\.description).joined(separator: "\n") }
    public init(issues: [RecipeIssue]) { self.issues = issues }
}

package enum Validator {
    /// Checks `value` against `field`, filling in defaults; appends issues.
    package static func validate(_ value: Any?, _ field: Field, path: String, file: String, issues: inout [RecipeIssue]) -> Any? {
        func fail(_ m: String) { issues.append(RecipeIssue(file: file, keyPath: path, message: m)) }
        guard let value, !(value is NSNull) else {
            if field.required { fail("is required" + (field.help.isEmpty ? "" : " (\(field.help))")) }
            if case let .section(fields) = field.type {
                return validate([String: Any](), Field(.section(fields)), path: path, file: file, issues: &issues)
            }
            return field.defaultValue
        }
        switch field.type {
        case let .int(lo, hi, names):
            if let s = value as? String, let i = names[s] { return i }
            guard let i = asInt(value) else {
                fail("expected a whole number" + names.keys.sorted().map { " or '\($0)'" }.joined() + ", got \(describe(value))"); return nil
            }
            if names.values.contains(i) { return i }   // a named number written as a number
            if let lo, i < lo { fail("must be at least \(lo), got \(i)") }
            if let hi, i > hi { fail("must be at most \(hi), got \(i)") }
            return i
        case let .number(lo, hi, exclusive):
            guard let d = asDouble(value) else { fail("expected a number, got \(describe(value))"); return nil }
            if let lo, exclusive ? d <= lo : d < lo { fail("must be \(exclusive ? "greater than" : "at least") \(format(lo)), got \(format(d))") }
            if let hi, d > hi { fail("must be at most \(format(hi)), got \(format(d))") }
            return d
        case .bool:
            guard let b = value as? Bool else { fail("expected true or false, got \(describe(value))"); return nil }
            return b
        case .string, .path:
            if let s = value as? String { return s }
            if value is [Any] || value is [String: Any] { fail("expected a string, got \(describe(value))"); return nil }
            return "\(value)"
        case let .choice(options):
            guard let s = value as? String ?? (value is Bool || value is [Any] || value is [String: Any] ? nil : "\(value)") else {
                fail("expected one of \(options.joined(separator: ", ")), got \(describe(value))"); return nil
            }
            if !options.contains(s) {
                fail("'\(s)' is not one of \(options.joined(separator: ", "))" + suggestion(s, options))
                return nil
            }
            return s
        case let .list(element):
            guard let a = value as? [Any] else { fail("expected a list, got \(describe(value))"); return nil }
            return a.enumerated().map { validate($1, Field(element), path: "\(path)[\($0)]", file: file, issues: &issues) ?? NSNull() }
        case let .section(fields):
            guard let d = value as? [String: Any] else { fail("expected a section of keys, got \(describe(value))"); return nil }
            var out: [String: Any] = [:]
            for key in d.keys.sorted() where fields[key] == nil {
                issues.append(RecipeIssue(file: file, keyPath: join(path, key),
                                          message: "unknown key" + suggestion(key, Array(fields.keys))))
            }
            for (key, f) in fields.sorted(by: { $0.key < $1.key }) {
                if let v = validate(d[key], f, path: join(path, key), file: file, issues: &issues) { out[key] = v }
            }
            return out
        }
    }

    package static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "." + b }

    package static func asInt(_ v: Any) -> Int? {
        if v is Bool { return nil }
        if let i = v as? Int { return i }
        if let d = v as? Double, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        if let s = v as? String { return Int(s) }
        return nil
    }

    package static func asDouble(_ v: Any) -> Double? {
        if v is Bool { return nil }
        if let d = v as? Double { return d.isFinite ? d : nil }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String, let d = Double(s), d.isFinite { return d }
        return nil
    }

    package static func describe(_ v: Any) -> String {
        switch v {
        case is [Any]: return "a list"
        case is [String: Any]: return "a section"
        case let s as String: return "'\(s)'"
        default: return "\(v)"
        }
    }

    package static func format(_ d: Double) -> String { Field.format(d) }

    /// "; did you mean 'x'?" for the closest candidate within a small edit distance.
    package static func suggestion(_ word: String, _ candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let best = scored.first, best.1 <= max(2, word.count / 3) else { return "" }
        return "; did you mean '\(best.0)'?"
    }

    package static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count), cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }
}
