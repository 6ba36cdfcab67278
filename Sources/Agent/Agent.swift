import Exporters
public import FileLogReceiver
public import FluxtelConfig
public import Logging
public import OTLPReceiver
import OTLPWire
public import Pipeline
public import PrometheusReceiver
public import SelfTelemetry
import SelfTelemetry
public import ServiceLifecycle

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
    public let prometheusReceiver: PrometheusReceiver?
    public let fileLogReceiver: FileLogReceiver?
    let pipelineService: PipelineService
    let logger: Logger

    public init(
        configuration: AgentConfiguration, logger: Logger, exporters overrideExporters: [any BatchExporter]? = nil
    ) throws {
        self.configuration = configuration
        self.logger = logger
        let metrics = AgentMetrics()
        self.metrics = metrics
        self.health = HealthState()
        let batch = configuration.processors.batch
        let queue = configuration.processors.queue
        let attributes = configuration.processors.resourceAttributes
        let rewriter = ResourceAttributeRewriter(attributes: attributes.map { (key: $0.key, value: $0.value) })
        let splitter: ChunkSplitter = { signal, bytes, maxBytes, maxItems in
            do {
                return try OTLPWalker.split(signal: signal, body: bytes, maxBytes: maxBytes, maxItems: maxItems)
            } catch {
                throw error
            }
        }
        var enricher: ChunkEnricher?
        if !attributes.isEmpty {
            enricher = { (_: Signal, bytes: [UInt8]) throws -> [UInt8] in
                do { return try rewriter.rewrite(bytes) } catch { throw error }
            }
        }
        // The persistent queue is opened (and replayed) here, before any source starts.
        let disk = try Self.makeDiskQueue(queue, metrics: metrics, logger: logger)
        self.pipeline = Pipeline(
            configuration: PipelineConfiguration(
                maxBatchItems: batch.maxItems, maxBatchBytes: batch.maxBytes, batchTimeout: batch.timeout,
                queueMaxBytes: queue.maxBytes),
            metrics: metrics,
            splitter: splitter, enricher: enricher,
            intakeFilter: Self.maxAgeFilter(configuration.processors.maxAge), disk: disk)
        let exporters =
            try overrideExporters ?? Self.makeExporters(configuration.exporters, metrics: metrics, logger: logger)
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
                    extraTracesPaths: otlp.tracesPaths, bearerToken: otlp.bearerToken,
                    basicUsername: otlp.basicUsername, basicPassword: otlp.basicPassword,
                    tls: otlp.tls.certFile.isEmpty
                        ? nil
                        : .init(
                            certFile: otlp.tls.certFile, keyFile: otlp.tls.keyFile, clientCAFile: otlp.tls.clientCAFile)
                ),
                pipeline: pipeline, metrics: metrics, logger: logger)
        } else {
            self.otlpReceiver = nil
        }
        if let prometheus = configuration.receivers.prometheus {
            self.prometheusReceiver = try Agent.makePrometheusReceiver(
                prometheus, pipeline: pipeline, metrics: metrics, logger: logger)
        } else {
            self.prometheusReceiver = nil
        }
        if let filelog = configuration.receivers.filelog {
            self.fileLogReceiver = FileLogReceiver(
                settings: FileLogReceiverSettings(
                    filelog, shutdownWait: configuration.service.shutdownTimeout,
                    maxInFlightBytes: min(batch.maxBytes + min(batch.maxBytes, 1 << 20), queue.maxBytes)),
                pipeline: pipeline, metrics: metrics, logger: logger)
        } else {
            self.fileLogReceiver = nil
        }
    }

    /// What `/status` shows beyond the exports: the queue and each receiver.
    func registerStatus() {
        let status = metrics.status
        let pipeline = self.pipeline
        let capacity = configuration.processors.queue.maxBytes
        status.setQueue { (pipeline.usedBytes, capacity) }
        if let otlp = otlpReceiver {
            status.register(receiver: "otlp") { .init(running: otlp.isListening) }
        }
        if let prometheus = prometheusReceiver {
            status.register(receiver: "prometheus") {
                let state = prometheus.state
                return .init(running: state.running, counts: [("targets", state.targets), ("targets_up", state.up)])
            }
        }
        if let filelog = fileLogReceiver {
            status.register(receiver: "filelog") {
                let state = filelog.state
                return .init(running: state.running, counts: [("files_tailed", state.filesTailed)])
            }
        }
        if let discarding = pipelineService.exporters.first as? DiscardingExporter {
            status.exportDisabled(discarding.reason)
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
        if let prometheusReceiver { services.append(prometheusReceiver) }
        if let fileLogReceiver { services.append(fileLogReceiver) }
        if let discarding = pipelineService.exporters.first as? DiscardingExporter {
            services.append(ReminderService(exporter: discarding))
        }
        // Last, so told first: `service.shutdown_timeout` counts from the signal, not from when the sources stopped.
        services.append(ShutdownStartService(pipeline: pipelineService))
        return services
    }

    /// Runs until SIGTERM/SIGINT: then sources stop, batches flush, the queue drains within
    /// `service.shutdown_timeout`, and `run()` returns.
    /// - Parameter handleSignals: false when embedded (tests): graceful shutdown then comes from the
    ///   calling task (ServiceLifecycle's graceful-shutdown propagation) instead of SIGTERM/SIGINT.
    public func run(handleSignals: Bool = true) async throws {
        var groupLogger = logger
        groupLogger[metadataKey: "component"] = "service-group"
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                cancellationSignals: [],
                logger: groupLogger))
        warnAboutExporters()
        registerStatus()
        logger.info(
            "fluxtel started",
            metadata: [
                "version": "\(FluxtelVersion.string)",
                "exporters": "\(pipelineService.exporterNames.joined(separator: ","))",
            ])
        try await group.run()
        logger.info("fluxtel stopped")
    }

    static func makeExporters(
        _ configuration: FluxtelConfig.Exporters, metrics: AgentMetrics, logger: Logger
    ) throws -> [any BatchExporter] {
        var exporters: [any BatchExporter] = []
        if let otlp = configuration.otlpHTTP {
            exporters.append(
                try OTLPHTTPExporter(
                    configuration: OTLPHTTPExporter.Configuration(otlp), metrics: metrics, logger: logger,
                    version: FluxtelVersion.string))
        }
        // With an otlp_http exporter the debug exporter only counts what it prints; the backend's counts win.
        let debugCounts = exporters.isEmpty
        if let debug = configuration.debug {
            exporters.append(
                DebugExporter(
                    verbosity: debug.verbosity == .detailed ? .detailed : .basic,
                    metrics: debugCounts ? metrics : nil))
        }
        if exporters.isEmpty, let reason = configuration.missingEndpoint {
            exporters.append(DiscardingExporter(reason: reason, metrics: metrics, logger: logger))
        } else if exporters.isEmpty {
            exporters.append(DebugExporter(verbosity: .basic, metrics: metrics))
        }
        return exporters
    }

    /// Says loudly at start when telemetry is not going to a backend: printed only (the debug exporter
    /// as a fallback), or dropped (no endpoint; `DiscardingExporter` repeats it every minute).
    func warnAboutExporters() {
        let exporters = configuration.exporters
        if exporters.debugIsFallback, exporters.otlpHTTP == nil {
            logger.warning(
                "No exporter endpoint: telemetry is only printed to stdout by the debug exporter",
                metadata: [
                    "hint":
                        "set DASH0_ENDPOINT and DASH0_AUTH_TOKEN (or exporters.otlp_http.endpoint) to send it to Dash0",
                    "reason": "\(exporters.missingEndpoint ?? "no exporters configured")",
                ])
        }
    }

    /// `processors.queue` with a directory → the opened persistent queue; nil keeps the queue in memory.
    static func makeDiskQueue(_ queue: QueueConfiguration, metrics: AgentMetrics, logger: Logger) throws -> DiskQueue? {
        guard !queue.directory.isEmpty else { return nil }
        let configuration = DiskQueueConfiguration(
            directory: queue.directory, maxBytes: queue.maxBytes,
            sync: queue.sync == .batch ? .batch : .interval(queue.syncInterval),
            fullPolicy: queue.fullPolicy == .dropOldest ? .dropOldest : .backpressure,
            maxAge: queue.maxAge)
        do {
            return try DiskQueue(configuration: configuration, metrics: metrics, logger: logger)
        } catch {
            throw AgentError(message: "\(error)")
        }
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

extension Agent {
    /// Builds the receiver from `receivers.prometheus` and its pod discovery (config was validated by the
    /// loader; a regex or URL that still fails here is reported as an agent error).
    static func makePrometheusReceiver(
        _ config: PrometheusReceiverConfiguration, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger
    ) throws -> PrometheusReceiver {
        var discovery: KubernetesPodDiscovery?
        let sd = config.kubernetesSD
        if sd.enabled {
            let environment = KubernetesAPIConfiguration.processEnvironment()
            let api: KubernetesAPIConfiguration
            if !sd.apiServer.isEmpty {
                api = KubernetesAPIConfiguration(baseURL: sd.apiServer, tokenPath: sd.tokenPath, caPath: sd.caPath)
            } else if var inCluster = KubernetesAPIConfiguration.inCluster(environment: environment) {
                inCluster.tokenPath = sd.tokenPath
                inCluster.caPath = sd.caPath
                api = inCluster
            } else {
                throw AgentError(
                    message:
                        "receivers.prometheus.kubernetes_sd: not in a cluster (KUBERNETES_SERVICE_HOST unset); set api_server"
                )
            }
            var nodeName = sd.nodeName.isEmpty ? environment["NODE_NAME"] ?? "" : sd.nodeName
            if nodeName == "*" { nodeName = "" }
            if nodeName.isEmpty, sd.nodeName != "*" {
                logger.warning("kubernetes_sd: NODE_NAME is not set; discovering pods on every node")
            }
            discovery = KubernetesPodDiscovery(
                api: api,
                settings: PodDiscoverySettings(
                    namespaces: sd.namespaces, labelSelector: sd.labelSelector, nodeName: nodeName),
                logger: logger)
        }
        do {
            return try PrometheusReceiver(
                configuration: config, discovery: discovery, pipeline: pipeline, metrics: metrics, logger: logger,
                version: FluxtelVersion.string)
        } catch {
            throw AgentError(message: "\(error)")
        }
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
            tls: .init(
                caFile: config.tls.caFile, certFile: config.tls.certFile, keyFile: config.tls.keyFile,
                insecureSkipVerify: config.tls.insecureSkipVerify))
    }
}

