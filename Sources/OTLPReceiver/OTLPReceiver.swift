import Compression
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OTLPWire
public import Pipeline
import Prometheus
public import SelfTelemetry
public import ServiceLifecycle
import Synchronization

/// Settings of the OTLP/HTTP receiver (`receivers.otlp`).
public struct OTLPReceiverSettings: Sendable {
    public var host: String
    public var port: Int
    /// Largest body accepted, on the wire and inflated.
    public var maxRequestBody: Int
    /// Paths that take traces besides `/v1/traces` (Flux's `otel` Provider posts to the address's
    /// path verbatim: `/` with otel-go ≥ 1.45).
    public var extraTracesPaths: [String]
    /// When non-empty, requests must carry `Authorization: Bearer <token>` (or the basic credentials).
    public var bearerToken: String
    /// When both are non-empty, `Authorization: Basic base64(username:password)` is accepted.
    public var basicUsername: String
    public var basicPassword: String
    /// Serve https with this certificate chain and key (PEM files), requiring client certificates
    /// signed by `clientCAFile` when that is set.
    public var tls: TLSFiles?
    /// `Retry-After` seconds sent with 429/503 when the pipeline is full or stopping.
    public var retryAfterSeconds: Int

    public struct TLSFiles: Sendable {
        public var certFile: String
        public var keyFile: String
        public var clientCAFile: String
        public init(certFile: String, keyFile: String, clientCAFile: String = "") {
            self.certFile = certFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
        }
    }

    public init(
        host: String, port: Int, maxRequestBody: Int = 16 << 20, extraTracesPaths: [String] = ["/"],
        bearerToken: String = "", basicUsername: String = "", basicPassword: String = "",
        tls: TLSFiles? = nil, retryAfterSeconds: Int = 1
    ) {
        self.host = host
        self.port = port
        self.maxRequestBody = maxRequestBody
        self.extraTracesPaths = extraTracesPaths
        self.bearerToken = bearerToken
        self.basicUsername = basicUsername
        self.basicPassword = basicPassword
        self.tls = tls
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Whether requests must be authorised at all.
    var requiresAuthorization: Bool { !bearerToken.isEmpty || (!basicUsername.isEmpty && !basicPassword.isEmpty) }

    /// The `Authorization` header values accepted (UTF-8).
    var acceptedAuthorizations: [[UInt8]] {
        var accepted: [[UInt8]] = []
        if !bearerToken.isEmpty { accepted.append(Array("Bearer \(bearerToken)".utf8)) }
        if !basicUsername.isEmpty && !basicPassword.isEmpty {
            accepted.append(Array("Basic ".utf8) + base64Encode(Array("\(basicUsername):\(basicPassword)".utf8)))
        }
        return accepted
    }
}

/// OTLP/HTTP receiver (protobuf): validates and counts what arrives by walking the wire format,
/// and forwards the `Resource*` bytes to the pipeline unchanged.
public final class OTLPReceiver: Service, Sendable {
    let settings: OTLPReceiverSettings
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger
    private let readiness = ListenerReadiness()

    public init(settings: OTLPReceiverSettings, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger) {
        self.settings = settings
        self.pipeline = pipeline
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "component"] = "receiver.otlp"
        self.logger = logger
    }

    /// The bound port once listening (nil if binding failed).
    public func waitUntilBound() async -> Int? { await readiness.wait() }

    /// Whether it is bound and serving (for `/status`).
    public var isListening: Bool { readiness.port != nil }

