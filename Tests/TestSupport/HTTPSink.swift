import Compression
import NIOCore
public import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scriptable OTLP/HTTP backend on 127.0.0.1 (port 0) for tests: it records every request
/// (method, path, headers, raw and decoded body, arrival time, the status it answered) and answers
/// from a `responder` (if set and it returns a response), else a list of scripted responses, then
/// `fallback`. Optional TLS, optionally requiring client certificates (mTLS).
///
/// Faults for the fault-injection suite: `setFallback(_:)` switches the answer at run time (503 for a
/// while, 429 with `Retry-After`), `Response.noAnswer` accepts a request and never answers (client
/// timeouts), a `responder` picks per request (400 for exactly one batch), and `stopListening()` /
/// `resumeListening()` refuse connections on the same port for a while: the port stays bound (never
/// listening) meanwhile, so no other server can take it.
///
/// Tests wait on the sink, not on time: `waitForRequests(atLeast:)` returns as soon as enough requests
/// arrived, `waitUntil(_:)` hands each batch of new requests to a check until it holds. Their bounds
/// only catch a hang (60 s, scaled by `FLUXTEL_TEST_TIME_SCALE`).
///
/// ```swift
/// let sink = try await HTTPSink.start(responses: [.status(503), .status(503)], fallback: .ok)
/// defer { Task { try? await sink.shutdown() } }
/// // ... export to sink.baseURL ...
/// let requests = try await sink.waitForRequests(atLeast: 3)
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

        public init(
            status: HTTPResponseStatus, headers: [(String, String)] = [], body: [UInt8] = [], delay: Duration? = nil,
            neverAnswer: Bool = false
        ) {
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

    /// A caller of `waitForRequests(atLeast:)`, resumed once `count` requests arrived.
    private struct Waiter {
        var id: Int
        var count: Int
        var continuation: CheckedContinuation<[RecordedRequest], any Error>
    }

    private struct State {
        var scripted: [Response]
        var fallback: Response
        var responder: Responder?
        var requests: [RecordedRequest] = []
        var connections: [any Channel] = []
        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// Waiters that timed out or were cancelled before they were registered.
        var abandoned: [Int: any Error] = [:]
    }

    private let state: Mutex<State>
    private let serverChannel: Mutex<(any Channel)?> = Mutex(nil)
    /// While the sink is stopped: a socket bound to `port` (never listening), so connections are
    /// refused and no other server can bind the port meanwhile.
    private let placeholder: Mutex<Int32?> = Mutex(nil)
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

    public static func start(
        responses: [Response] = [], fallback: Response = .ok, tls: TLS? = nil
    ) async throws -> HTTPSink {
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
                // With SO_REUSEPORT, `stopListening()` can hold the port with a second socket before
                // the listener closes, and `resumeListening()` can bind it again before letting go.
                .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
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

    /// Refuses connections: binds a placeholder socket to the port (never listening: connections are
    /// refused, and no other server can take the port), then closes the listening socket and every
    /// open connection (requests not yet answered get none). `resumeListening()` listens on the same
    /// port again.
    public func stopListening() async throws {
        guard placeholder.withLock({ $0 }) == nil else { return }
        let fd = try Self.bindPlaceholder(port: port)
        placeholder.withLock { $0 = fd }
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

    /// Listens on `port` again after `stopListening()`: binds it while the placeholder still holds it,
    /// then lets the placeholder go.
    public func resumeListening() async throws {
        guard let bind = bind.withLock({ $0 }), serverChannel.withLock({ $0 }) == nil else { return }
        let channel = try await bind(port)
        serverChannel.withLock { $0 = channel }
        if let fd = placeholder.withLock({ fd in
            defer { fd = nil }
            return fd
        }) {
            close(fd)
        }
    }

    /// Whether the sink is listening (false between `stopListening()` and `resumeListening()`).
    public var isListening: Bool { serverChannel.withLock { $0 } != nil }

    struct PlaceholderError: Error, CustomStringConvertible {
        var port: Int
        var errno: Int32
        var description: String { "cannot hold 127.0.0.1:\(port) while the sink is stopped (errno \(errno))" }
    }

    /// A TCP socket with SO_REUSEADDR and SO_REUSEPORT bound to 127.0.0.1:`port`, not listening.
    private static func bindPlaceholder(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw PlaceholderError(port: port, errno: errno) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withLoopbackAddress(port: port) { bindSocket(fd, $0, $1) }
        guard bound == 0 else {
            let error = PlaceholderError(port: port, errno: errno)
            close(fd)
            throw error
        }
        return fd
    }

    /// Closes every open connection (e.g. those held by `Response.noAnswer`), keeping the listener.
    public func closeConnections() async {
        let connections = state.withLock { state in
            defer { state.connections.removeAll() }
            return state.connections
        }
        for connection in connections { try? await connection.close() }
    }

    /// Returns every request so far as soon as at least `count` arrived; throws `SinkTimeout` if they
    /// did not within `timeout` (a hang bound, scaled by `FLUXTEL_TEST_TIME_SCALE`).
    public func waitForRequests(atLeast count: Int, timeout: Duration = .seconds(60)) async throws -> [RecordedRequest]
    {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        let bound = TestTime.scaled(timeout)
        let timer = Task { [weak self] in
            try await Task.sleep(for: bound)  // the hang bound; cancelled once the requests are in
            self?.abandonWaiter(id, SinkTimeout(expected: count, received: self?.requests.count ?? 0, waited: bound))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<[RecordedRequest], any Error>? = state.withLock { state in
                    if let error = state.abandoned.removeValue(forKey: id) { return .failure(error) }
                    if state.requests.count >= count { return .success(state.requests) }
                    state.waiters.append(Waiter(id: id, count: count, continuation: continuation))
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            abandonWaiter(id, CancellationError())
        }
    }

    /// The same as `waitForRequests(atLeast: count, timeout: timeout)`.
    public func waitForRequests(count: Int, timeout: Duration = .seconds(60)) async throws -> [RecordedRequest] {
        try await waitForRequests(atLeast: count, timeout: timeout)
    }

    /// Hands `check` the requests that arrived since its previous call (first: all so far), each time
    /// more arrive, until it returns true. Throws `SinkTimeout` if it has not within `timeout` (a hang
    /// bound, scaled by `FLUXTEL_TEST_TIME_SCALE`). `check` runs in the caller's task: decode
    /// incrementally there.
    public func waitUntil(
        timeout: Duration = .seconds(60), _ check: (ArraySlice<RecordedRequest>) throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + TestTime.scaled(timeout)
        var seen = 0
        var all = requests
        while true {
            if try check(all[seen...]) { return }
            seen = all.count
            // Already scaled: wait out what is left of the bound.
            let left = (deadline - ContinuousClock.now) / TestTime.scale
            guard left > .zero else {
                throw SinkTimeout(expected: seen + 1, received: seen, waited: TestTime.scaled(timeout))
            }
            all = try await waitForRequests(atLeast: seen + 1, timeout: left)
        }
    }

    private func abandonWaiter(_ id: Int, _ error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            if let index = state.waiters.firstIndex(where: { $0.id == id }) { return state.waiters.remove(at: index) }
            state.abandoned[id] = error
            return nil
        }
        waiter?.continuation.resume(throwing: error)
    }

    public struct SinkTimeout: Error, CustomStringConvertible {
        public var expected: Int
        public var received: Int
        public var waited: Duration
        public var description: String { "the sink received \(received) of \(expected) requests within \(waited)" }
    }

    public func shutdown() async throws {
        let (channel, connections) = (
            serverChannel.withLock { $0 }, state.withLock { $0.connections }
        )
        try await channel?.close()
        for connection in connections { try? await connection.close() }
        if let fd = placeholder.withLock({ fd in
            defer { fd = nil }
            return fd
        }) {
            close(fd)
        }
    }

    fileprivate func record(head: HTTPRequestHead, body: [UInt8]) -> Response {
        let headers = head.headers.map { ($0.name, $0.value) }
        var decoded: [UInt8]? = body
        if head.headers.first(name: "content-encoding")?.lowercased() == "gzip" {
            decoded = try? Gzip.decompress(body, maxOutputBytes: 256 << 20, format: .gzip)
        }
        var request = RecordedRequest(
            method: head.method, path: head.uri, headers: headers, rawBody: body, body: decoded,
            receivedAt: .now)
        let (response, satisfied, requests) = state.withLock { state in
            let response =
                state.responder?(request)
                ?? (state.scripted.isEmpty ? state.fallback : state.scripted.removeFirst())
            request.status = response.neverAnswer ? nil : Int(response.status.code)
            state.requests.append(request)
            let count = state.requests.count
            let satisfied = state.waiters.filter { $0.count <= count }
            state.waiters.removeAll { $0.count <= count }
            return (response, satisfied, satisfied.isEmpty ? [] : state.requests)
        }
        for waiter in satisfied { waiter.continuation.resume(returning: requests) }
        return response
    }
}

/// bind(2) (inside `HTTPSink`, `bind` names its property).
private func bindSocket(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    bind(fd, address, length)
}

private final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sink: HTTPSink
    private var collector = HTTPRequestCollector()

    init(sink: HTTPSink) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let (head, body)? = collector.add(Self.unwrapInboundIn(data)) else { return }
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
