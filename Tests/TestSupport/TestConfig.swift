/// YAML sections the end-to-end tests' agent configurations share, at their place under `receivers:`.
public enum TestConfig {
    /// `receivers.filelog` tailing the kubelet layout below `directory` (`pods/<ns>_<pod>_<uid>/<container>/N.log`)
    /// from the beginning, with checkpoints in `directory/checkpoints` and a 100 ms poll.
    public static func filelog(_ directory: String) -> String {
        """
          filelog:
            include: ["\(directory)/pods/*/*/*.log"]
            start_at: beginning
            checkpoint_dir: \(directory)/checkpoints
            poll_interval: 100ms
        """
    }

    /// `exporters` (uncompressed to the sink on `port`, quick retries) and `service` (telemetry on a free
    /// port), at the top level.
    public static func exportTo(sink port: Int, shutdownTimeout: String = "2s") -> String {
        """
        exporters:
          otlp_http:
            endpoint: http://127.0.0.1:\(port)
            compression: none
            retry: { initial_interval: 10ms, max_elapsed_time: 10s }
        service:
          telemetry: { address: "127.0.0.1:0" }
          shutdown_timeout: \(shutdownTimeout)
        """
    }
}
