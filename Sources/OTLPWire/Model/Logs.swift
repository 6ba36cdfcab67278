// OTLP logs: `opentelemetry/proto/logs/v1/logs.proto` (opentelemetry-proto 1.45.2).

extension OTLP {
    /// `opentelemetry.proto.logs.v1.ResourceLogs`.
    public struct ResourceLogs: Sendable, Hashable {
        public var resource: Resource?  // 1
        public var scopeLogs: [ScopeLogs]  // 2
        public var schemaURL: String  // 3

        public init(resource: Resource? = nil, scopeLogs: [ScopeLogs] = [], schemaURL: String = "") {
            self.resource = resource
            self.scopeLogs = scopeLogs
            self.schemaURL = schemaURL
        }
    }

    /// `opentelemetry.proto.logs.v1.ScopeLogs`.
    public struct ScopeLogs: Sendable, Hashable {
        public var scope: InstrumentationScope?  // 1
        public var logRecords: [LogRecord]  // 2
        public var schemaURL: String  // 3

        public init(scope: InstrumentationScope? = nil, logRecords: [LogRecord] = [], schemaURL: String = "") {
            self.scope = scope
            self.logRecords = logRecords
            self.schemaURL = schemaURL
        }
    }

    /// `opentelemetry.proto.logs.v1.SeverityNumber` (open enum).
    public struct SeverityNumber: RawRepresentable, Sendable, Hashable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let unspecified = SeverityNumber(rawValue: 0)
        public static let trace = SeverityNumber(rawValue: 1)
        public static let debug = SeverityNumber(rawValue: 5)
        public static let info = SeverityNumber(rawValue: 9)
        public static let warn = SeverityNumber(rawValue: 13)
        public static let error = SeverityNumber(rawValue: 17)
        public static let fatal = SeverityNumber(rawValue: 21)
    }

    /// `opentelemetry.proto.logs.v1.LogRecord`.
    public struct LogRecord: Sendable, Hashable {
        public var timeUnixNano: UInt64  // 1 fixed64
        public var observedTimeUnixNano: UInt64  // 11 fixed64
        public var severityNumber: SeverityNumber  // 2
        public var severityText: String  // 3
        public var body: AnyValue?  // 5
        public var attributes: [KeyValue]  // 6
        public var droppedAttributesCount: UInt32  // 7
        public var flags: UInt32  // 8 fixed32
        public var traceID: [UInt8]  // 9
        public var spanID: [UInt8]  // 10
        public var eventName: String  // 12

        public init(
            timeUnixNano: UInt64 = 0, observedTimeUnixNano: UInt64 = 0, severityNumber: SeverityNumber = .unspecified,
            severityText: String = "", body: AnyValue? = nil, attributes: [KeyValue] = [],
            droppedAttributesCount: UInt32 = 0, flags: UInt32 = 0, traceID: [UInt8] = [], spanID: [UInt8] = [],
            eventName: String = ""
        ) {
            self.timeUnixNano = timeUnixNano
            self.observedTimeUnixNano = observedTimeUnixNano
            self.severityNumber = severityNumber
            self.severityText = severityText
            self.body = body
            self.attributes = attributes
            self.droppedAttributesCount = droppedAttributesCount
            self.flags = flags
            self.traceID = traceID
            self.spanID = spanID
            self.eventName = eventName
        }
    }
}

extension OTLP.ResourceLogs: ProtoMessage {
    public init() { self.init(resource: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let resource { w.message(1, resource) }
        w.messages(2, scopeLogs)
        w.string(3, schemaURL)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: resource = try r.mergeMessage(k, into: resource)
            case 2: scopeLogs.append(try r.message(k))
            case 3: schemaURL = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ScopeLogs: ProtoMessage {
    public init() { self.init(scope: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let scope { w.message(1, scope) }
        w.messages(2, logRecords)
        w.string(3, schemaURL)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: scope = try r.mergeMessage(k, into: scope)
            case 2: logRecords.append(try r.message(k))
            case 3: schemaURL = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.LogRecord: ProtoMessage {
    public init() { self.init(timeUnixNano: 0) }

    @inlinable
    public func encode(into w: inout ProtoWriter) {
        w.fixed64(1, timeUnixNano)
        w.int32(2, severityNumber.rawValue)
        w.string(3, severityText)
        if let body { w.message(5, body) }
        for a in attributes { w.message(6, a) }
        w.uint32(7, droppedAttributesCount)
        w.fixed32(8, flags)
        w.bytes(9, traceID)
        w.bytes(10, spanID)
        w.fixed64(11, observedTimeUnixNano)
        w.string(12, eventName)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: timeUnixNano = try r.fixed64(k)
            case 2: severityNumber = OTLP.SeverityNumber(rawValue: try r.int32(k))
            case 3: severityText = try r.string(k)
            case 5: body = try r.mergeMessage(k, into: body)
            case 6: attributes.append(try r.message(k))
            case 7: droppedAttributesCount = try r.uint32(k)
            case 8: flags = try r.fixed32(k)
            case 9: traceID = try r.bytes(k)
            case 10: spanID = try r.bytes(k)
            case 11: observedTimeUnixNano = try r.fixed64(k)
            case 12: eventName = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}
