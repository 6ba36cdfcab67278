/// The whole agent configuration, one YAML file in the shape of DESIGN.md. Every property has a
/// default; `ConfigLoader.loadDefault(environment:)` is what runs when no file is given (the Flux defaults,
/// `AgentConfiguration.default` with no environment variables set).
///
/// YAML keys are snake_case versions of the property names (`scrape_interval`, `max_bytes`, ...).
public struct AgentConfiguration: Sendable, Equatable {
    public var receivers: Receivers
    public var processors: ProcessorsConfiguration
    public var exporters: ExportersConfiguration
    public var service: ServiceConfiguration

    public init(
        receivers: Receivers = .init(),
        processors: ProcessorsConfiguration = .init(),
        exporters: ExportersConfiguration = .init(),
        service: ServiceConfiguration = .init()
    ) {
        self.receivers = receivers
        self.processors = processors
        self.exporters = exporters
        self.service = service
    }
}

/// A string pair, in ordered lists: YAML mappings whose order matters to users (headers, attributes), and
/// the labels of scrape targets, of relabelling and of resource-state series.
public struct KeyValuePair: Sendable, Hashable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

// MARK: - receivers

public struct Receivers: Sendable, Equatable {
    /// `receivers.prometheus`; nil when the key is absent from a user file.
    public var prometheus: PrometheusReceiverConfiguration?
    /// `receivers.filelog`; nil when absent.
    public var filelog: FileLogReceiverConfiguration?
    /// `receivers.otlp`; nil when absent.
    public var otlp: OTLPReceiverConfiguration?
    /// `receivers.flux_objects`; nil when absent (it is off unless configured).
    public var fluxObjects: FluxObjectsConfiguration?

    public init(
        prometheus: PrometheusReceiverConfiguration? = nil,
        filelog: FileLogReceiverConfiguration? = nil,
        otlp: OTLPReceiverConfiguration? = nil
    ) {
        self.prometheus = prometheus
        self.filelog = filelog
        self.otlp = otlp
    }
}

public struct ScrapeTarget: Sendable, Equatable {
    /// `url`: http(s) URL of a Prometheus text endpoint.
    public var url: String
    /// `labels`: extra labels added to every sample of this target.
    public var labels: [KeyValuePair]
    public init(url: String, labels: [KeyValuePair] = []) {
        self.url = url
        self.labels = labels
    }
}

public struct PrometheusReceiverConfiguration: Sendable, Equatable {
    /// `scrape_interval`, default 30s.
    public var scrapeInterval: Duration = .seconds(30)
    /// `scrape_timeout`, default 10s.
    public var scrapeTimeout: Duration = .seconds(10)
    /// `include_metrics`: globs over family names, default Flux's own and the controller-runtime families
    /// the Dash0 dashboards read (config/dash0).
    public var includeMetrics: [String] = ["gotk_*", "controller_runtime_reconcile_*", "workqueue_depth"]
    /// `exclude_metrics`: globs over family names, default `[]`.
    public var excludeMetrics: [String] = []
    /// `targets`: static scrape targets; default the four Flux controllers' metrics services.
    public var targets: [ScrapeTarget] = PrometheusReceiverConfiguration.fluxTargets
    /// `honor_labels`: on a clash between a scraped label and a target label, keep the scraped one
    /// (true) or rename it to `exported_<name>` (false, the default, as in Prometheus).
    public var honorLabels: Bool = false
    /// `body_size_limit`: largest scrape body, on the wire and after gunzip, default 16MiB.
    public var bodySizeLimit: Int = 16 << 20
    /// `metric_relabel_configs`: applied in order to every series after the family filter; default none.
    public var metricRelabelConfigs: [MetricRelabelConfig] = []
    /// `kubernetes_sd`: pod discovery (off by default).
    public var kubernetesSD = KubernetesSDConfiguration()
    /// `state_dir`: where first-observation start times of targets without `process_start_time_seconds`
    /// are kept across agent restarts (one small file per target); empty (default) keeps them in memory.
    public var stateDirectory: String = ""

