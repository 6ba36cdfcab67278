public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle

/// Serves `/metrics` (Prometheus text), `/status` (JSON, `StatusBoard`), `/healthz` and `/readyz` on
/// `service.telemetry.address`.
public final class TelemetryServer: Service, Sendable {
    let host: String
    let port: Int
    let metrics: AgentMetrics
    let health: HealthState
    let logger: Logger
    private let readiness = ListenerReadiness()

    public init(host: String, port: Int, metrics: AgentMetrics, health: HealthState, logger: Logger) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.health = health
        self.logger = logger.component("telemetry")
    }

    /// The port actually bound (useful with port 0), once `run()` has bound it.
    public func waitUntilBound() async -> Int? { await readiness.wait() }

    public func run() async throws {
        let metrics = self.metrics
        let health = self.health
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(
                            TelemetryHandler(metrics: metrics, health: health))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            readiness.failed()
            logger.error(
                "Cannot listen for self-telemetry", metadata: ["address": "\(host):\(port)", "error": "\(error)"])
            throw error
        }
        let actualPort = channel.localAddress?.port ?? port
        readiness.bound(actualPort)
        logger.info("Serving /metrics, /healthz, /readyz", metadata: ["address": "\(host):\(actualPort)"])
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

final class TelemetryHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: AgentMetrics
    let health: HealthState
    private var head: HTTPRequestHead?

    init(metrics: AgentMetrics, health: HealthState) {
        self.metrics = metrics
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let (status, contentType, body): (HTTPResponseStatus, String, [UInt8])
            switch (head.method, path) {
            case (.GET, "/metrics"):
                (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.render())
            case (.GET, "/status"):
                (status, contentType, body) = (.ok, "application/json", metrics.status.render())
            case (.GET, "/healthz"):
                (status, contentType, body) = (.ok, "text/plain", Array("ok\n".utf8))
            case (.GET, "/readyz"):
                (status, contentType, body) =
                    health.isReady
                    ? (.ok, "text/plain", Array("ready\n".utf8))
                    : (.serviceUnavailable, "text/plain", Array("not ready\n".utf8))
            case (_, "/metrics"), (_, "/status"), (_, "/healthz"), (_, "/readyz"):
                (status, contentType, body) = (.methodNotAllowed, "text/plain", Array("use GET\n".utf8))
            default:
                (status, contentType, body) = (
                    .notFound, "text/plain", Array("not found: try /metrics, /status, /healthz, /readyz\n".utf8)
                )
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: "\(body.count)")
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(
                Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil)
            context.write(
                Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            let done = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in loopBound.value.close(promise: nil) }
            }
        }
    }
}

@available(*, unavailable)
extension TelemetryHandler: Sendable {}
