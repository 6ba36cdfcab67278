/// The three OpenTelemetry signals. Each maps to one `Export*ServiceRequest`, whose only field is
/// `repeated Resource{Spans,Logs,Metrics} = 1`: a batch is the concatenation of such fields.
public enum Signal: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case traces
    case logs
    case metrics

    public var description: String { rawValue }

    /// The OTLP/HTTP path for this signal (`/v1/traces`, ...).
    public var defaultPath: String { "/v1/\(rawValue)" }
}