    public static let fluxTargets: [ScrapeTarget] = [
        "source-controller", "kustomize-controller", "helm-controller", "notification-controller",
    ].map {
        ScrapeTarget(
            url: "http://\($0)-metrics.flux-system.svc:8080/metrics",
            labels: [KeyValuePair("job", $0)]
        )
    }

    public init() {}
}

/// `receivers.prometheus.kubernetes_sd`: scrape the annotated pods of this node.
public struct KubernetesSDConfiguration: Sendable, Equatable {
    /// `enabled`, default false.
    public var enabled = false
    /// `namespaces` to list and watch, default `[flux-system]`.
    public var namespaces: [String] = ["flux-system"]
    /// `label_selector`: a Kubernetes label selector, default empty (all pods).
    public var labelSelector = ""
    /// `node_name`: only pods on this node; empty (the default) means `$NODE_NAME`, `*` every node.
    public var nodeName = ""
    /// `api_server`: base URL of the API; empty (the default) means in-cluster from
    /// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`.
    public var apiServer = ""
    /// `token_path`: service-account token file.
    public var tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    /// `ca_path`: CA bundle of the API server.
    public var caPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

    public init() {}
}

/// One `metric_relabel_configs` entry (Prometheus semantics, a subset of the actions).
public struct MetricRelabelConfig: Sendable, Equatable {
    public enum Action: String, Sendable, Equatable, CaseIterable { case replace, keep, drop, labeldrop, labelkeep }
    /// `action`, default `replace`.
    public var action: Action = .replace
    /// `source_labels`: joined with `separator` and matched against `regex`.
    public var sourceLabels: [String] = []
    /// `separator`, default `;`.
    public var separator: String = ";"
    /// `regex`: fully anchored, default `(.*)`.
    public var regex: String = "(.*)"
    /// `target_label`: required for `replace`.
    public var targetLabel: String = ""
    /// `replacement`, default `$1`.
    public var replacement: String = "$1"

    public init() {}
}

public struct FileLogReceiverConfiguration: Sendable, Equatable {
    public enum StartAt: String, Sendable, Equatable, CaseIterable { case beginning, end }
    public enum Format: String, Sendable, Equatable, CaseIterable { case auto, cri, docker, raw }
    public enum FluxFields: String, Sendable, Equatable, CaseIterable { case copy, move }

    /// `include`: globs of files to tail.
    public var include: [String] = ["/var/log/pods/flux-system_*/*/*.log"]
    /// `exclude`: globs of files never to tail.
    public var exclude: [String] = []
    /// `start_at`: where to start a file that has no checkpoint, default `end`.
    public var startAt: StartAt = .end
    /// `format`: `auto` (decided per file from its first line), `cri`, `docker`, `raw`.
    public var format: Format = .auto
    /// `checkpoint_dir`: where file offsets are kept, default `/var/lib/fluxtel`.
    public var checkpointDirectory: String = "/var/lib/fluxtel"
    /// `poll_interval`: how often include globs are re-evaluated, default 1s.
    public var pollInterval: Duration = .seconds(1)
    /// `max_log_size`: longest record after joining partial lines, default 1MiB.
    public var maxLogSize: Int = 1 << 20
    /// `fingerprint_size`: bytes at the start of a file that identify it with its device and inode, default 1KiB.
    public var fingerprintSize: Int = 1024
    /// `flux_fields`: `copy` keeps the members a line's `flux.object.*` / `flux.revision` were read from;
    /// `move` leaves out those that only repeat them (`controllerKind`, `name`, `namespace`, `revision`,
    /// `<Kind>: {name, namespace}`), default `copy`.
    public var fluxFields: FluxFields = .copy

    public init() {}
}

