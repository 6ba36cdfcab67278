import Compression
import NIOCore
public import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A scriptable OTLP/HTTP backend on 127.0.0.1 (port 0) for tests: it records every request
/// (method, path, headers, raw and decoded body, arrival time, the status it answered) and answers
/// from a `responder` (if set and it returns a response), else a list of scripted responses, then
/// `fallback`. Optional TLS, optionally requiring client certificates (mTLS).
///
/// Faults for the fault-injection suite: `setFallback(_:)` switches the answer at run time (503 for a
/// while, 429 with `Retry-After`), `Response.noAnswer` accepts a request and never answers (client
/// timeouts), a `responder` picks per request (400 for exactly one batch), and `stopListening()` /
/// `resumeListening()` refuse connections on the same port for a while.
///
/// ```swift
/// let sink = try await HTTPSink.start(responses: [.status(503), .status(503)], fallback: .ok)
/// defer { Task { try? await sink.shutdown() } }
/// // ... export to sink.baseURL ...
/// let requests = try await sink.waitForRequests(count: 3)
/// ```
public final class HTTPSink: Sendable {
    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// Wait this long before answering (to test client timeouts).
        public var delay: Duration?
        /// Never answer: the request is recorded, the connection stays open until the client gives up.
        public var neverAnswer: Bool

