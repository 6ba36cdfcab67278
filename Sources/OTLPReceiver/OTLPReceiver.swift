import Compression
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import OTLPWire
public import Pipeline
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
    /// When non-empty, requests must carry `Authorization: Bearer <token>`.
    public var bearerToken: String
    /// `Retry-After` seconds sent with 429 when the pipeline is full.
    public var retryAfterSeconds: Int

    public init(host: String, port: Int, maxRequestBody: Int = 16 << 20, extraTracesPaths: [String] = ["/"],
                bearerToken: String = "", retryAfterSeconds: Int = 1) {
        self.host = host
        self.port = port
        self.maxRequestBody = maxRequestBody
        self.extraTracesPaths = extraTracesPaths
        self.bearerToken = bearerToken
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// OTLP/HTTP receiver (protobuf): validates and counts what arrives by walking the wire format,
/// and forwards the `Resource*` bytes to the pipeline unchanged.
public final class OTLPReceiver: Service, Sendable {
    let settings: OTLPReceiverSettings
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger
    private let boundPort = Mutex<Int?>(nil)
    private let (bound, boundContinuation) = AsyncStream.makeStream(of: Int.self)

    public init(settings: OTLPReceiverSettings, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger) {
        self.settings = settings
        self.pipeline = pipeline
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "component"] = "receiver.otlp"
        self.logger = logger
    }

    /// The bound port once listening (nil if binding failed).
    public func waitUntilBound() async -> Int? {
        if let port = boundPort.withLock({ $0 }) { return port }
        for await port in bound { return port }
        return boundPort.withLock { $0 }
    }

    public func run() async throws {
        let context = IngestContext(settings: settings, pipeline: pipeline, metrics: metrics, logger: logger)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(OTLPIngestHandler(context: context))
                    }
                }
                .bind(host: settings.host, port: settings.port).get()
        } catch {
            boundContinuation.finish()
            logger.error("Cannot listen for OTLP/HTTP", metadata: [
                "address": "\(settings.host):\(settings.port)", "error": "\(error)",
            ])
            throw error
        }
        let port = channel.localAddress?.port ?? settings.port
        boundPort.withLock { $0 = port }
        boundContinuation.yield(port)
        boundContinuation.finish()
        logger.info("Listening for OTLP/HTTP", metadata: ["address": "\(settings.host):\(port)"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            // Stop accepting; requests already read are in the pipeline and will be flushed.
            channel.close(promise: nil)
        }
        logger.info("OTLP/HTTP receiver stopped")
    }
}

/// What every connection's handler shares.
struct IngestContext: Sendable {
    let settings: OTLPReceiverSettings
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger

    func signal(forPath path: Substring) -> Signal? {
        switch path {
        case "/v1/traces": return .traces
        case "/v1/logs": return .logs
        case "/v1/metrics": return .metrics
        default: return settings.extraTracesPaths.contains(where: { $0 == path }) ? .traces : nil
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

    /// 4xx/5xx with a `google.rpc.Status { code = 1; message = 2 }` body.
    static func error(_ status: HTTPResponseStatus, grpcCode: Int, _ message: String, close: Bool = false) -> Self {
        var writer = ProtoWriter()
        writer.int32(1, Int32(grpcCode))
        writer.string(2, message)
        return IngestResponse(status: status, contentType: "application/x-protobuf", body: writer.bytes, close: close)
    }
}

final class OTLPIngestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let context: IngestContext
    private var request: (head: HTTPRequestHead, signal: Signal, gzip: Bool)?
    private var body: ByteBuffer?
    /// Set once a response was decided before the body ended (413, 404, ...): ignore the rest.
    private var rejected = false

    init(context: IngestContext) { self.context = context }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            rejected = false
            body = nil
            request = nil
            if let response = admit(head) {
                rejected = true
                respond(channelContext, version: head.version, keepAlive: head.isKeepAlive, response)
            }
        case .body(var chunk):
            guard !rejected, let request else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > context.settings.maxRequestBody {
                rejected = true
                self.body = nil
                refuse(request.signal, items: 0)
                respond(channelContext, version: request.head.version, keepAlive: false,
                        .error(.payloadTooLarge, grpcCode: 3, "request body exceeds max_request_body (\(context.settings.maxRequestBody) bytes)", close: true))
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
            let response = ingest(request.signal, gzip: request.gzip, body: body)
            respond(channelContext, version: request.head.version, keepAlive: request.head.isKeepAlive, response)
        }
    }