public struct OTLPReceiverConfiguration: Sendable, Equatable {
    /// `endpoint`: host:port to listen on, default `0.0.0.0:4318`.
    public var endpoint: String = "0.0.0.0:4318"
    /// `max_request_body`: on the wire and inflated, default 16MiB.
    public var maxRequestBody: Int = 16 << 20
    /// `traces_paths`: paths that take traces besides `/v1/traces`, default `["/"]` (Flux's `otel`
    /// Provider posts to its address's path verbatim: `/` with otel-go ≥ 1.45).
    public var tracesPaths: [String] = ["/"]
    /// `auth.bearer_token`: when non-empty, requests must carry `Authorization: Bearer <token>`.
    public var bearerToken: String = ""
    /// `auth.basic.username` / `auth.basic.password`: when set, `Authorization: Basic …` is accepted too.
    public var basicUsername: String = ""
    public var basicPassword: String = ""
    /// `tls`: serve https (`cert_file`, `key_file`), and require client certificates signed by `client_ca_file`.
    public var tls: ServerTLSConfiguration = .init()

    public init() {}
}

public struct ServerTLSConfiguration: Sendable, Equatable {
    public var certFile: String = ""
    public var keyFile: String = ""
    public var clientCAFile: String = ""
    public init() {}
}

// MARK: - processors

/// `processors`: what happens between the receivers and the exporters (the Processors, Pipeline and
/// PersistentQueue modules).
public struct ProcessorsConfiguration: Sendable, Equatable {
    /// `resource.attributes`: added to (or overriding) every resource.
    public var resourceAttributes: [KeyValuePair] = []
    public var batch: BatchConfiguration = .init()
    public var queue: QueueConfiguration = .init()
    /// `max_age`: items whose own timestamp is older than this are dropped at intake (counted), default
    /// 6h (Dash0 does not ingest older data); 0 turns it off.
    public var maxAge: Duration = .seconds(6 * 3600)
    /// `hold`: longest a Flux span waits before intake for its object's reconcile duration (issue 18,
    /// part 3), default 2s; 0 turns it off.
    public var hold: Duration = .seconds(2)
    public init() {}
}

/// `processors.batch`: when a batch is sealed and sent (`Pipeline` takes it as it is).
public struct BatchConfiguration: Sendable, Equatable {
    /// `max_items`: items per export request.
    public var maxItems: Int
    /// `max_bytes`: uncompressed bytes per export request.
    public var maxBytes: Int
    /// `timeout`: longest a partial batch waits.
    public var timeout: Duration

    /// The defaults are the documented ones (README, `config/fluxtel.yaml`).
    public init(maxItems: Int = 8192, maxBytes: Int = 1 << 20, timeout: Duration = .seconds(1)) {
        self.maxItems = maxItems
        self.maxBytes = maxBytes
        self.timeout = timeout
    }
}

/// `processors.queue`: what the pipeline holds, and, with a `directory`, the persistent queue
/// (`Pipeline` and `DiskQueue` take it as it is).
public struct QueueConfiguration: Sendable, Equatable {
    /// `max_bytes`: bytes held in batches and the queue before sources are pushed back
    /// (config/fluxtel.yaml says why 16MiB). With a directory, it caps the segment files on disk.
    public var maxBytes: Int
    /// `directory`: a directory makes the queue persistent; empty keeps it in memory.
    public var directory: String
    /// `workers`: concurrent export requests.
    public var workers: Int
    /// `sync`: `batch` fsyncs every group of appends before acknowledging it; `interval`
    /// acknowledges once written and fsyncs every `sync_interval`. Persistent queue only.
    public var sync: Sync
    /// `sync_interval` (with `sync: interval`).
    public var syncInterval: Duration
    /// `full_policy`: `backpressure` pushes sources back; `drop_oldest` drops the oldest
    /// queued batches (counted). Persistent queue only.
    public var fullPolicy: FullPolicy
    /// `max_age`: queued items older than this are dropped (counted) instead of sent (Dash0 does not
    /// ingest spans older than 6h). Persistent queue only.
    public var maxAge: Duration

    public enum Sync: String, Sendable, Equatable, CaseIterable { case batch, interval }
    public enum FullPolicy: String, Sendable, Equatable, CaseIterable {
        case backpressure
        case dropOldest = "drop_oldest"
    }