        public init(status: HTTPResponseStatus, headers: [(String, String)] = [], body: [UInt8] = [], delay: Duration? = nil,
                    neverAnswer: Bool = false) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
            self.neverAnswer = neverAnswer
        }

        /// Accept the request and never answer it (the client's timeout must fire).
        public static let noAnswer = Response(status: .ok, neverAnswer: true)

        /// 200 with an empty `Export*ServiceResponse` (full success).
        public static let ok = Response(status: .ok, headers: [("Content-Type", "application/x-protobuf")])

        public static func status(_ code: Int, headers: [(String, String)] = [], body: [UInt8] = []) -> Response {
            Response(status: HTTPResponseStatus(statusCode: code), headers: headers, body: body)
        }
    }

    public struct RecordedRequest: Sendable {
        public var method: HTTPMethod
        public var path: String
        public var headers: [(String, String)]
        /// As received on the wire.
        public var rawBody: [UInt8]
        /// Gunzipped when `Content-Encoding: gzip` (nil if that failed), else the raw body.
        public var body: [UInt8]?
        public var receivedAt: ContinuousClock.Instant
        /// The status the sink answered (after `delay`, if any); nil for `Response.noAnswer`.
        public var status: Int?

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public struct TLS: Sendable {
        public var certificateChainFile: String
        public var privateKeyFile: String
        /// When set, clients must present a certificate signed by this CA.
        public var clientCAFile: String?

        public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
            self.certificateChainFile = certificateChainFile
            self.privateKeyFile = privateKeyFile
            self.clientCAFile = clientCAFile
        }
    }

    /// Picks the answer to one request (it is not yet in `requests`, and has no `status`); nil falls
    /// through to the script and `fallback`. Called under the sink's lock: no blocking, no sink calls.
    public typealias Responder = @Sendable (RecordedRequest) -> Response?

    private struct State {
        var scripted: [Response]
        var fallback: Response
        var responder: Responder?
        public var requests: [RecordedRequest] = []
        var connections: [any Channel] = []
    }

    private let state: Mutex<State>
    private let serverChannel: Mutex<(any Channel)?> = Mutex(nil)
    /// Binds the listening socket (again) on `port`; set by `start`.
    private let bind: Mutex<(@Sendable (Int) async throws -> any Channel)?> = Mutex(nil)
    public let port: Int
    public let scheme: String

    /// `http://127.0.0.1:<port>` (or https).
    public var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    private init(responses: [Response], fallback: Response, port: Int, scheme: String) {
        self.state = Mutex(State(scripted: responses, fallback: fallback))
        self.port = port
        self.scheme = scheme
    }

    public static func start(responses: [Response] = [], fallback: Response = .ok, tls: TLS? = nil) async throws -> HTTPSink {
        var sslContext: NIOSSLContext?
        if let tls {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateChainFile).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.privateKeyFile, format: .pem)))
            if let clientCA = tls.clientCAFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
                configuration.certificateVerification = .noHostnameVerification
            }
            sslContext = try NIOSSLContext(configuration: configuration)
        }
        // The sink must exist before the first connection; its port is known only after bind.
        let box = Mutex<HTTPSink?>(nil)
        let context = sslContext
        let bind: @Sendable (Int) async throws -> any Channel = { port in
            try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard let sink = box.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                        if let context {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(SinkHandler(sink: sink))
                        sink.state.withLock { $0.connections.append(channel) }
                    }
                }
                .bind(host: "127.0.0.1", port: port)
                .get()
        }
        let channel = try await bind(0)
        let sink = HTTPSink(
            responses: responses, fallback: .ok, port: channel.localAddress?.port ?? 0,
            scheme: tls == nil ? "http" : "https")
        sink.state.withLock { $0.fallback = fallback }
        sink.serverChannel.withLock { $0 = channel }
        sink.bind.withLock { $0 = bind }
        box.withLock { $0 = sink }
        return sink
    }

    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Adds responses to the end of the script.
    public func enqueue(_ responses: Response...) { state.withLock { $0.scripted += responses } }

    /// The answer once the script is used up, from now on (e.g. 503 during an outage, then `.ok`).
    public func setFallback(_ response: Response) { state.withLock { $0.fallback = response } }

    /// Consulted first for every request from now on (nil removes it); see ``Responder``.
    public func setResponder(_ responder: Responder?) { state.withLock { $0.responder = responder } }

    /// Refuses connections: closes the listening socket and every open connection (requests not yet
    /// answered get none). `resumeListening()` binds the same port again.
    public func stopListening() async {
        let (channel, connections) = (
            serverChannel.withLock { channel in
                defer { channel = nil }
                return channel
            },
            state.withLock { state in
                defer { state.connections.removeAll() }
                return state.connections
            }
        )
        try? await channel?.close()
        for connection in connections { try? await connection.close() }
    }

    /// Listens on `port` again after `stopListening()` (retrying briefly while the port is in TIME_WAIT).
    public func resumeListening() async throws {
        guard let bind = bind.withLock({ $0 }), serverChannel.withLock({ $0 }) == nil else { return }
        var attempt = 0
        while true {
            do {
                let channel = try await bind(port)
                serverChannel.withLock { $0 = channel }
                return
            } catch {
                attempt += 1
                if attempt >= 50 { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Closes every open connection (e.g. those held by `Response.noAnswer`), keeping the listener.
    public func closeConnections() async {
        let connections = state.withLock { state in
            defer { state.connections.removeAll() }
            return state.connections
        }
        for connection in connections { try? await connection.close() }
    }

    /// Waits until at least `count` requests arrived (or throws after `timeout`).
    public func waitForRequests(count: Int, timeout: Duration = .seconds(10)) async throws -> [RecordedRequest] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = requests
            if current.count >= count { return current }
            guard ContinuousClock.now < deadline else { throw SinkTimeout(expected: count, received: current.count) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct SinkTimeout: Error { var expected: Int, received: Int }

    public func shutdown() async throws {
        let (channel, connections) = (
            serverChannel.withLock { $0 }, state.withLock { $0.connections }
        )
        try await channel?.close()
        for connection in connections { try? await connection.close() }
    }

    fileprivate func record(head: HTTPRequestHead, body: [UInt8]) -> Response {
        let headers = head.headers.map { ($0.name, $0.value) }
        var decoded: [UInt8]? = body
        if head.headers.first(name: "content-encoding")?.lowercased() == "gzip" {
            decoded = try? Gzip.decompress(body, maxOutputBytes: 64 << 20, format: .gzip)
        }
        var request = RecordedRequest(
            method: head.method, path: head.uri, headers: headers, rawBody: body, body: decoded,
            receivedAt: .now)
        return state.withLock { state in
            let response =
                state.responder?(request)
                ?? (state.scripted.isEmpty ? state.fallback : state.scripted.removeFirst())
            request.status = response.neverAnswer ? nil : Int(response.status.code)
            state.requests.append(request)
            return response
        }
    }
}

private final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sink: HTTPSink
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(sink: HTTPSink) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            self.head = nil
            let response = sink.record(head: head, body: body)
            let keepAlive = head.isKeepAlive
            if response.neverAnswer { return }
            if let delay = response.delay {
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(
                    in: .nanoseconds(
                        Int64(delay.components.seconds) * 1_000_000_000
                            + delay.components.attoseconds / 1_000_000_000)
                ) {
                    let (handler, context) = loopBound.value
                    handler.respond(response, keepAlive: keepAlive, context: context)
                }
            } else {
                respond(response, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func respond(_ response: HTTPSink.Response, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "Content-Length", value: "\(response.body.count)")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))),
            promise: nil)
        if !response.body.isEmpty {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        let done = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension SinkHandler: Sendable {}
