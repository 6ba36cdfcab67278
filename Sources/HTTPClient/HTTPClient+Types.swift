public import NIOCore
public import NIOHTTP1
public import NIOSSL

extension HTTPClient {
    public struct Configuration: Sendable {
        /// TLS for https URLs; `nil`: verify against the system trust store. The NIOSSL context is
        /// built on the first https connection (an http-only client never loads the trust store).
        public var tls: TLSConfiguration?
        /// Longest wait for the TCP connection (bounded by the request deadline too). Default 10 s.
        public var connectTimeout: Duration
        /// Connections per scheme/host/port, busy and idle together; more requests wait. Default 8.
        public var maxConnectionsPerHost: Int
        /// An idle keep-alive connection is closed after this. Default 60 s.
        public var idleTimeout: Duration
        /// Redirects followed for GET requests (301, 302, 303, 307, 308); 0: none. Default 0.
        public var maxRedirects: Int

        public init(
            tls: TLSConfiguration? = nil, connectTimeout: Duration = .seconds(10), maxConnectionsPerHost: Int = 8,
            idleTimeout: Duration = .seconds(60), maxRedirects: Int = 0
        ) {
            self.tls = tls
            self.connectTimeout = connectTimeout
            self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
            self.idleTimeout = idleTimeout
            self.maxRedirects = max(0, maxRedirects)
        }
    }
}

/// One request. The body is sent as given (`Content-Length` is set from it), so a caller can build
/// it in a `ByteBuffer` (gzip straight into it) without another copy.
public struct HTTPRequest: Sendable {
    public var url: HTTPURL
    public var method: HTTPMethod
    /// `Host`, `Content-Length` and `Connection` are the client's; others are sent in order.
    public var headers: HTTPHeaders
    public var body: ByteBuffer?

    public init(url: HTTPURL, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }

    public init(
        url: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: ByteBuffer? = nil
    )
        throws(HTTPClientError)
    {
        self.init(url: try HTTPURL(url), method: method, headers: headers, body: body)
    }

    var head: HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(self.headers.count + 2)
        headers.add(name: "Host", value: url.hostHeader)
        for (name, value) in self.headers {
            switch name.lowercased() {
            case "host", "content-length", "connection", "transfer-encoding": continue
            default: headers.add(name: name, value: value)
            }
        }
        if let body {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        } else if method == .POST || method == .PUT || method == .PATCH {
            headers.add(name: "Content-Length", value: "0")
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: url.target, headers: headers)
    }
}

/// A complete response: status, headers and the body (at most the request's limit).
public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
}

/// A response whose body arrives as it comes (a Kubernetes watch). Stop iterating (or cancel the
/// task) to close the connection; a fully read body returns it to the pool.
public struct HTTPStreamingResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: AsyncThrowingStream<ByteBuffer, any Error>
}
