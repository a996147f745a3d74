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
