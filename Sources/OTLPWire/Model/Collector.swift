// OTLP collector service messages: `opentelemetry/proto/collector/{trace,logs,metrics}/v1/*_service.proto`
// (opentelemetry-proto 1.45.2). A request body is `repeated Resource* = 1` and nothing else.

extension OTLP {
    /// `ExportTraceServiceRequest`.
    public struct ExportTraceServiceRequest: Sendable, Hashable {
        public var resourceSpans: [ResourceSpans]  // 1
        public init(resourceSpans: [ResourceSpans] = []) { self.resourceSpans = resourceSpans }
    }

    /// `ExportLogsServiceRequest`.
    public struct ExportLogsServiceRequest: Sendable, Hashable {
        public var resourceLogs: [ResourceLogs]  // 1
        public init(resourceLogs: [ResourceLogs] = []) { self.resourceLogs = resourceLogs }
    }

    /// `ExportMetricsServiceRequest`.
    public struct ExportMetricsServiceRequest: Sendable, Hashable {
        public var resourceMetrics: [ResourceMetrics]  // 1
        public init(resourceMetrics: [ResourceMetrics] = []) { self.resourceMetrics = resourceMetrics }
    }

    /// `ExportTracePartialSuccess`, `ExportLogsPartialSuccess`, `ExportMetricsPartialSuccess`:
    /// the same shape, `int64 rejected_* = 1; string error_message = 2`.
    public struct PartialSuccess: Sendable, Hashable {
        /// rejected_spans / rejected_log_records / rejected_data_points.
        public var rejected: Int64  // 1
        public var errorMessage: String  // 2

        public init(rejected: Int64 = 0, errorMessage: String = "") {
            self.rejected = rejected
            self.errorMessage = errorMessage
        }
    }

    /// `Export{Trace,Logs,Metrics}ServiceResponse`: the three are the same on the wire
    /// (`ExportXPartialSuccess partial_success = 1`), so one type serves all signals.
    public struct ExportServiceResponse: Sendable, Hashable {
        public var partialSuccess: PartialSuccess?  // 1
        public init(partialSuccess: PartialSuccess? = nil) { self.partialSuccess = partialSuccess }
    }

    public typealias ExportTraceServiceResponse = ExportServiceResponse
    public typealias ExportLogsServiceResponse = ExportServiceResponse
    public typealias ExportMetricsServiceResponse = ExportServiceResponse
}

extension OTLP.ExportTraceServiceRequest: ProtoMessage {
    public init() { self.init(resourceSpans: []) }

    public func encode(into w: inout ProtoWriter) { w.messages(1, resourceSpans) }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            if k.number == 1 { resourceSpans.append(try r.message(k)) } else { try r.skip(k) }
        }
    }
}

extension OTLP.ExportLogsServiceRequest: ProtoMessage {
    public init() { self.init(resourceLogs: []) }

    public func encode(into w: inout ProtoWriter) { w.messages(1, resourceLogs) }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            if k.number == 1 { resourceLogs.append(try r.message(k)) } else { try r.skip(k) }
        }
    }
}

extension OTLP.ExportMetricsServiceRequest: ProtoMessage {
    public init() { self.init(resourceMetrics: []) }

    public func encode(into w: inout ProtoWriter) { w.messages(1, resourceMetrics) }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            if k.number == 1 { resourceMetrics.append(try r.message(k)) } else { try r.skip(k) }
        }
    }
}

extension OTLP.PartialSuccess: ProtoMessage {
    public init() { self.init(rejected: 0) }

    public func encode(into w: inout ProtoWriter) {
        w.int64(1, rejected)
        w.string(2, errorMessage)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: rejected = try r.int64(k)
            case 2: errorMessage = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ExportServiceResponse: ProtoMessage {
    public init() { self.init(partialSuccess: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let partialSuccess { w.message(1, partialSuccess) }
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            if k.number == 1 { partialSuccess = try r.mergeMessage(k, into: partialSuccess) } else { try r.skip(k) }
        }
    }
}