    /// The defaults are the documented ones (README, `config/fluxtel.yaml`).
    public init(
        maxBytes: Int = 16 << 20, directory: String = "", workers: Int = 2, sync: Sync = .batch,
        syncInterval: Duration = .seconds(1), fullPolicy: FullPolicy = .backpressure,
        maxAge: Duration = .seconds(6 * 3600)
    ) {
        self.maxBytes = maxBytes
        self.directory = directory
        self.workers = workers
        self.sync = sync
        self.syncInterval = syncInterval
        self.fullPolicy = fullPolicy
        self.maxAge = maxAge
    }
}

// MARK: - exporters

/// `exporters`: where telemetry goes (the Exporters module).
public struct ExportersConfiguration: Sendable, Equatable {
    /// `fallback`: what runs when no exporter has an endpoint (e.g. `DASH0_ENDPOINT` unset).
    public enum Fallback: String, Sendable, Equatable, CaseIterable {
        /// The debug exporter prints every batch to stdout; the agent warns at start that it only prints.
        case debug
        /// Nothing is exported: the agent runs, drops what it receives and logs an error every minute.
        /// For pods whose stdout is itself tailed (the shipped Kubernetes configs).
        case none
    }

    /// `otlp_http`; nil when there is no endpoint at all.
    public var otlpHTTP: OTLPHTTPExporterConfiguration?
    /// `debug`; also turned on when no exporter has an endpoint and `fallback` is `debug`.
    public var debug: DebugExporterConfiguration?
    /// `fallback`, default `debug`.
    public var fallback: Fallback
    /// `debug` runs only because no exporter has an endpoint (`fallback: debug`).
    public var debugIsFallback: Bool
    /// `otlp_http` is configured but every endpoint is empty: why, in words, with the file position and
    /// the environment variables to set. Diagnostic text only: not part of equality.
    public var missingEndpoint: String?

    public init(
        otlpHTTP: OTLPHTTPExporterConfiguration? = nil, debug: DebugExporterConfiguration? = nil,
        fallback: Fallback = .debug, debugIsFallback: Bool = false, missingEndpoint: String? = nil
    ) {
        self.otlpHTTP = otlpHTTP
        self.debug = debug
        self.fallback = fallback
        self.debugIsFallback = debugIsFallback
        self.missingEndpoint = missingEndpoint
    }

    public static func == (lhs: ExportersConfiguration, rhs: ExportersConfiguration) -> Bool {
        lhs.otlpHTTP == rhs.otlpHTTP && lhs.debug == rhs.debug && lhs.fallback == rhs.fallback
            && lhs.debugIsFallback == rhs.debugIsFallback
    }
}

/// `exporters.otlp_http.retry`: exponential backoff (`RetryStateMachine` takes it as it is).
public struct RetryConfiguration: Sendable, Equatable {
    /// `enabled`.
    public var enabled: Bool
    /// `initial_interval`.
    public var initialInterval: Duration
    /// `max_interval`.
    public var maxInterval: Duration
    /// `max_elapsed_time`: after it the batch is given up on and counted as failed; zero retries forever.
    public var maxElapsedTime: Duration
    /// `multiplier`.
    public var multiplier: Double

    /// The defaults are the documented ones (README, `config/fluxtel.yaml`).
    public init(
        enabled: Bool = true, initialInterval: Duration = .seconds(1), maxInterval: Duration = .seconds(30),
        maxElapsedTime: Duration = .seconds(300), multiplier: Double = 1.5
    ) {
        self.enabled = enabled
        self.initialInterval = initialInterval
        self.maxInterval = maxInterval
        self.maxElapsedTime = maxElapsedTime
        self.multiplier = multiplier
    }
}

public struct TLSClientConfiguration: Sendable, Equatable {
    /// `ca_file`: PEM bundle to trust instead of the system trust store.
    public var caFile: String
    /// `cert_file` / `key_file`: client certificate for mTLS; both or neither.
    public var certFile: String
    public var keyFile: String
    /// `insecure_skip_verify`: accept any server certificate. For tests only.
    public var insecureSkipVerify: Bool