    /// Decides from the head alone; nil means "read the body".
    private func admit(_ head: HTTPRequestHead) -> IngestResponse? {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let signal = context.signal(forPath: path) else {
            let paths = (["/v1/traces", "/v1/logs", "/v1/metrics"] + context.settings.extraTracesPaths).joined(separator: ", ")
            return .error(.notFound, grpcCode: 5, "no OTLP endpoint at \(path); POST to one of: \(paths)")
        }
        guard head.method == .POST else {
            var response = IngestResponse.error(.methodNotAllowed, grpcCode: 12, "OTLP/HTTP takes POST")
            response.extraHeaders = [("Allow", "POST")]
            return response
        }
        if !context.settings.bearerToken.isEmpty {
            let given = head.headers.first(name: "authorization") ?? ""
            guard constantTimeEquals(Array(given.utf8), Array("Bearer \(context.settings.bearerToken)".utf8)) else {
                refuse(signal, items: 0)
                var response = IngestResponse.error(.unauthorized, grpcCode: 16, "missing or wrong Authorization header")
                response.extraHeaders = [("WWW-Authenticate", "Bearer")]
                return response
            }
        }
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-protobuf") || contentType.hasPrefix("application/protobuf") else {
            refuse(signal, items: 0)
            return .error(.unsupportedMediaType, grpcCode: 3, "unsupported Content-Type '\(contentType)': use application/x-protobuf")
        }
        let encoding = head.headers.first(name: "content-encoding")?.lowercased() ?? "identity"
        guard encoding == "identity" || encoding == "gzip" || encoding.isEmpty else {
            refuse(signal, items: 0)
            return .error(.unsupportedMediaType, grpcCode: 3, "unsupported Content-Encoding '\(encoding)': use gzip or identity")
        }
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > context.settings.maxRequestBody {
            refuse(signal, items: 0)
            return .error(.payloadTooLarge, grpcCode: 3, "request body of \(length) bytes exceeds max_request_body (\(context.settings.maxRequestBody) bytes)", close: true)
        }
        request = (head, signal, encoding == "gzip")
        return nil
    }

    private func ingest(_ signal: Signal, gzip: Bool, body buffer: ByteBuffer?) -> IngestResponse {
        var bytes = buffer.map { Array($0.readableBytesView) } ?? []
        if gzip {
            do {
                bytes = try Gzip.decompress(bytes, maxOutputBytes: context.settings.maxRequestBody)
            } catch {
                refuse(signal, items: 0)
                if error.code == .tooLarge {
                    return .error(.payloadTooLarge, grpcCode: 3, "inflated body exceeds max_request_body (\(context.settings.maxRequestBody) bytes)")
                }
                return .error(.badRequest, grpcCode: 3, "invalid gzip body: \(error.message)")
            }
        }
        let items: Int
        do {
            items = try OTLPWalker.countItems(signal: signal, body: bytes)
        } catch {
            refuse(signal, items: 0)
            context.logger.debug("Refused malformed OTLP request", metadata: ["signal": "\(signal)", "error": "\(error)"])
            return .error(.badRequest, grpcCode: 3, "malformed Export\(signal.messageStem)ServiceRequest: \(error)")
        }
        if items == 0 && bytes.isEmpty {
            return IngestResponse(status: .ok, contentType: "application/x-protobuf", body: [])
        }
        switch context.pipeline.offer(TelemetryChunk(signal: signal, bytes: bytes, itemCount: items)) {
        case .accepted:
            return IngestResponse(status: .ok, contentType: "application/x-protobuf", body: [])
        case .full:
            refuse(signal, items: items)
            var response = IngestResponse.error(.tooManyRequests, grpcCode: 8, "fluxtel's export queue is full; retry later")
            response.extraHeaders = [("Retry-After", "\(context.settings.retryAfterSeconds)")]
            return response
        case .closed:
            refuse(signal, items: items)
            var response = IngestResponse.error(.serviceUnavailable, grpcCode: 14, "fluxtel is shutting down; retry later")
            response.extraHeaders = [("Retry-After", "\(context.settings.retryAfterSeconds)")]
            return response
        }
    }

    private func refuse(_ signal: Signal, items: Int) {
        context.metrics[signal].refusedRequests.increment()
        if items > 0 { context.metrics[signal].refused.increment(by: Int64(items)) }
    }

    private func respond(_ channelContext: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, _ response: IngestResponse) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
        let close = response.close || !keepAlive
        if close { headers.add(name: "Connection", value: "close") }
        channelContext.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        if !response.body.isEmpty {
            channelContext.write(Self.wrapOutboundOut(.body(.byteBuffer(channelContext.channel.allocator.buffer(bytes: response.body)))), promise: nil)
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
