/// YAML sections the end-to-end tests' agent configurations share.
public enum TestConfig {
    /// `receivers.filelog` tailing the kubelet layout below `directory` (`pods/<ns>_<pod>_<uid>/<container>/N.log`)
    /// from the beginning, with checkpoints in `directory/checkpoints` and a 100 ms poll; indented for its place
    /// under `receivers:`.
    public static func filelog(_ directory: String) -> String {
        """
          filelog:
            include: ["\(directory)/pods/*/*/*.log"]
            start_at: beginning
            checkpoint_dir: \(directory)/checkpoints
            poll_interval: 100ms
        """
    }

    /// The `exporters` and `service` sections of an agent that sends to the sink on `sinkPort`: `otlp_http`
    /// with `retry`, `compression` when given and the `extra` lines as they are; the agent's own telemetry
    /// on a free port (`AgentProcess.telemetryPort` says which), and `shutdown_timeout`.
    public static func exportToSink(
        _ sinkPort: Int, compression: String? = nil, retry: String, extra: [String] = [],
        shutdownTimeout: String = "5s"
    ) -> String {
        let exporter = (compression.map { ["compression: \($0)"] } ?? []) + extra + ["retry: \(retry)"]
        return """
            exporters:
              otlp_http:
                endpoint: http://127.0.0.1:\(sinkPort)
            \(exporter.map { "    " + $0 }.joined(separator: "\n"))
            service:
              telemetry: { address: "127.0.0.1:0" }
              shutdown_timeout: \(shutdownTimeout)
            """
    }
}
