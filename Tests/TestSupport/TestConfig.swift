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
}
