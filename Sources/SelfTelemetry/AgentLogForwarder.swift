import Logging
import OTLPWire
import Synchronization

/// `service.telemetry.logs.export`: the agent's own warnings and errors, as OTLP log records through its
/// own pipeline, next to the JSON lines on stderr. One per process (swift-log copies handlers per
/// logger); `JSONLogHandler` hands it every line it writes at `warning` or above, after the repeat
/// limiter, so a line repeated every second arrives once a minute here too.
public final class AgentLogForwarder: Sendable {
    public static let shared = AgentLogForwarder()

    private struct Target {
        var resource: OTLP.Resource
        var version: String
        var sink: @Sendable ([UInt8]) -> Void
    }

    private let target = Mutex<Target?>(nil)

    /// While set, the current task is inside `sink`: a line it logs is not forwarded again.
    @TaskLocal static var forwarding = false

    /// Starts forwarding: `sink` gets an `ExportLogsServiceRequest` body of one record (the pipeline's
    /// `offer`, which never waits). `resourceAttributes` follow `service.name: fluxtel`.
    public func install(
        resourceAttributes: [(key: String, value: String)], version: String, sink: @escaping @Sendable ([UInt8]) -> Void
    ) {
        let attributes =
            [OTLP.KeyValue("service.name", "fluxtel"), OTLP.KeyValue("service.version", version)]
            + resourceAttributes.map { OTLP.KeyValue($0.key, $0.value) }
        target.withLock { $0 = Target(resource: OTLP.Resource(attributes: attributes), version: version, sink: sink) }
    }

    /// Stops forwarding (the agent stops; tests).
    public func uninstall() { target.withLock { $0 = nil } }

    func forward(level: Logger.Level, message: String, metadata: Logger.Metadata, label: String, time: UInt64) {
        guard level >= .warning, !Self.forwarding, let target = target.withLock({ $0 }) else { return }
        let record = OTLP.LogRecord(
            timeUnixNano: time, observedTimeUnixNano: time, severityNumber: Self.severity(level),
            severityText: level.rawValue.uppercased(), body: .string(message),
            attributes: metadata.keys.sorted().map { OTLP.KeyValue($0, "\(metadata[$0]!)") })
        let request = OTLP.ExportLogsServiceRequest(resourceLogs: [
            OTLP.ResourceLogs(
                resource: target.resource,
                scopeLogs: [
                    OTLP.ScopeLogs(
                        scope: OTLP.InstrumentationScope(name: label, version: target.version), logRecords: [record])
                ])
        ])
        Self.$forwarding.withValue(true) { target.sink(request.serializedBytes()) }
    }

    static func severity(_ level: Logger.Level) -> OTLP.SeverityNumber {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info, .notice: .info
        case .warning: .warn
        case .error: .error
        case .critical: .fatal
        }
    }
}
