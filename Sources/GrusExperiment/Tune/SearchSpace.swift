import Foundation
import GrusCore

/// One searched recipe key and the values it may take (`tune.space`, `grus tune --space`).
public struct SearchedKey: Equatable, Codable, Sendable {
    public enum Range: Equatable, Codable, Sendable {
        case uniform(Double, Double), logUniform(Double, Double), integer(Int, Int), choice([String])
    }
    public var key: String, range: Range

    /// Parses `KEY=log:A..B`, `KEY=A..B`, `KEY=int:A..B` or `KEY=v1,v2,…`.
    public static func parse(_ text: String) throws -> SearchedKey {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw TuneError("'\(text)': write a searched key as KEY=RANGE, e.g. training.lr=log:0.0003..0.01")
        }
        let key = parts[0], spec = parts[1]
        func bounds(_ s: Substring) throws -> (Double, Double) {
            let b = s.components(separatedBy: "..")
            guard b.count == 2, let lo = Double(b[0]), let hi = Double(b[1]), lo.isFinite, hi.isFinite, lo < hi else {
                throw TuneError("'\(text)': the range should be LOW..HIGH with LOW below HIGH")
            }
            return (lo, hi)
        }
        if spec.hasPrefix("log:") {
            let (lo, hi) = try bounds(spec.dropFirst(4))
            guard lo > 0 else { throw TuneError("'\(text)': a log-uniform range must be above 0") }
            return SearchedKey(key: key, range: .logUniform(lo, hi))
        }
        if spec.hasPrefix("int:") {
            let (lo, hi) = try bounds(spec.dropFirst(4))
            guard lo == lo.rounded(), hi == hi.rounded() else { throw TuneError("'\(text)': an int: range takes whole numbers") }
            return SearchedKey(key: key, range: .integer(Int(lo), Int(hi)))
        }
        if spec.contains("..") { let (lo, hi) = try bounds(Substring(spec)); return SearchedKey(key: key, range: .uniform(lo, hi)) }
        let choices = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard choices.count >= 2, !choices.contains("") else {
            throw TuneError("'\(text)': give a range (LOW..HIGH, log:LOW..HIGH, int:LOW..HIGH) or at least two choices separated by commas")
        }
        return SearchedKey(key: key, range: .choice(choices))
    }

    /// A value for `--set`, drawn from the range. Real numbers keep four significant digits.
    public func draw(_ rng: inout RNG) -> String {
        func short(_ x: Double) -> String { String(format: "%.4g", x) }
        switch range {
        case let .uniform(lo, hi): return short(lo + (hi - lo) * rng.uniformDouble())
        case let .logUniform(lo, hi): return short(exp(log(lo) + (log(hi) - log(lo)) * rng.uniformDouble()))
        case let .integer(lo, hi): return String(lo + rng.int(below: hi - lo + 1))
        case let .choice(values): return values[rng.int(below: values.count)]
        }
    }
}

/// The settings of every trial: trial i's values are drawn in the space's order from one seeded
/// stream, so a seed and a space give the same trials on any machine.
public func drawTrials(_ space: [SearchedKey], count: Int, seed: Int) -> [[String: String]] {
    var rng = RNG(seed: UInt64(seed) &+ 0x7475_6e65)   // "tune"
    return (0..<count).map { _ in Dictionary(uniqueKeysWithValues: space.map { ($0.key, $0.draw(&rng)) }) }
}

/// A search that cannot be set up or continued.
public struct TuneError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
