public import Logging
public import Pipeline
import Prometheus
public import SelfTelemetry

/// Stands in when an `otlp_http` exporter is configured without an endpoint (e.g. the Secret with
/// `DASH0_ENDPOINT` is missing): the agent keeps running, so a sidecar never takes its pod down, but
/// nothing is exported. Every batch is dropped and counted as `fluxtel_items_discarded_total{reason=
/// "no_endpoint"}`, `fluxtel_export_disabled` is 1, and `run()` (a service) logs at `error` once a
/// minute what is wrong and what to set.
public struct DiscardingExporter: BatchExporter {
    public let name = "none"
    /// What is misconfigured and what to set (from the configuration).
    public let reason: String
    let metrics: AgentMetrics
    let logger: Logger
    let every: Duration

    public init(reason: String, metrics: AgentMetrics, logger: Logger, every: Duration = .seconds(60)) {
        self.reason = reason
        self.metrics = metrics
        self.logger = logger
        self.every = every
        metrics.exportDisabled.set(Int64(1))
    }

    public func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        metrics.discardedItems(batch.signal, reason: "no_endpoint").increment(by: Int64(batch.itemCount))
        return .rejected
    }

    public func shutdown() async {}

    /// Logs the problem now and then every `every` until cancelled.
    public func remind() async {
        while !Task.isCancelled {
            logger.error("Nothing is exported: no exporter endpoint", metadata: ["reason": "\(reason)"])
            do { try await Task.sleep(for: every) } catch { return }
        }
    }
}
