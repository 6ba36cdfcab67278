public import OTLPWire
public import Prometheus

/// The agent's own counters, in the spirit of the OpenTelemetry Collector's `otelcol_*` metrics.
/// Rendered on `service.telemetry.address` at `/metrics`. One instance per agent; tests make their own.
public final class AgentMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    /// Per-signal instruments.
    public struct SignalMetrics: Sendable {
        /// Items a source handed to the pipeline and the pipeline accepted.
        public let received: Counter
        /// Items a source offered but the pipeline refused (queue full, malformed, unauthorised).
        public let refused: Counter
        /// Items the backend accepted.
        public let exported: Counter
        /// Items given up on after retries (or on shutdown).
        public let failed: Counter
        /// Items the backend refused permanently (4xx other than 429), or rejected via `partial_success`.
        public let dropped: Counter
        /// Export attempts that were retried.
        public let retries: Counter
        /// Bytes of this signal waiting in batches and in the queue.
        public let queuedBytes: Gauge
        /// Wall time of one export attempt.
        public let exportDuration: DurationHistogram
    }

    private let perSignal: [Signal: SignalMetrics]
    /// Capacity of the queue in bytes.
    public let queueCapacityBytes: Gauge
    /// Bytes of the persistent queue's segment files.
    public let queueDiskBytes: Gauge
    /// Failed writes (and fsyncs) of the persistent queue: out of space, over a file size limit, I/O errors.
    public let queueWriteErrors: Counter
    /// Bytes cut from damaged segment files (torn tails, corrupt records).
    public let queueCorruptBytes: Counter
    /// 1 when nothing is exported because no exporter has an endpoint (`DiscardingExporter`).
    public let exportDisabled: Gauge
    /// What `GET /status` shows (last export per signal, queue, receivers).
    public let status = StatusBoard()

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var perSignal: [Signal: SignalMetrics] = [:]
        for signal in Signal.allCases {
            let labels = [("signal", signal.rawValue)]
            perSignal[signal] = SignalMetrics(
                received: registry.makeCounter(
                    descriptor: d(
                        "fluxtel_items_received_total",
                        "Items (spans, log records, metric data points) accepted into the pipeline."), labels: labels),
                refused: registry.makeCounter(
                    descriptor: d(
                        "fluxtel_items_refused_total", "Items refused at intake (queue full, malformed, unauthorised)."),
                    labels: labels),
                exported: registry.makeCounter(
                    descriptor: d("fluxtel_items_exported_total", "Items the backend accepted."), labels: labels),
                failed: registry.makeCounter(
                    descriptor: d("fluxtel_items_failed_total", "Items given up on after retries or at shutdown."),
                    labels: labels),
                dropped: registry.makeCounter(
                    descriptor: d(
                        "fluxtel_items_dropped_total",
                        "Items the backend refused permanently (non-retryable status or partial_success)."),
                    labels: labels),
                retries: registry.makeCounter(
                    descriptor: d("fluxtel_export_retries_total", "Export attempts that were retried."), labels: labels),
                queuedBytes: registry.makeGauge(
                    descriptor: d("fluxtel_queue_bytes", "Bytes waiting in open batches and in the export queue."),
                    labels: labels),
                exportDuration: registry.makeDurationHistogram(
                    descriptor: d("fluxtel_export_duration_seconds", "Wall time of one export attempt."),
                    labels: labels,
                    buckets: [
                        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
                    ])
            )
        }
        self.perSignal = perSignal
        self.queueCapacityBytes = registry.makeGauge(
            descriptor: d("fluxtel_queue_capacity_bytes", "Configured capacity of the export queue in bytes."))
        self.queueDiskBytes = registry.makeGauge(
            descriptor: d("fluxtel_queue_disk_bytes", "Bytes of the persistent queue's segment files."))
        self.queueWriteErrors = registry.makeCounter(
            descriptor: d(
                "fluxtel_queue_write_errors_total",
                "Failed writes or fsyncs of the persistent queue (no space, file size limit, I/O error)."))
        self.queueCorruptBytes = registry.makeCounter(
            descriptor: d("fluxtel_queue_corrupt_bytes_total", "Bytes cut from damaged persistent queue segments."))
        self.exportDisabled = registry.makeGauge(
            descriptor: d("fluxtel_export_disabled", "1 when nothing is exported because no exporter has an endpoint."))
    }

    /// `fluxtel_flux_objects_leader`: 1 while this agent writes Flux object state and events (it leads,
    /// or leader election is off). Registered by the Flux object source only, so agents without it do not
    /// show a 0.
    public func fluxObjectsLeader() -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "fluxtel_flux_objects_leader", unitName: "",
                helpText: "1 while this agent writes Flux object state and events (the Lease holder)."))
    }

    /// `fluxtel_spans_held`: spans waiting before intake for their Flux object's reconcile duration
    /// (`processors.hold`). Registered only when the hold is on.
    public func spansHeld() -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "fluxtel_spans_held", unitName: "",
                helpText: "Spans waiting (at most processors.hold) for their Flux object's reconcile duration."))
    }

    /// Items the queue dropped instead of sending, by signal and reason (`full`: the drop_oldest
    /// policy made room; `expired`: older than `max_age`; `corrupt`: unreadable on disk).
    public func queueDropped(_ signal: Signal, reason: String) -> Counter {
        itemCounter(
            "fluxtel_queue_dropped_items_total", "Items the queue dropped instead of sending (full, expired, corrupt).",
            signal, reason: reason)
    }

    /// Items dropped on purpose instead of exported, by signal and reason (`no_endpoint`, `too_old`).
    public func discardedItems(_ signal: Signal, reason: String) -> Counter {
        itemCounter(
            "fluxtel_items_discarded_total",
            "Items dropped instead of exported (no_endpoint: no exporter endpoint; too_old: older than max_age).",
            signal, reason: reason)
    }

    /// A counter of items by signal and reason.
    private func itemCounter(_ name: String, _ help: String, _ signal: Signal, reason: String) -> Counter {
        registry.makeCounter(descriptor: d(name, help), labels: [("signal", signal.rawValue), ("reason", reason)])
    }

    /// Damaged persistent queue segments found, by reason (`torn_tail`, `corrupt_record`).
    public func queueCorruptions(reason: String) -> Counter {
        registry.makeCounter(
            descriptor: d(
                "fluxtel_queue_corruptions_total", "Damaged persistent queue records found (torn_tail, corrupt_record)."
            ),
            labels: [("reason", reason)])
    }

    /// Items found in the persistent queue at start-up, to be sent again.
    public func queueReplayed(_ signal: Signal) -> Counter {
        registry.makeCounter(
            descriptor: d("fluxtel_queue_replayed_items_total", "Items found in the persistent queue at start-up."),
            labels: [("signal", signal.rawValue)])
    }

    public subscript(signal: Signal) -> SignalMetrics { perSignal[signal]! }

    /// Requests a receiver refused, by signal and reason (`malformed`, `unauthorized`, `too_large`,
    /// `unsupported_media_type`, `queue_full`, `shutting_down`, ...).
    public func refusedRequests(_ signal: Signal, reason: String) -> Counter {
        registry.makeCounter(
            descriptor: d("fluxtel_receiver_refused_requests_total", "Requests a receiver refused, by reason."),
            labels: [("signal", signal.rawValue), ("reason", reason)])
    }

    /// Requests a receiver accepted.
    public func acceptedRequests(_ signal: Signal) -> Counter {
        registry.makeCounter(
            descriptor: d("fluxtel_receiver_accepted_requests_total", "Requests a receiver accepted."),
            labels: [("signal", signal.rawValue)])
    }

    /// Prometheus text exposition of every metric.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}

/// A descriptor for a full metric name (swift-prometheus joins components with `_`; we pass it whole).
private func d(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
