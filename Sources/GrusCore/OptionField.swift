import Foundation

/// The type of an option (a recipe key): what values it takes.
public indirect enum FieldType {
    /// A whole number; `names` are words that stand for numbers (`sample_rate: native` is 0).
    case int(min: Int?, max: Int?, names: [String: Int] = [:])
    case number(min: Double?, max: Double?, exclusiveMin: Bool)
    case bool
    case string
    case choice([String])
    /// A file or folder path (existence is checked where the recipe needs it).
    case path
    case section([String: Field])
    case list(FieldType)
}

/// One option, declared once by the part of Grus that owns it: its type, range, default and
/// help. The recipe schema, `grus recipe-keys` and command-line flags are made from these.
public struct Field {
    public var type: FieldType
    public var required: Bool
    public var defaultValue: Any?
    public var help: String

    public init(_ type: FieldType, required: Bool = false, default value: Any? = nil, _ help: String = "") {
        self.type = type
        self.required = required
        defaultValue = value
        self.help = help
    }

    public static func section(_ fields: [String: Field], _ help: String = "") -> Field {
        Field(.section(fields), default: [String: Any](), help)
    }

    /// The field at a dotted key path (`frontend.audio.bins`), or nil.
    public func field(at keyPath: String) -> Field? {
        var f = self
        for k in keyPath.split(separator: ".") {
            guard case let .section(fields) = f.type, let next = fields[String(k)] else { return nil }
            f = next
        }
        return f
    }

    /// What the type accepts, for help texts: "int 1..512", "one of: a, b", ...
    public var typeDescription: String {
        func range<T>(_ lo: T?, _ hi: T?) -> String {
            switch (lo, hi) {
            case let (l?, h?): return " \(l)..\(h)"
            case let (l?, nil): return " ≥ \(l)"
            case let (nil, h?): return " ≤ \(h)"
            default: return ""
            }
        }
        switch type {
        case let .int(lo, hi, names): return "int" + range(lo, hi) + names.sorted { $0.key < $1.key }.map { " or '\($0.key)' (\($0.value))" }.joined()
        case let .number(lo, hi, exclusive):
            return "number" + (exclusive && lo != nil ? " > \(Field.format(lo!))" + (hi.map { ", ≤ \(Field.format($0))" } ?? "")
                               : range(lo.map(Field.format), hi.map(Field.format)))
        case .bool: return "bool"
        case .string: return "string"
        case .path: return "path"
        case let .choice(options): return "one of: " + options.joined(separator: ", ")
        case .section: return "section"
        case let .list(element): return "list of " + Field(element).typeDescription
        }
    }

    /// The default as written in a recipe.
    public var defaultDescription: String {
        guard let d = defaultValue else { return required ? "(required)" : "" }
        if case let .int(_, _, names) = type, let i = d as? Int, let name = names.first(where: { $0.value == i })?.key { return name }
        switch d {
        case let s as String: return s.isEmpty ? "''" : s
        case let a as [Any]: return "[" + a.map { "\($0)" }.joined(separator: ", ") + "]"
        case let x as Double: return Field.format(x)
        default: return "\(d)"
        }
    }
}

extension Field {
    public static func int(_ d: Int, min: Int? = nil, max: Int? = nil, _ help: String = "") -> Field {
        Field(.int(min: min, max: max), default: d, help)
    }
    public static func number(_ d: Double, min: Double? = nil, max: Double? = nil, exclusive: Bool = false, _ help: String = "") -> Field {
        Field(.number(min: min, max: max, exclusiveMin: exclusive), default: d, help)
    }
    public static func choice<E: RawRepresentable & CaseIterable>(_ d: E, _ help: String = "") -> Field where E.RawValue == String {
        Field(.choice(E.allCases.map(\.rawValue)), default: d.rawValue, help)
    }
    public static func choices<E: RawRepresentable & CaseIterable>(_: E.Type) -> FieldType where E.RawValue == String {
        .choice(E.allCases.map(\.rawValue))
    }
    public static func bool(_ d: Bool, _ help: String = "") -> Field { Field(.bool, default: d, help) }
    public static func string(_ d: String, _ help: String = "") -> Field { Field(.string, default: d, help) }
    public static func path(_ d: String = "", _ help: String = "") -> Field { Field(.path, default: d, help) }

    /// A number as a recipe writes it: whole numbers without a decimal point.
    public static func format(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e9 ? String(Int(d)) : "\(d)" }
}
