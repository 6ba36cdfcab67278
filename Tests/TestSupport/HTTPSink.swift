import Compression
import NIOCore
public import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A scriptable OTLP/HTTP backend on 127.0.0.1 (port 0) for tests: it records every request
/// (method, path, headers, raw and decoded body, arrival time) and answers from a list of scripted
/// responses, then with `fallback`. Optional TLS, optionally requiring client certificates (mTLS).
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

        public init(status: HTTPResponseStatus, headers: [(String, String)] = [], body: [UInt8] = [], delay: Duration? = nil) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

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

    private struct State {
        var scripted: [Response]
        var fallback: Response
        public var requests: [RecordedRequest] = []
        var connections: [any Channel] = []
    }

    private let state: Mutex<State>
    private let serverChannel: Mutex<(any Channel)?> = Mutex(nil)
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
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
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
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let sink = HTTPSink(
            responses: responses, fallback: .ok, port: channel.localAddress?.port ?? 0,
            scheme: tls == nil ? "http" : "https")
        sink.state.withLock { $0.fallback = fallback }
        sink.serverChannel.withLock { $0 = channel }
        box.withLock { $0 = sink }
        return sink
    }

    public var requests: [RecordedRequest] { state.withLock { $0.requests } }

    /// Adds responses to the end of the script.
    public func enqueue(_ responses: Response...) { state.withLock { $0.scripted += responses } }

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
        let request = RecordedRequest(
            method: head.method, path: head.uri, headers: headers, rawBody: body, body: decoded,
            receivedAt: .now)
        return state.withLock { state in
            state.requests.append(request)
            return state.scripted.isEmpty ? state.fallback : state.scripted.removeFirst()
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
