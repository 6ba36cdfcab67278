public import Logging

extension Logger {
    /// This logger with `component` metadata: how each long-lived part of the agent (receivers, pipeline,
    /// queue, telemetry) tags its log lines.
    public func component(_ name: String) -> Logger {
        var logger = self
        logger[metadataKey: "component"] = "\(name)"
        return logger
    }
}
