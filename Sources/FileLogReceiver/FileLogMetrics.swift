import Prometheus
import SelfTelemetry

/// The file log receiver's own instruments, next to the agent's `fluxtel_*` counters.
struct FileLogMetrics: Sendable {
    /// Files being tailed (matched ones and rotated ones still being read to their end).
    let openFiles: Gauge
    /// Rename rotations and deletions seen (a file let go after it was read to its end).
    let filesFinished: Counter
    /// Copy-truncate (or truncate-and-rewrite) detections.
    let truncations: Counter
    /// Rotated generations found next to a rotated file that were never seen at the tailed path.
    let missedGenerations: Counter
    /// Records longer than `max_log_size`, cut and flagged.
    let truncatedRecords: Counter

    init(_ metrics: AgentMetrics) {
        let registry = metrics.registry
        openFiles = registry.makeGauge(descriptor: d("fluxtel_filelog_open_files", "Log files being tailed."))
        filesFinished = registry.makeCounter(
            descriptor: d(
                "fluxtel_filelog_files_finished_total", "Rotated or deleted log files read to their end and closed."))
        truncations = registry.makeCounter(
            descriptor: d(
                "fluxtel_filelog_truncations_total",
                "Log files found truncated (copy-truncate rotation); read again from their start."))
        missedGenerations = registry.makeCounter(
            descriptor: d(
                "fluxtel_filelog_rotated_unseen_total",
                "Rotated log files found next to a rotated file, never seen at the tailed path; read whole."))
        truncatedRecords = registry.makeCounter(
            descriptor: d(
                "fluxtel_filelog_records_truncated_total",
                "Log records longer than max_log_size, cut and flagged with fluxtel.log.truncated."))
    }
}

/// A descriptor for a full metric name (swift-prometheus joins components with `_`; we pass it whole).
private func d(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
