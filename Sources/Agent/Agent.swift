public import FluxtelConfig
public import Logging
public import Pipeline
public import SelfTelemetry
public import ServiceLifecycle
import Exporters
public import OTLPReceiver
public import FileLogReceiver
import OTLPWire
import SelfTelemetry

/// Everything one fluxtel process runs, built from a configuration. Building starts nothing;
/// `run()` runs the services in a `ServiceGroup` until SIGTERM/SIGINT (or cancellation).
///
/// Service order matters: the group shuts services down in reverse order, so sources come last
/// (they stop first), the pipeline drains after them, and the telemetry server (first) answers
/// probes and serves `/metrics` until the very end.
public final class Agent: Sendable {
    public let configuration: AgentConfiguration
    public let metrics: AgentMetrics
    public let health: HealthState
    public let pipeline: Pipeline
    public let telemetryServer: TelemetryServer?
    public let otlpReceiver: OTLPReceiver?
    public let fileLogReceiver: FileLogReceiver?
    let pipelineService: PipelineService
    let logger: Logger

    public init(configuration: AgentConfiguration, logger: Logger, exporters overrideExporters: [any BatchExporter]? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        let metrics = AgentMetrics()
        self.metrics = metrics
        self.health = HealthState()
        let batch = configuration.processors.batch
        let queue = configuration.processors.queue
        self.pipeline = Pipeline(
            configuration: PipelineConfiguration(
                maxBatchItems: batch.maxItems, maxBatchBytes: batch.maxBytes, batchTimeout: batch.timeout,
                queueMaxBytes: queue.maxBytes),
            metrics: metrics,
            splitter: { signal, bytes, maxBytes, maxItems in
                try OTLPWalker.split(signal: signal, body: bytes, maxBytes: maxBytes, maxItems: maxItems)
            })
        let exporters = try overrideExporters ?? Self.makeExporters(configuration.exporters, metrics: metrics, logger: logger)
        self.pipelineService = PipelineService(
            pipeline: pipeline, exporters: exporters, workers: queue.workers,
            drainTimeout: configuration.service.shutdownTimeout, logger: logger)
        if let address = try Self.listenAddress(configuration.service.telemetryAddress) {
            self.telemetryServer = TelemetryServer(
                host: address.host, port: address.port, metrics: metrics, health: health, logger: logger)
        } else {
            self.telemetryServer = nil
        }
        if let otlp = configuration.receivers.otlp, let address = try Self.listenAddress(otlp.endpoint) {
            self.otlpReceiver = OTLPReceiver(
                settings: OTLPReceiverSettings(
                    host: address.host, port: address.port, maxRequestBody: otlp.maxRequestBody,
                    bearerToken: otlp.bearerToken),
                pipeline: pipeline, metrics: metrics, logger: logger)
        } else {
            self.otlpReceiver = nil
        }
        if let filelog = configuration.receivers.filelog {
            self.fileLogReceiver = FileLogReceiver(
                settings: FileLogReceiverSettings(filelog, shutdownWait: configuration.service.shutdownTimeout),
                pipeline: pipeline, metrics: metrics, logger: logger)
        } else {
            self.fileLogReceiver = nil
        }
    }

    /// The services in start order (see the type's doc for why the order matters).
    public var services: [any ServiceLifecycle.Service] {
        var services: [any ServiceLifecycle.Service] = []
        if let telemetryServer { services.append(telemetryServer) }
        services.append(pipelineService)
        services.append(ReadinessService(agent: self))
        // Sources (receivers) come after the pipeline, so they stop first.
        if let otlpReceiver { services.append(otlpReceiver) }
        if let fileLogReceiver { services.append(fileLogReceiver) }
        return services
    }

    /// Runs until SIGTERM/SIGINT: then sources stop, batches flush, the queue drains within
    /// `service.shutdown_timeout`, and `run()` returns.
    public func run() async throws {
        var groupLogger = logger
        groupLogger[metadataKey: "component"] = "service-group"
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: groupLogger))
        logger.info("fluxtel started", metadata: [
            "version": "\(FluxtelVersion.string)",
            "exporters": "\(pipelineService.exporterNames.joined(separator: ","))",
        ])
        try await group.run()
        logger.info("fluxtel stopped")
    }

    static func makeExporters(_ configuration: FluxtelConfig.Exporters, metrics: AgentMetrics, logger: Logger) throws -> [any BatchExporter] {
        var exporters: [any BatchExporter] = []
        if let otlp = configuration.otlpHTTP {
            exporters.append(try OTLPHTTPExporter(
                configuration: OTLPHTTPExporter.Configuration(otlp), metrics: metrics, logger: logger,
                version: FluxtelVersion.string))
        }
        // With an otlp_http exporter the debug exporter only counts what it prints; the backend's counts win.
        let debugCounts = exporters.isEmpty
        if let debug = configuration.debug {
            exporters.append(DebugExporter(verbosity: debug.verbosity == .detailed ? .detailed : .basic,
                                           metrics: debugCounts ? metrics : nil))
        }
        if exporters.isEmpty {
            exporters.append(DebugExporter(verbosity: .basic, metrics: metrics))
        }
        return exporters
    }

    /// `host:port` → (host, port); empty → nil (server off).
    static func listenAddress(_ address: String) throws -> (host: String, port: Int)? {
        if address.isEmpty { return nil }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65535).contains(port)
        else { throw AgentError(message: "invalid listen address '\(address)': expected host:port") }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

extension OTLPHTTPExporter.Configuration {
    /// Maps `exporters.otlp_http` onto the exporter's own configuration.
    init(_ config: OTLPHTTPExporterConfiguration) {
        var retry = RetryPolicy()
        retry.enabled = config.retry.enabled
        retry.initialInterval = config.retry.initialInterval
        retry.maxInterval = config.retry.maxInterval
        retry.maxElapsedTime = config.retry.maxElapsedTime
        retry.multiplier = config.retry.multiplier
        self.init(
            endpoint: config.endpoint, tracesEndpoint: config.tracesEndpoint, logsEndpoint: config.logsEndpoint,
            metricsEndpoint: config.metricsEndpoint, headers: config.headers.map { .init($0.key, $0.value) },
            compression: config.compression == .gzip ? .gzip : .none, compressionLevel: config.compressionLevel,
            timeout: config.timeout, retry: retry,
            tls: .init(caFile: config.tls.caFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile,
                       insecureSkipVerify: config.tls.insecureSkipVerify))
    }
}

extension FileLogReceiverSettings {
    /// Maps `receivers.filelog` onto the receiver's settings.
    init(_ config: FileLogReceiverConfiguration, shutdownWait: Duration) {
        self.init(
            include: config.include, exclude: config.exclude, startAtBeginning: config.startAt == .beginning,
            format: LineFormat(rawValue: config.format.rawValue) ?? .auto, checkpointDirectory: config.checkpointDirectory,
            pollInterval: config.pollInterval, maxLogSize: config.maxLogSize, fingerprintSize: config.fingerprintSize,
            shutdownWait: shutdownWait)
    }
}

public struct AgentError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Marks the agent ready once its listeners are bound; not ready again as soon as shutdown begins.
struct ReadinessService: ServiceLifecycle.Service {
    let agent: Agent

    func run() async throws {
        if let server = agent.telemetryServer, await server.waitUntilBound() == nil { return }
        if let receiver = agent.otlpReceiver, await receiver.waitUntilBound() == nil { return }
        agent.health.isReady = true
        try? await gracefulShutdown()
        agent.health.isReady = false
    }
}

extension PipelineService {
    var exporterNames: [String] { exporters.map(\.name) }
}