extension FileLogReceiverSettings {
    /// Maps `receivers.filelog` onto the receiver's settings.
    /// Maps `receivers.filelog` onto the receiver's settings. `maxInFlightBytes`: one batch plus up to
    /// 1 MiB of the next (the agent passes it), never more than the queue.
    init(_ config: FileLogReceiverConfiguration, shutdownWait: Duration, maxInFlightBytes: Int) {
        self.init(
            include: config.include, exclude: config.exclude, startAtBeginning: config.startAt == .beginning,
            format: LineFormat(rawValue: config.format.rawValue) ?? .auto,
            checkpointDirectory: config.checkpointDirectory,
            pollInterval: config.pollInterval, maxLogSize: config.maxLogSize, fingerprintSize: config.fingerprintSize,
            shutdownWait: shutdownWait, maxInFlightBytes: maxInFlightBytes)
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

/// Repeats every minute that nothing is exported, until shutdown.
struct ReminderService: ServiceLifecycle.Service {
    let exporter: DiscardingExporter

    func run() async throws {
        await cancelWhenGracefulShutdown { await exporter.remind() }
    }
}

/// Tells the pipeline when graceful shutdown began. Listed after every other service, so the service
/// group (which stops services in reverse order) tells it first: the sources' own wait for their
/// acknowledgements and the pipeline's drain then share one `service.shutdown_timeout`, as the README
/// promises, instead of taking up to one each.
struct ShutdownStartService: ServiceLifecycle.Service {
    let pipeline: PipelineService

    func run() async throws {
        try? await gracefulShutdown()
        pipeline.shutdownBegan()
    }
}

extension PipelineService {
    var exporterNames: [String] { exporters.map(\.name) }
}
