import Exporters
public import FileLogReceiver
public import FluxObjects
public import FluxtelConfig
import Kubernetes
public import Logging
public import OTLPReceiver
import OTLPWire
import PersistentQueue
public import Pipeline
import Processors
public import PrometheusReceiver
public import SelfTelemetry
import SelfTelemetry
public import ServiceLifecycle
import Synchronization

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
    public let fluxObjectsReceiver: FluxObjectsReceiver?
    /// `service.telemetry.metrics.export`: the agent's own metrics as OTLP.
    public let agentMetricsReceiver: AgentMetricsReceiver?
    let pipelineService: PipelineService
    let logger: Logger
    /// How often `ReadinessService` released start-up's pages (`StartupPages`): once at readiness, then
    /// at each of `StartupPages.settleTimes` after it unless shutdown began first.
    let startupPageReleases = Atomic<Int>(0)

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
        let resource = ResourceAttributes(configuration.processors.resourceAttributes)
        let splitter = Splitter()
        let split: ChunkSplitter = { try splitter.split($0, $1, maxBytes: $2, maxItems: $3) }
        // Issue 18: the Flux object source feeds it; the tailer's trace ids and the span tree read it.
        let correlation = configuration.receivers.fluxObjects == nil ? nil : FluxCorrelation()
        let enrich = Self.enricher(resource: resource, correlation: correlation)
        // The persistent queue is opened (and replayed) here, before any source starts.
        let store = try Self.makePersistentQueue(queue, metrics: metrics, logger: logger)
        self.pipeline = Pipeline(
            batch: batch, queue: queue, metrics: metrics, splitter: split, enricher: enrich,
            intakeFilter: Self.maxAgeFilter(configuration.processors.maxAge), store: store,
            hold: configuration.processors.hold, holdWaits: correlation.map(Self.holdPredicate))
        if let correlation { correlation.whenDurationLearned { [pipeline] in pipeline.wakeHeld() } }
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
                configuration: otlp, host: address.host, port: address.port, pipeline: pipeline, metrics: metrics,
                logger: logger)
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
                configuration: filelog, shutdownWait: configuration.service.shutdownTimeout,
                // One batch plus up to 1 MiB of the next, never more than the queue.
                maxInFlightBytes: min(batch.maxBytes + min(batch.maxBytes, 1 << 20), queue.maxBytes),
                pipeline: pipeline, metrics: metrics,
                nodeName: KubernetesEndpoint.processEnvironment()["NODE_NAME"] ?? "", logger: logger,
                traceLookup: correlation.map(Self.traceLookup))
        } else {
            self.fileLogReceiver = nil
        }
        if let fluxObjects = configuration.receivers.fluxObjects {
            self.fluxObjectsReceiver = try Agent.makeFluxObjectsReceiver(
                fluxObjects, pipeline: pipeline, metrics: metrics, logger: logger, correlation: correlation)
        } else {
            self.fluxObjectsReceiver = nil
        }
        self.agentMetricsReceiver = Self.makeAgentMetricsReceiver(
            configuration, metrics: metrics, pipeline: pipeline, logger: logger)
        Self.forwardOwnLogs(configuration, pipeline: pipeline)
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
        if let flux = fluxObjectsReceiver {
            status.register(receiver: "flux_objects") {
                let state = flux.status
                return .init(
                    running: state.running,
                    counts: [("objects", state.objects), ("kinds", state.kinds), ("leading", flux.isLeading ? 1 : 0)])
            }
        }
        if let discarding = pipelineService.exporters.first as? DiscardingExporter {
            status.exportDisabled(discarding.reason)
        }
    }

    /// The exporters batches go to, by name (`otlp_http`, `debug`, `none`).
    public var exporterNames: [String] { pipelineService.exporterNames }

    /// The services in start order (see the type's doc for why the order matters).
    public var services: [any Service] {
        var services: [any Service] = []
        if let telemetryServer { services.append(telemetryServer) }
        services.append(pipelineService)
        services.append(ReadinessService(agent: self))
        // Sources (receivers) come after the pipeline, so they stop first.
        if let otlpReceiver { services.append(otlpReceiver) }
        if let prometheusReceiver { services.append(prometheusReceiver) }
        if let fileLogReceiver { services.append(fileLogReceiver) }
        if let fluxObjectsReceiver { services.append(fluxObjectsReceiver) }
        if let agentMetricsReceiver { services.append(agentMetricsReceiver) }
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
        _ configuration: ExportersConfiguration, metrics: AgentMetrics, logger: Logger
    ) throws -> [any BatchExporter] {
        var exporters: [any BatchExporter] = []
        if let otlp = configuration.otlpHTTP {
            exporters.append(
                try OTLPHTTPExporter(
                    configuration: otlp, metrics: metrics, logger: logger, version: FluxtelVersion.string))
        }
        // With an otlp_http exporter the debug exporter only counts what it prints; the backend's counts win.
        let debugCounts = exporters.isEmpty
        if let debug = configuration.debug {
            exporters.append(DebugExporter(configuration: debug, metrics: debugCounts ? metrics : nil))
        }
        if exporters.isEmpty, let reason = configuration.missingEndpoint {
            exporters.append(DiscardingExporter(reason: reason, metrics: metrics, logger: logger))
        } else if exporters.isEmpty, configuration.fallback == .none {
            // `fallback: none` with no exporter at all: drop and count, as with an empty endpoint.
            exporters.append(
                DiscardingExporter(
                    reason: "no exporter configured and exporters.fallback is none: set exporters.otlp_http.endpoint",
                    metrics: metrics, logger: logger))
        } else if exporters.isEmpty {
            exporters.append(DebugExporter(metrics: metrics))
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
    static func makePersistentQueue(
        _ queue: QueueConfiguration, metrics: AgentMetrics, logger: Logger
    ) throws -> DiskQueue? {
        guard !queue.directory.isEmpty else { return nil }
        // Every drop reason is on /metrics from the start, at 0: a series that first appears at 5 shows no
        // increase(), and alerts on it (config/dash0's FluxtelLosingItems) would miss the first loss.
        for signal in Signal.allCases {
            for reason in ["full", "expired", "corrupt"] { _ = metrics.queueDropped(signal, reason: reason) }
        }
        do {
            return try DiskQueue(configuration: queue, metrics: metrics, logger: logger)
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
            let environment = KubernetesEndpoint.processEnvironment()
            let endpoint: KubernetesEndpoint
            do {
                endpoint = try KubernetesEndpoint.resolve(
                    apiServer: sd.apiServer, tokenPath: sd.tokenPath, caPath: sd.caPath, environment: environment)
            } catch {
                throw AgentError(message: "receivers.prometheus.kubernetes_sd: \(error)")
            }
            discovery = KubernetesPodDiscovery(
                config: sd, client: KubernetesClient(endpoint: endpoint), environment: environment, logger: logger)
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

public struct AgentError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Marks the agent ready once its listeners are bound (and drops start-up's code pages: `StartupPages`);
/// not ready again as soon as shutdown begins.
struct ReadinessService: Service {
    let agent: Agent

    func run() async throws {
        if let server = agent.telemetryServer, await server.waitUntilBound() == nil { return }
        if let receiver = agent.otlpReceiver, await receiver.waitUntilBound() == nil { return }
        agent.health.isReady = true
        releaseStartupPages()
        // Again once what starts right after readiness (the first scrapes and exports, the first file
        // scan, connections being set up) is over.
        var slept = Duration.zero
        for settleTime in StartupPages.settleTimes {
            let wait = settleTime - slept
            let settled: Void? = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            guard settled != nil else { break }
            slept = settleTime
            releaseStartupPages()
        }
        try? await gracefulShutdown()
        agent.health.isReady = false
    }

    private func releaseStartupPages() {
        StartupPages.release()
        agent.startupPageReleases.add(1, ordering: .relaxed)
    }
}

/// Repeats every minute that nothing is exported, until shutdown.
struct ReminderService: Service {
    let exporter: DiscardingExporter

    func run() async throws {
        await cancelWhenGracefulShutdown { await exporter.remind() }
    }
}

/// Tells the pipeline when graceful shutdown began. Listed after every other service, so the service
/// group (which stops services in reverse order) tells it first: the sources' own wait for their
/// acknowledgements and the pipeline's drain then share one `service.shutdown_timeout`, as the README
/// promises, instead of taking up to one each.
struct ShutdownStartService: Service {
    let pipeline: PipelineService

    func run() async throws {
        try? await gracefulShutdown()
        pipeline.shutdownBegan()
    }
}

extension PipelineService {
    var exporterNames: [String] { exporters.map(\.name) }
}
