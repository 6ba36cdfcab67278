import HTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import OTLPJSON

/// The one Kubernetes API client of the agent: list (paged), watch (streamed), API discovery, and Leases,
/// over the project's HTTP client, with the service-account token re-read for every request. Callers
/// get `JSONValue` objects and pick the fields they need; the informer loop (``ListWatch``) sits on top.
public final class KubernetesClient: Sendable {
    public struct Limits: Sendable {
        /// Largest list response (one page). Default 64 MiB.
        public var maxListBytes: Int
        /// Largest single watch event. Default 16 MiB.
        public var maxEventBytes: Int
        /// Deadline of a list page, a discovery or Lease request. Default 60 s.
        public var requestTimeout: Duration
        /// Connections to the API server. HTTP/1.1 has no multiplexing: every open watch holds one, so this
        /// must exceed the number of watches (the Flux object source runs one per kind and namespace, plus
        /// Events) or a watch waits for a connection that never frees. Default 128.
        public var maxConnections: Int

        public init(
            maxListBytes: Int = 64 << 20, maxEventBytes: Int = 16 << 20, requestTimeout: Duration = .seconds(60),
            maxConnections: Int = 128
        ) {
            self.maxListBytes = maxListBytes
            self.maxEventBytes = maxEventBytes
            self.requestTimeout = requestTimeout
            self.maxConnections = maxConnections
        }
    }

    public let endpoint: KubernetesEndpoint
    let limits: Limits
    let token: BearerToken
    let http: HTTPClient

    public init(endpoint: KubernetesEndpoint, limits: Limits = Limits()) {
        self.endpoint = endpoint
        self.limits = limits
        self.token = BearerToken(path: endpoint.tokenPath)
        var configuration = HTTPClient.Configuration(
            connectTimeout: .seconds(10), maxConnectionsPerHost: limits.maxConnections)
        if endpoint.baseURL.hasPrefix("https"), !endpoint.caPath.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(endpoint.caPath)
            configuration.tls = tls
        }
        self.http = HTTPClient(configuration: configuration)
    }

    /// Closes the connections; calls still running fail.
    public func shutdown() async {
        await http.shutdown()
    }

    // MARK: requests

    func request(
        _ method: HTTPMethod = .GET, path: String, query: [(String, String)] = [], body: JSONValue? = nil
    ) throws -> HTTPRequest {
        var url = endpoint.baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        if let token = token.read() { headers.add(name: "Authorization", value: "Bearer \(token)") }
        var buffer: ByteBuffer?
        if let body {
            headers.add(name: "Content-Type", value: "application/json")
            buffer = ByteBuffer(bytes: body.encoded())
        }
        return try HTTPRequest(url: url, method: method, headers: headers, body: buffer)
    }

    /// Sends a request and decodes the JSON body of a 2xx answer; any other status becomes a ``KubernetesError``.
    func send(
        _ method: HTTPMethod = .GET, path: String, query: [(String, String)] = [], body: JSONValue? = nil,
        maxBodyBytes: Int = 8 << 20
    ) async throws -> JSONValue {
        let answer = try await execute(method, path: path, query: query, body: body, maxBodyBytes: maxBodyBytes)
        do { return try Self.decode(answer) } catch {
            throw KubernetesError.invalidResponse("\(path): the body is not JSON (\(error))")
        }
    }

    /// Sends a request and returns the body of a 2xx answer; any other status becomes a ``KubernetesError``
    /// (with the `Status` the body holds, if it is one).
    func execute(
        _ method: HTTPMethod = .GET, path: String, query: [(String, String)] = [], body: JSONValue? = nil,
        maxBodyBytes: Int = 8 << 20
    ) async throws -> ByteBuffer {
        let response = try await http.execute(
            request(method, path: path, query: query, body: body), timeout: limits.requestTimeout,
            maxBodyBytes: maxBodyBytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw KubernetesError(
                KubernetesStatus(
                    try? Self.decode(response.body), code: Int(response.status.code),
                    retryAfter: Self.retryAfter(response.headers)))
        }
        return response.body
    }

    static func decode(_ body: ByteBuffer) throws(OTLPJSONError) -> JSONValue {
        try withBytes(of: body) { (bytes) throws(OTLPJSONError) in try JSONValue.parse(bytes) }
    }

    /// The readable bytes of `body` as a buffer of `UInt8`.
    static func withBytes<R, E: Error>(
        of body: ByteBuffer, _ read: (UnsafeBufferPointer<UInt8>) throws(E) -> R
    ) throws(E) -> R {
        let result: Result<R, E> = body.withUnsafeReadableBytes { raw in
            do throws(E) {
                return .success(
                    try read(
                        UnsafeBufferPointer(
                            start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// `Retry-After` in seconds (the API server never sends an HTTP date).
    static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let text = headers.first(name: "Retry-After"), let seconds = Int(text), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
func percentEncode(_ text: String) -> String {
    let hex: [Character] = Array("0123456789ABCDEF")
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out.append("%")
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
    return out
}
