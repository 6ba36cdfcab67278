/// An `http(s)://host[:port][/path][?query]` URL split for a request: where to connect and what to
/// put in the request line. User info is dropped, a fragment is never sent.
public struct HTTPURL: Hashable, Sendable, CustomStringConvertible {
    public let scheme: Scheme
    /// Without IPv6 brackets.
    public let host: String
    public let port: Int
    /// Path and query, always starting with `/`.
    public let target: String

    public enum Scheme: String, Hashable, Sendable {
        case http, https
        var defaultPort: Int { self == .https ? 443 : 80 }
    }

    public init(_ text: String) throws(HTTPClientError) {
        guard let separator = Self.schemeSeparator(text) else {
            throw HTTPClientError(.invalidURL, "missing scheme in \"\(text)\"")
        }
        guard let scheme = Scheme(rawValue: text[..<separator.lowerBound].lowercased()) else {
            throw HTTPClientError(.invalidURL, "scheme must be http or https in \"\(text)\"")
        }
        var rest = text[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw HTTPClientError(.invalidURL, "unterminated IPv6 address in \"\(text)\"")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw HTTPClientError(.invalidURL, "garbage after IPv6 address in \"\(text)\"")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw HTTPClientError(.invalidURL, "missing host in \"\(text)\"") }
        var port = scheme.defaultPort
        if let portText, !portText.isEmpty {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw HTTPClientError(.invalidURL, "invalid port in \"\(text)\"")
            }
            port = parsed
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.target = target
    }

    /// The first `://`, found on the UTF-8 bytes: `firstRange(of:)` would link `_StringProcessing`'s
    /// 400 KB of code into every scrape (README "Footprint": the idle agent's code pages).
    static func schemeSeparator(_ text: String) -> Range<String.Index>? {
        let utf8 = text.utf8
        var from = utf8.startIndex
        while let colon = utf8[from...].firstIndex(of: UInt8(ascii: ":")) {
            let after = utf8.index(after: colon)
            if utf8[after...].starts(with: "//".utf8) { return colon..<utf8.index(after, offsetBy: 2) }
            from = after
        }
        return nil
    }

    /// `host` or `host:port` (port left out when it is the scheme's default), IPv6 bracketed.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == scheme.defaultPort ? name : "\(name):\(port)"
    }

    /// True when the host is an IPv4 or IPv6 literal (no DNS lookup, no SNI).
    var hostIsIPAddress: Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Resolves `location` (a `Location` header) against this URL: absolute, scheme-relative or path.
    func resolving(_ location: String) throws(HTTPClientError) -> HTTPURL {
        if Self.schemeSeparator(location) != nil { return try HTTPURL(location) }
        if location.hasPrefix("//") { return try HTTPURL("\(scheme.rawValue):\(location)") }
        let base = "\(scheme.rawValue)://\(hostHeader)"
        if location.hasPrefix("/") { return try HTTPURL(base + location) }
        let path = target.prefix { $0 != "?" }
        let directory = path[...(path.lastIndex(of: "/") ?? path.startIndex)]
        return try HTTPURL(base + directory + location)
    }

    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(target)" }
}
