/// The whole agent configuration, one YAML file in the shape of DESIGN.md. Every property has a
/// default; `ConfigLoader.loadDefault(environment:)` is what runs when no file is given (the Flux defaults,
/// `AgentConfiguration.default` with no environment variables set).
///
/// YAML keys are snake_case versions of the property names (`scrape_interval`, `max_bytes`, ...).
public struct AgentConfiguration: Sendable, Equatable {
    public var receivers: Receivers
    public var processors: Processors
    public var exporters: Exporters
    public var service: Service

    public init(
        receivers: Receivers = .init(),
        processors: Processors = .init(),
        exporters: Exporters = .init(),
        service: Service = .init()
    ) {
        self.receivers = receivers
        self.processors = processors
        self.exporters = exporters
        self.service = service
    }
}

/// An ordered list of string pairs: YAML mappings whose order matters to users (headers, attributes).
public struct KeyValuePair: Sendable, Equatable {
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
    /// `include_metrics`: globs over family names, default `["gotk_*"]`.
    public var includeMetrics: [String] = ["gotk_*"]
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
            labels: [KeyValuePair("controller", $0)]
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

public struct Processors: Sendable, Equatable {
    /// `resource.attributes`: added to (or overriding) every resource.
    public var resourceAttributes: [KeyValuePair] = []
    public var batch: BatchConfiguration = .init()
    public var queue: QueueConfiguration = .init()
    /// `max_age`: items whose own timestamp is older than this are dropped at intake (counted), default
    /// 6h (Dash0 does not ingest older data); 0 turns it off.
    public var maxAge: Duration = .seconds(6 * 3600)
    public init() {}
}

public struct BatchConfiguration: Sendable, Equatable {
    /// `max_items`: items per export request, default 8192.
    public var maxItems: Int = 8192
    /// `max_bytes`: uncompressed bytes per export request, default 1MiB.
    public var maxBytes: Int = 1 << 20
    /// `timeout`: longest a partial batch waits, default 1s.
    public var timeout: Duration = .seconds(1)
    public init() {}
}

public struct QueueConfiguration: Sendable, Equatable {
    /// `max_bytes`: bytes held in batches and the queue before sources are pushed back, default 16MiB
    /// (config/fluxtel.yaml says why).
    public var maxBytes: Int = 16 << 20
    /// `directory`: a directory makes the queue persistent; empty (default) keeps it in memory.
    /// With a directory, `max_bytes` caps the segment files on disk.
    public var directory: String = ""
    /// `workers`: concurrent export requests, default 2.
    public var workers: Int = 2
    /// `sync`: `batch` (default) fsyncs every group of appends before acknowledging it; `interval`
    /// acknowledges once written and fsyncs every `sync_interval`. Persistent queue only.
    public var sync: Sync = .batch
    /// `sync_interval`, default 1s (with `sync: interval`).
    public var syncInterval: Duration = .seconds(1)
    /// `full_policy`: `backpressure` (default) pushes sources back; `drop_oldest` drops the oldest
    /// queued batches (counted). Persistent queue only.
    public var fullPolicy: FullPolicy = .backpressure
    /// `max_age`: queued items older than this are dropped (counted) instead of sent, default 6h
    /// (Dash0 does not ingest spans older than that). Persistent queue only.
    public var maxAge: Duration = .seconds(6 * 3600)

    public enum Sync: String, Sendable, Equatable, CaseIterable { case batch, interval }
    public enum FullPolicy: String, Sendable, Equatable, CaseIterable {
        case backpressure
        case dropOldest = "drop_oldest"
    }
    public init() {}
}

// MARK: - exporters

public struct Exporters: Sendable, Equatable {
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

    public static func == (lhs: Exporters, rhs: Exporters) -> Bool {
        lhs.otlpHTTP == rhs.otlpHTTP && lhs.debug == rhs.debug && lhs.fallback == rhs.fallback
            && lhs.debugIsFallback == rhs.debugIsFallback
    }
}

public struct RetryConfiguration: Sendable, Equatable {
    /// `enabled`, default true.
    public var enabled: Bool = true
    /// `initial_interval`, default 1s.
    public var initialInterval: Duration = .seconds(1)
    /// `max_interval`, default 30s.
    public var maxInterval: Duration = .seconds(30)
    /// `max_elapsed_time`, default 5m; after it the batch is given up on and counted as failed.
    public var maxElapsedTime: Duration = .seconds(300)
    /// `multiplier`, default 1.5.
    public var multiplier: Double = 1.5
    public init() {}
}

public struct TLSClientConfiguration: Sendable, Equatable {
    /// `ca_file`: PEM bundle to trust instead of the system trust store.
    public var caFile: String = ""
    /// `cert_file` / `key_file`: client certificate for mTLS.
    public var certFile: String = ""
    public var keyFile: String = ""
    /// `insecure_skip_verify`, default false.
    public var insecureSkipVerify: Bool = false
    public init() {}
}

public struct OTLPHTTPExporterConfiguration: Sendable, Equatable {
    public enum Compression: String, Sendable, Equatable, CaseIterable { case gzip, none }

    /// `endpoint`: base URL; `/v1/traces`, `/v1/logs`, `/v1/metrics` are appended.
    public var endpoint: String
    /// `traces_endpoint` / `logs_endpoint` / `metrics_endpoint`: full per-signal URLs overriding `endpoint`.
    public var tracesEndpoint: String = ""
    public var logsEndpoint: String = ""
    public var metricsEndpoint: String = ""
    /// `headers`: sent with every request, in order.
    public var headers: [KeyValuePair] = []
    /// `compression`: `gzip` (default) or `none`.
    public var compression: Compression = .gzip
    /// `compression_level`: 1...9, default 6.
    public var compressionLevel: Int = 6
    /// `timeout`: per request, default 10s.
    public var timeout: Duration = .seconds(10)
    public var retry: RetryConfiguration = .init()
    public var tls: TLSClientConfiguration = .init()

    public init(endpoint: String) { self.endpoint = endpoint }
}

public struct DebugExporterConfiguration: Sendable, Equatable {
    public enum Verbosity: String, Sendable, Equatable, CaseIterable { case basic, detailed }
    /// `verbosity`: `basic` (one line per batch) or `detailed` (every item).
    public var verbosity: Verbosity = .basic
    public init(verbosity: Verbosity = .basic) { self.verbosity = verbosity }
}

// MARK: - service

public struct Service: Sendable, Equatable {
    /// `telemetry.address`: where `/metrics`, `/healthz`, `/readyz` are served, default `0.0.0.0:8888`.
    /// Empty turns the server off.
    public var telemetryAddress: String = "0.0.0.0:8888"
    /// `telemetry.log_level`: trace, debug, info (default), notice, warning, error, critical.
    public var logLevel: String = "info"
    /// `shutdown_timeout`: how long SIGTERM may take to flush and drain, default 10s.
    public var shutdownTimeout: Duration = .seconds(10)
    public init() {}
}
