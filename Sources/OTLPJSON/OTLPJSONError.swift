/// Invalid OTLP/JSON input: where (byte offset), in which field (JSON path) and why.
///
/// `description` reads like `resourceSpans[0].scopeSpans[0].spans[3].startTimeUnixNano: expected a
/// string or number (at byte 412)`: the path uses the keys as the request spelled them.
public struct OTLPJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Byte offset, from the start of the JSON text, of the offending value or character.
    public var offset: Int
    /// JSON path of the offending value (`""` for the top level).
    public var path: String
    /// What is wrong, in words.
    public var reason: String

    public init(offset: Int, path: String = "", reason: String) {
        self.offset = offset
        self.path = path
        self.reason = reason
    }

    public var description: String {
        path.isEmpty ? "\(reason) (at byte \(offset))" : "\(path): \(reason) (at byte \(offset))"
    }

    /// Prepends an object member name to the path.
    mutating func prependKey(_ key: String) {
        path = path.isEmpty || path.hasPrefix("[") ? key + path : key + "." + path
    }

    /// Prepends an array index to the path.
    mutating func prependIndex(_ index: Int) {
        path = path.isEmpty || path.hasPrefix("[") ? "[\(index)]" + path : "[\(index)]." + path
    }
}