    public init(caFile: String = "", certFile: String = "", keyFile: String = "", insecureSkipVerify: Bool = false) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// `exporters.otlp_http` (`OTLPHTTPExporter` takes it as it is).
public struct OTLPHTTPExporterConfiguration: Sendable, Equatable {
    public enum Compression: String, Sendable, Equatable, CaseIterable { case gzip, none }

    /// `endpoint`: base URL; `/v1/traces`, `/v1/logs`, `/v1/metrics` are appended (a trailing `/` is trimmed).
    public var endpoint: String
    /// `traces_endpoint` / `logs_endpoint` / `metrics_endpoint`: full per-signal URLs overriding `endpoint`.
    public var tracesEndpoint: String
    public var logsEndpoint: String
    public var metricsEndpoint: String
    /// `headers`: sent with every request, in order. A `User-Agent` here replaces the agent's.
    public var headers: [KeyValuePair]
    /// `compression`: `gzip` or `none`.
    public var compression: Compression
    /// `compression_level`: 1...9.
    public var compressionLevel: Int
    /// `timeout`: per request (connect, send, response).
    public var timeout: Duration
    public var retry: RetryConfiguration
    public var tls: TLSClientConfiguration

    /// The defaults are the documented ones (README, `config/fluxtel.yaml`), but for `endpoint` and
    /// `headers`, which the embedded defaults set from the environment.
    public init(
        endpoint: String, tracesEndpoint: String = "", logsEndpoint: String = "", metricsEndpoint: String = "",
        headers: [KeyValuePair] = [], compression: Compression = .gzip, compressionLevel: Int = 6,
        timeout: Duration = .seconds(10), retry: RetryConfiguration = .init(), tls: TLSClientConfiguration = .init()
    ) {
        self.endpoint = endpoint
        self.tracesEndpoint = tracesEndpoint
        self.logsEndpoint = logsEndpoint
        self.metricsEndpoint = metricsEndpoint
        self.headers = headers
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.timeout = timeout
        self.retry = retry
        self.tls = tls
    }
}

public struct DebugExporterConfiguration: Sendable, Equatable {
    public enum Verbosity: String, Sendable, Equatable, CaseIterable { case basic, detailed }
    /// `verbosity`: `basic` (one line per batch) or `detailed` (every item).
    public var verbosity: Verbosity = .basic
    public init(verbosity: Verbosity = .basic) { self.verbosity = verbosity }
}

// MARK: - service

/// `service`: the agent's own telemetry server, log level and shutdown deadline.
public struct ServiceConfiguration: Sendable, Equatable {
    /// `telemetry.address`: where `/metrics`, `/healthz`, `/readyz` are served, default `0.0.0.0:8888`.
    /// Empty turns the server off.
    public var telemetryAddress: String = "0.0.0.0:8888"
    /// `telemetry.log_level`: trace, debug, info (default), notice, warning, error, critical.
    public var logLevel: String = "info"
    /// `shutdown_timeout`: how long SIGTERM may take to flush and drain, default 10s.
    public var shutdownTimeout: Duration = .seconds(10)
    /// `telemetry.metrics.export`: send the agent's own metrics through its own pipeline as OTLP.
    public var metricsExport: SelfTelemetryExport = .auto
    /// `telemetry.metrics.interval`: how often they are sent, default 60s.
    public var metricsInterval: Duration = .seconds(60)
    /// `telemetry.logs.export`: send the agent's own warnings and errors as OTLP log records too.
    public var logsExport = false
    public init() {}
}

/// `service.telemetry.metrics.export`: `true`, `false`, or `auto` (the default: on when an exporter
/// has an endpoint, so a laptop run without one does not print its own metrics every minute).
public enum SelfTelemetryExport: String, Sendable, Equatable, CaseIterable {
    case auto
    case on = "true"
    case off = "false"
}
