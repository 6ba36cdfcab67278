public import FluxtelConfig
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
public import Pipeline
public import SelfTelemetry
public import ServiceLifecycle

/// OTLP/HTTP receiver (`receivers.otlp`): listens, lets requests in or refuses them (`Admission`),
/// validates and counts what arrives by walking the wire format (`RequestDecoder`), and forwards the
/// `Resource*` bytes to the pipeline unchanged.
public final class OTLPReceiver: ServiceLifecycle.Service, Sendable {
    /// `receivers.otlp`.
    public let configuration: OTLPReceiverConfiguration
    /// Where to listen: `endpoint` as the agent parsed it (port 0 picks a free one).
    let host: String
    let port: Int
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger
    private let readiness = ListenerReadiness()

    public init(
        configuration: OTLPReceiverConfiguration, host: String, port: Int, pipeline: Pipeline, metrics: AgentMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.host = host
        self.port = port
        self.pipeline = pipeline
        self.metrics = metrics
        self.logger = logger.component("receiver.otlp")
    }

    /// The bound port once listening (nil if binding failed).
    public func waitUntilBound() async -> Int? { await readiness.wait() }

    /// Whether it is bound and serving (for `/status`).
    public var isListening: Bool { readiness.port != nil }

    public func run() async throws {
        let context = IngestContext(
            admission: Admission(configuration), pipeline: pipeline, metrics: metrics, logger: logger)
        let tls = configuration.tls.certFile.isEmpty ? nil : configuration.tls
        let sslContext: NIOSSLContext?
        do {
            sslContext = try tls.map(makeServerSSLContext)
        } catch {
            readiness.failed()
            logger.error("Cannot load the receiver's TLS files", metadata: ["error": "\(error)"])
            throw error
        }
        let channel: any Channel
        do {
            // Every connection on one event loop: Flux sends a trickle over a connection or two, and one loop
            // wakes once for requests that arrive together where a loop per connection wakes for each (2
            // connections at 9,000 requests/s: 0.25 context switches per request instead of 1.15, and a third
            // less system time; benchmarks/span-rate). One core decodes more than Flux ever sends.
            let group = MultiThreadedEventLoopGroup.singleton
            channel = try await ServerBootstrap(group: group, childGroup: group.next())
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        }
                        // No outbound header validation: every header the receiver writes is a constant or a
                        // number (`IngestResponse`), and the validator's passes were 5 % of a request's work.
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withErrorHandling: true, withOutboundHeaderValidation: false)
                        try channel.pipeline.syncOperations.addHandler(OTLPIngestHandler(context: context))
                    }
                }
                .bind(host: host, port: port).get()
        } catch {
            readiness.failed()
            logger.error(
                "Cannot listen for OTLP/HTTP",
                metadata: [
                    "address": "\(host):\(port)", "error": "\(error)",
                ])
            throw error
        }
        let boundPort = channel.localAddress?.port ?? port
        readiness.bound(boundPort)
        logger.info(
            "Listening for OTLP/HTTP",
            metadata: [
                "address": "\(host):\(boundPort)", "tls": "\(tls != nil)",
                "traces.paths": "\((["/v1/traces"] + configuration.tracesPaths).joined(separator: ","))",
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