    public func run() async throws {
        let context = IngestContext(settings: settings, pipeline: pipeline, metrics: metrics, logger: logger)
        let sslContext: NIOSSLContext?
        do {
            sslContext = try settings.tls.map(makeServerSSLContext)
        } catch {
            readiness.failed()
            logger.error("Cannot load the receiver's TLS files", metadata: ["error": "\(error)"])
            throw error
        }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        }
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(OTLPIngestHandler(context: context))
                    }
                }
                .bind(host: settings.host, port: settings.port).get()
        } catch {
            readiness.failed()
            logger.error(
                "Cannot listen for OTLP/HTTP",
                metadata: [
                    "address": "\(settings.host):\(settings.port)", "error": "\(error)",
                ])
            throw error
        }
        let port = channel.localAddress?.port ?? settings.port
        readiness.bound(port)
        logger.info(
            "Listening for OTLP/HTTP",
            metadata: [
                "address": "\(settings.host):\(port)", "tls": "\(settings.tls != nil)",
                "traces.paths": "\((["/v1/traces"] + settings.extraTracesPaths).joined(separator: ","))",
            ])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            // Stop accepting; requests already read are in the pipeline and will be flushed.
            channel.close(promise: nil)
        }
        logger.info("OTLP/HTTP receiver stopped")
    }
}

func makeServerSSLContext(_ files: OTLPReceiverSettings.TLSFiles) throws -> NIOSSLContext {
    let chain = try NIOSSLCertificate.fromPEMFile(files.certFile).map { NIOSSLCertificateSource.certificate($0) }
    var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: files.keyFile, format: .pem)))
    if !files.clientCAFile.isEmpty {
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .file(files.clientCAFile)
    }
    return try NIOSSLContext(configuration: configuration)
}

/// What every connection's handler shares.
final class IngestContext: Sendable {
    let settings: OTLPReceiverSettings
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger
    let acceptedAuthorizations: [[UInt8]]
    let acceptedRequests: [Signal: Counter]
    /// Refusals are logged at most once per `logInterval` (with the count since the last line).
    private let refusalLog = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))
    let logInterval: Duration = .seconds(10)

    init(settings: OTLPReceiverSettings, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger) {
        self.settings = settings
        self.pipeline = pipeline
        self.metrics = metrics
        self.logger = logger
        self.acceptedAuthorizations = settings.acceptedAuthorizations
        var accepted: [Signal: Counter] = [:]
        for signal in Signal.allCases { accepted[signal] = metrics.acceptedRequests(signal) }
        self.acceptedRequests = accepted
    }

    /// Counts a refused request and logs it, rate-limited, with what the sender can do about it.
    func refuse(_ signal: Signal, reason: String, items: Int, status: HTTPResponseStatus, message: String, peer: String)
    {
        metrics.refusedRequests(signal, reason: reason).increment()
        if items > 0 { metrics[signal].refused.increment(by: Int64(items)) }
        let now = ContinuousClock.now
        let suppressed: Int? = refusalLog.withLock { state in
            if let last = state.last, now - last < logInterval {
                state.suppressed += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.suppressed
        }
        guard let suppressed else { return }
        logger.warning(
            "Refused an OTLP request",
            metadata: [
                "signal": "\(signal)", "reason": "\(reason)", "http.status": "\(status.code)",
                "message": "\(message)", "peer": "\(peer)", "refusals.suppressed": "\(suppressed)",
            ])
    }

    func signal(forPath path: Substring) -> Signal? {
        switch path {
        case "/v1/traces": return .traces
        case "/v1/logs": return .logs
        case "/v1/metrics": return .metrics
        default: return settings.extraTracesPaths.contains(where: { $0 == path }) ? .traces : nil
        }
    }
}

/// The body encodings OTLP/HTTP allows.
enum PayloadEncoding: Sendable {
    case protobuf
    case json

    var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }
}

/// An HTTP response the handler writes.
struct IngestResponse {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []
    var close = false

    /// 200 with an empty `Export*ServiceResponse` (no partial success: everything was accepted).
    static func success(_ encoding: PayloadEncoding) -> Self {
        IngestResponse(status: .ok, contentType: encoding.contentType, body: encoding == .json ? Array("{}".utf8) : [])
    }

