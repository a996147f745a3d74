/// Errors that name the file (and where it applies, the key or line) and say what to do.
public enum GrusError: Error, CustomStringConvertible, Equatable {
    case io(path: String, message: String)
    case format(path: String, message: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .io(path, message): return "\(path): \(message)"
        case let .format(path, message): return "\(path): \(message)"
        case let .invalidArgument(message): return message
        }
    }
}

/// An error as a person reads it. A decoding error names the key path and what is wrong there
/// ("architecture.numTags is missing"), without Swift's dump of coding keys and contexts.
public func readable(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue, k.stringValue.hasPrefix("Index") { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + k.stringValue }
        }
        return out.isEmpty ? "the top level" : out
    }
    func kind(_ type: Any.Type) -> String {
        let name = "\(type)"
        if name.hasPrefix("Array") { return "a list" }
        if name.hasPrefix("Dictionary") { return "an object" }
        if ["Double", "Float", "Int"].contains(name) { return "a number" }
        if name == "String" { return "a string" }
        if name == "Bool" { return "true or false" }
        return name
    }
    switch e {
    case let .keyNotFound(key, context): return "\(path(context.codingPath + [key])) is missing"
    case let .typeMismatch(type, context): return "\(path(context.codingPath)) should be \(kind(type))"
    case let .valueNotFound(type, context): return "\(path(context.codingPath)) is null; it should be \(kind(type))"
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
}
