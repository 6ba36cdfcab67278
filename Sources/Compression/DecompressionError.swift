/// Why inflating a body failed: the output would pass the caller's cap (a gzip bomb, or simply a
/// body larger than allowed), or the input is not a valid deflate/gzip stream.
///
/// Match on ``code``; equality compares codes only.
public struct DecompressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable { case tooLarge, corrupt }
        let base: Base
        /// The inflated output would pass `maxOutputBytes`.
        public static let tooLarge = Code(base: .tooLarge)
        /// The input is not a valid stream (bad header, bad data, truncated, trailing garbage).
        public static let corrupt = Code(base: .corrupt)
        public var description: String {
            switch base {
            case .tooLarge: "tooLarge"
            case .corrupt: "corrupt"
            }
        }
    }

    public let code: Code
    /// Human-readable detail (zlib's message for corrupt data, the cap for `tooLarge`).
    public let message: String
    let file: String
    let line: Int

    public static func tooLarge(limit: Int, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .tooLarge, message: "inflated size exceeds \(limit) bytes", file: file, line: line)
    }

    public static func corrupt(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .corrupt, message: message, file: file, line: line)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "DecompressionError(\(code)): \(message) [\(file):\(line)]" }
}
