/// Why a request failed inside the client. Errors of the layers below (connection refused, TLS
/// handshake failures from NIOSSL, ...) are passed through unchanged.
public struct HTTPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: String, Hashable, Sendable {
            case invalidURL, connectTimeout, deadlineExceeded, bodyTooLarge, connectionClosed, tooManyRedirects
            case shutDown
        }
        let base: Base
        public static let invalidURL = Code(base: .invalidURL)
        /// No TCP connection (and TLS handshake) within the connect timeout.
        public static let connectTimeout = Code(base: .connectTimeout)
        /// The whole request (connect, send, response head and body) did not finish by its deadline.
        public static let deadlineExceeded = Code(base: .deadlineExceeded)
        /// The response body is larger than the request's limit.
        public static let bodyTooLarge = Code(base: .bodyTooLarge)
        /// The server closed the connection before the response was complete.
        public static let connectionClosed = Code(base: .connectionClosed)
        public static let tooManyRedirects = Code(base: .tooManyRedirects)
        /// The client was shut down.
        public static let shutDown = Code(base: .shutDown)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let message: String
    let file: String
    let line: Int

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// True for the two ways a request runs out of time.
    public var isTimeout: Bool { code == .connectTimeout || code == .deadlineExceeded }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "HTTPClientError(\(code)): \(message)" }
}