    /// 4xx/5xx with a `google.rpc.Status { code = 1; message = 2 }` body in the request's encoding.
    static func error(
        _ status: HTTPResponseStatus, grpcCode: Int, _ message: String, encoding: PayloadEncoding = .protobuf,
        close: Bool = false
    ) -> Self {
        let body: [UInt8]
        switch encoding {
        case .protobuf:
            var writer = ProtoWriter()
            writer.int32(1, Int32(grpcCode))
            writer.string(2, message)
            body = writer.bytes
        case .json:
            body = RPCStatusJSON.encode(code: grpcCode, message: message)
        }
        return IngestResponse(status: status, contentType: encoding.contentType, body: body, close: close)
    }
}

/// A refusal: the response plus the reason label counted in `/metrics`.
struct Refusal: Error {
    var reason: String
    var response: IngestResponse
    var items = 0
}

final class OTLPIngestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let context: IngestContext
    private var request: Request?
    private var body: ByteBuffer?
    /// Set once a response was decided before the body ended (413, 404, ...): ignore the rest.
    private var rejected = false

    struct Request {
        var head: HTTPRequestHead
        var signal: Signal
        var encoding: PayloadEncoding
        var compression: CompressionFormat?
    }

    init(context: IngestContext) { self.context = context }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            rejected = false
            body = nil
            request = nil
            do {
                request = try admit(head)
            } catch {
                rejected = true
                refuse(
                    channelContext, signal: signalGuess(head), error, version: head.version, keepAlive: head.isKeepAlive
                )
            }
        case .body(var chunk):
            guard !rejected, let request else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > context.settings.maxRequestBody {
                rejected = true
                self.body = nil
                let refusal = Refusal(
                    reason: "too_large",
                    response: .error(
                        .payloadTooLarge, grpcCode: 3,
                        "request body exceeds max_request_body (\(context.settings.maxRequestBody) bytes)",
                        encoding: request.encoding, close: true))
                refuse(channelContext, signal: request.signal, refusal, version: request.head.version, keepAlive: false)
                return
            }
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            defer {
                request = nil
                body = nil
            }
            guard !rejected, let request else { return }
            // 200 only once the request is in the queue: at once with the memory queue, once durable
            // with the persistent one (`queued` then runs on the syncer's thread: hop back to the loop).
            let eventLoop = channelContext.eventLoop
            let bound = NIOLoopBound((handler: self, context: channelContext), eventLoop: eventLoop)
            let accepted: @Sendable () -> Void = {
                let answer: @Sendable () -> Void = {
                    let (handler, channelContext) = bound.value
                    handler.context.acceptedRequests[request.signal]?.increment()
                    handler.respond(
                        channelContext, version: request.head.version, keepAlive: request.head.isKeepAlive,
                        .success(request.encoding))
                }
                if eventLoop.inEventLoop { answer() } else { eventLoop.execute(answer) }
            }
            do {
                try ingest(request, body: body, queued: accepted)
            } catch {
                refuse(
                    channelContext, signal: request.signal, error, version: request.head.version,
                    keepAlive: request.head.isKeepAlive)
            }
        }
    }

    private func signalGuess(_ head: HTTPRequestHead) -> Signal {
        context.signal(
            forPath: head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            ?? .traces
    }

    /// Decides from the head alone whether to read the body.
    private func admit(_ head: HTTPRequestHead) throws(Refusal) -> Request {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        let encoding: PayloadEncoding? =
            if contentType.hasPrefix("application/x-protobuf") || contentType.hasPrefix("application/protobuf") {
                .protobuf
            } else if contentType.hasPrefix("application/json") {
                .json
            } else {
                nil
            }
        let replyEncoding = encoding ?? .protobuf
        guard let signal = context.signal(forPath: path) else {
            let paths = (["/v1/traces", "/v1/logs", "/v1/metrics"] + context.settings.extraTracesPaths).joined(
                separator: ", ")
            throw Refusal(
                reason: "not_found",
                response: .error(
                    .notFound, grpcCode: 5, "no OTLP endpoint at \(path); POST to one of: \(paths)",
                    encoding: replyEncoding))
        }
        guard head.method == .POST else {
            var response = IngestResponse.error(
                .methodNotAllowed, grpcCode: 12, "OTLP/HTTP takes POST", encoding: replyEncoding)
            response.extraHeaders = [("Allow", "POST")]
            throw Refusal(reason: "method_not_allowed", response: response)
        }
        if context.settings.requiresAuthorization {
            let given = Array((head.headers.first(name: "authorization") ?? "").utf8)
            var matched = false
            for accepted in context.acceptedAuthorizations where constantTimeEquals(given, accepted) { matched = true }
            guard matched else {
                var response = IngestResponse.error(
                    .unauthorized, grpcCode: 16, "missing or wrong Authorization header", encoding: replyEncoding)
                response.extraHeaders = [
                    ("WWW-Authenticate", context.settings.bearerToken.isEmpty ? "Basic" : "Bearer")
                ]
                throw Refusal(reason: "unauthorized", response: response)
            }
        }
        guard let encoding else {
            throw Refusal(
                reason: "unsupported_media_type",
                response: .error(
                    .unsupportedMediaType, grpcCode: 3,
                    "unsupported Content-Type '\(contentType)': use application/x-protobuf or application/json"))
        }
        let compression: CompressionFormat?
        switch head.headers.first(name: "content-encoding")?.lowercased() ?? "" {
        case "", "identity": compression = nil
        case "gzip", "x-gzip": compression = .gzip
        case "deflate": compression = .deflate
        case let other:
            throw Refusal(
                reason: "unsupported_encoding",
                response: .error(
                    .unsupportedMediaType, grpcCode: 3,
                    "unsupported Content-Encoding '\(other)': use gzip, deflate or identity",
                    encoding: encoding))
        }
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }),
            length > context.settings.maxRequestBody
        {
            throw Refusal(
                reason: "too_large",
                response: .error(
                    .payloadTooLarge, grpcCode: 3,
                    "request body of \(length) bytes exceeds max_request_body (\(context.settings.maxRequestBody) bytes)",
                    encoding: encoding, close: true))
        }
        return Request(head: head, signal: signal, encoding: encoding, compression: compression)
    }

    /// 429 with Retry-After: the sender keeps the request and retries.
    private func queueFull(_ encoding: PayloadEncoding, items: Int) -> Refusal {
        var response = IngestResponse.error(
            .tooManyRequests, grpcCode: 8, "fluxtel's export queue is full; retry later", encoding: encoding)
        response.extraHeaders = [("Retry-After", "\(context.settings.retryAfterSeconds)")]
        return Refusal(reason: "queue_full", response: response, items: items)
    }

    /// Decodes, validates, counts and hands the request to the pipeline.
    private func ingest(
        _ request: Request, body buffer: ByteBuffer?, queued: @escaping @Sendable () -> Void
    ) throws(Refusal) {
        let signal = request.signal
        let encoding = request.encoding
        // Refused before decoding when no request this size can fit: a protobuf body decodes to at least
        // its compressed size less gzip's framing and stored-block overhead (JSON shrinks, so 1 byte).
        // Such a refusal counts the request, not its items, which nobody decoded.
        let received = buffer?.readableBytes ?? 0
        let leastBytes = encoding == .protobuf ? max(1, received - received / 8192 - 64) : 1
        if context.pipeline.isFull(forAtLeast: leastBytes) { throw queueFull(encoding, items: 0) }
        var bytes = buffer.map { Array($0.readableBytesView) } ?? []
        if let compression = request.compression {
            do {
                bytes = try Gzip.decompress(bytes, maxOutputBytes: context.settings.maxRequestBody, format: compression)
            } catch {
                if error.code == .tooLarge {
                    throw Refusal(
                        reason: "too_large",
                        response: .error(
                            .payloadTooLarge, grpcCode: 3,
                            "inflated body exceeds max_request_body (\(context.settings.maxRequestBody) bytes)",
                            encoding: encoding))
                }
                throw Refusal(
                    reason: "malformed",
                    response: .error(
                        .badRequest, grpcCode: 3, "invalid \(compression) body: \(error.message)", encoding: encoding))
            }
        }
        if bytes.isEmpty && encoding == .protobuf {
            // A protobuf message with no fields set: a valid, empty request (the spec and the Collector
            // answer 200 with an empty response).
            queued()
            return
        }
        if bytes.isEmpty {
            throw Refusal(
                reason: "malformed",
                response: .error(
                    .badRequest, grpcCode: 3, "empty request body: send an Export\(signal.messageStem)ServiceRequest",
                    encoding: encoding))
        }
        if encoding == .json {
            do {
                bytes = try JSONRequestDecoder.decode(signal: signal, json: bytes)
            } catch {
                throw Refusal(
                    reason: "malformed",
                    response: .error(
                        .badRequest, grpcCode: 3,
                        "malformed OTLP/JSON Export\(signal.messageStem)ServiceRequest: \(error)",
                        encoding: encoding))
            }
        }
        let items: Int
        do {
            items = try OTLPWalker.countItems(signal: signal, body: bytes)
        } catch {
            throw Refusal(
                reason: "malformed",
                response: .error(
                    .badRequest, grpcCode: 3, "malformed Export\(signal.messageStem)ServiceRequest: \(error)",
                    encoding: encoding))
        }
        if items == 0 {  // nothing to forward: an empty request is a successful no-op
            queued()
            return
        }
        switch context.pipeline.offer(TelemetryChunk(signal: signal, bytes: bytes, itemCount: items), queued: queued) {
        case .accepted:
            return
        case .full:
            throw queueFull(encoding, items: items)
        case .closed:
            var response = IngestResponse.error(
                .serviceUnavailable, grpcCode: 14, "fluxtel is shutting down; retry later", encoding: encoding)
            response.extraHeaders = [("Retry-After", "\(context.settings.retryAfterSeconds)")]
            throw Refusal(reason: "shutting_down", response: response, items: items)
        }
    }

    private func refuse(
        _ channelContext: ChannelHandlerContext, signal: Signal, _ refusal: Refusal, version: HTTPVersion,
        keepAlive: Bool
    ) {
        let peer = channelContext.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        context.refuse(
            signal, reason: refusal.reason, items: refusal.items, status: refusal.response.status,
            message: String(decoding: refusal.response.body, as: UTF8.self), peer: peer)
        respond(channelContext, version: version, keepAlive: keepAlive, refusal.response)
    }

    private func respond(
        _ channelContext: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, _ response: IngestResponse
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        let close = response.close || !keepAlive
        if close { headers.add(name: "Connection", value: "close") }
        channelContext.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))),
            promise: nil)
        if !response.body.isEmpty {
            channelContext.write(
                Self.wrapOutboundOut(.body(.byteBuffer(channelContext.channel.allocator.buffer(bytes: response.body)))),
                promise: nil)
        }
        let done = channelContext.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if close {
            let loopBound = NIOLoopBound(channelContext, eventLoop: channelContext.eventLoop)
            done.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension OTLPIngestHandler: Sendable {}

/// Compares secrets without an early exit, so timing does not leak how much matched.
func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
    let count = max(lhs.count, rhs.count)
    for index in 0..<count {
        let a = index < lhs.count ? lhs[index] : 0
        let b = index < rhs.count ? rhs[index] : 0
        difference |= a ^ b
    }
    return difference == 0
}

extension Signal {
    /// `Trace`, `Logs`, `Metrics` as in `ExportTraceServiceRequest`.
    var messageStem: String {
        switch self {
        case .traces: "Trace"
        case .logs: "Logs"
        case .metrics: "Metrics"
        }
    }
}

/// Standard base64 (RFC 4648) with padding, for comparing `Authorization: Basic` values.
func base64Encode(_ bytes: [UInt8]) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= bytes.count {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        out += [
            alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)],
        ]
        index += 3
    }
    let rest = bytes.count - index
    if rest == 1 {
        let n = UInt32(bytes[index]) << 16
        out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
    } else if rest == 2 {
        let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
        out += [
            alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "="),
        ]
    }
    return out
}
