/// A configuration the exporter cannot run with (bad URL, unreadable certificate, ...).
public struct ExporterConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        enum Base: Hashable, Sendable { case invalidEndpoint, tls }
        let base: Base
        public static let invalidEndpoint = Code(base: .invalidEndpoint)
        public static let tls = Code(base: .tls)
    }

    public let code: Code
    public let message: String
    let file: String
    let line: Int

    public static func invalidEndpoint(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .invalidEndpoint, message: message, file: file, line: line)
    }

    public static func tls(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .tls, message: message, file: file, line: line)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "ExporterConfigurationError(\(code.base)): \(message) [\(file):\(line)]" }
}
