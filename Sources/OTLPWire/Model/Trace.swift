// OTLP traces: `opentelemetry/proto/trace/v1/trace.proto` (opentelemetry-proto 1.45.2).

extension OTLP {
    /// `opentelemetry.proto.trace.v1.ResourceSpans`.
    public struct ResourceSpans: Sendable, Hashable {
        public var resource: Resource?  // 1
        public var scopeSpans: [ScopeSpans]  // 2
        public var schemaURL: String  // 3

        public init(resource: Resource? = nil, scopeSpans: [ScopeSpans] = [], schemaURL: String = "") {
            self.resource = resource
            self.scopeSpans = scopeSpans
            self.schemaURL = schemaURL
        }
    }

    /// `opentelemetry.proto.trace.v1.ScopeSpans`.
    public struct ScopeSpans: Sendable, Hashable {
        public var scope: InstrumentationScope?  // 1
        public var spans: [Span]  // 2
        public var schemaURL: String  // 3

        public init(scope: InstrumentationScope? = nil, spans: [Span] = [], schemaURL: String = "") {
            self.scope = scope
            self.spans = spans
            self.schemaURL = schemaURL
        }
    }

    /// `opentelemetry.proto.trace.v1.Span`.
    public struct Span: Sendable, Hashable {
        /// `Span.SpanKind` (open enum: unknown values are kept).
        public struct Kind: RawRepresentable, Sendable, Hashable {
            public var rawValue: Int32
            public init(rawValue: Int32) { self.rawValue = rawValue }
            public static let unspecified = Kind(rawValue: 0)
            public static let `internal` = Kind(rawValue: 1)
            public static let server = Kind(rawValue: 2)
            public static let client = Kind(rawValue: 3)
            public static let producer = Kind(rawValue: 4)
            public static let consumer = Kind(rawValue: 5)
        }

        /// `Span.Event`.
        public struct Event: Sendable, Hashable {
            public var timeUnixNano: UInt64  // 1 fixed64
            public var name: String  // 2
            public var attributes: [KeyValue]  // 3
            public var droppedAttributesCount: UInt32  // 4

            public init(
                timeUnixNano: UInt64 = 0, name: String = "", attributes: [KeyValue] = [],
                droppedAttributesCount: UInt32 = 0
            ) {
                self.timeUnixNano = timeUnixNano
                self.name = name
                self.attributes = attributes
                self.droppedAttributesCount = droppedAttributesCount
            }
        }

        /// `Span.Link`.
        public struct Link: Sendable, Hashable {
            public var traceID: [UInt8]  // 1
            public var spanID: [UInt8]  // 2
            public var traceState: String  // 3
            public var attributes: [KeyValue]  // 4
            public var droppedAttributesCount: UInt32  // 5
            public var flags: UInt32  // 6 fixed32

            public init(
                traceID: [UInt8] = [], spanID: [UInt8] = [], traceState: String = "", attributes: [KeyValue] = [],
                droppedAttributesCount: UInt32 = 0, flags: UInt32 = 0
            ) {
                self.traceID = traceID
                self.spanID = spanID
                self.traceState = traceState
                self.attributes = attributes
                self.droppedAttributesCount = droppedAttributesCount
                self.flags = flags
            }
        }

        public var traceID: [UInt8]  // 1
        public var spanID: [UInt8]  // 2
        public var traceState: String  // 3
        public var parentSpanID: [UInt8]  // 4
        public var flags: UInt32  // 16 fixed32
        public var name: String  // 5
        public var kind: Kind  // 6
        public var startTimeUnixNano: UInt64  // 7 fixed64
        public var endTimeUnixNano: UInt64  // 8 fixed64
        public var attributes: [KeyValue]  // 9
        public var droppedAttributesCount: UInt32  // 10
        public var events: [Event]  // 11
        public var droppedEventsCount: UInt32  // 12
        public var links: [Link]  // 13
        public var droppedLinksCount: UInt32  // 14
        public var status: Status?  // 15

        public init(
            traceID: [UInt8] = [], spanID: [UInt8] = [], traceState: String = "", parentSpanID: [UInt8] = [],
            flags: UInt32 = 0, name: String = "", kind: Kind = .unspecified, startTimeUnixNano: UInt64 = 0,
            endTimeUnixNano: UInt64 = 0, attributes: [KeyValue] = [], droppedAttributesCount: UInt32 = 0,
            events: [Event] = [], droppedEventsCount: UInt32 = 0, links: [Link] = [], droppedLinksCount: UInt32 = 0,
            status: Status? = nil
        ) {
            self.traceID = traceID
            self.spanID = spanID
            self.traceState = traceState
            self.parentSpanID = parentSpanID
            self.flags = flags
            self.name = name
            self.kind = kind
            self.startTimeUnixNano = startTimeUnixNano
            self.endTimeUnixNano = endTimeUnixNano
            self.attributes = attributes
            self.droppedAttributesCount = droppedAttributesCount
            self.events = events
            self.droppedEventsCount = droppedEventsCount
            self.links = links
            self.droppedLinksCount = droppedLinksCount
            self.status = status
        }
    }

    /// `opentelemetry.proto.trace.v1.Status`.
    public struct Status: Sendable, Hashable {
        /// `Status.StatusCode` (open enum).
        public struct Code: RawRepresentable, Sendable, Hashable {
            public var rawValue: Int32
            public init(rawValue: Int32) { self.rawValue = rawValue }
            public static let unset = Code(rawValue: 0)
            public static let ok = Code(rawValue: 1)
            public static let error = Code(rawValue: 2)
        }

        public var message: String  // 2
        public var code: Code  // 3

        public init(message: String = "", code: Code = .unset) {
            self.message = message
            self.code = code
        }
    }
}

extension OTLP.ResourceSpans: ProtoMessage {
    public init() { self.init(resource: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let resource { w.message(1, resource) }
        w.messages(2, scopeSpans)
        w.string(3, schemaURL)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: resource = try r.mergeMessage(k, into: resource)
            case 2: scopeSpans.append(try r.message(k))
            case 3: schemaURL = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ScopeSpans: ProtoMessage {
    public init() { self.init(scope: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let scope { w.message(1, scope) }
        w.messages(2, spans)
        w.string(3, schemaURL)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: scope = try r.mergeMessage(k, into: scope)
            case 2: spans.append(try r.message(k))
            case 3: schemaURL = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Span: ProtoMessage {
    public init() { self.init(traceID: []) }

    public func encode(into w: inout ProtoWriter) {
        w.bytes(1, traceID)
        w.bytes(2, spanID)
        w.string(3, traceState)
        w.bytes(4, parentSpanID)
        w.string(5, name)
        w.int32(6, kind.rawValue)
        w.fixed64(7, startTimeUnixNano)
        w.fixed64(8, endTimeUnixNano)
        w.messages(9, attributes)
        w.uint32(10, droppedAttributesCount)
        w.messages(11, events)
        w.uint32(12, droppedEventsCount)
        w.messages(13, links)
        w.uint32(14, droppedLinksCount)
        if let status { w.message(15, status) }
        w.fixed32(16, flags)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: traceID = try r.bytes(k)
            case 2: spanID = try r.bytes(k)
            case 3: traceState = try r.string(k)
            case 4: parentSpanID = try r.bytes(k)
            case 5: name = try r.string(k)
            case 6: kind = Kind(rawValue: try r.int32(k))
            case 7: startTimeUnixNano = try r.fixed64(k)
            case 8: endTimeUnixNano = try r.fixed64(k)
            case 9: attributes.append(try r.message(k))
            case 10: droppedAttributesCount = try r.uint32(k)
            case 11: events.append(try r.message(k))
            case 12: droppedEventsCount = try r.uint32(k)
            case 13: links.append(try r.message(k))
            case 14: droppedLinksCount = try r.uint32(k)
            case 15: status = try r.mergeMessage(k, into: status)
            case 16: flags = try r.fixed32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Span.Event: ProtoMessage {
    public init() { self.init(timeUnixNano: 0) }

    public func encode(into w: inout ProtoWriter) {
        w.fixed64(1, timeUnixNano)
        w.string(2, name)
        w.messages(3, attributes)
        w.uint32(4, droppedAttributesCount)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: timeUnixNano = try r.fixed64(k)
            case 2: name = try r.string(k)
            case 3: attributes.append(try r.message(k))
            case 4: droppedAttributesCount = try r.uint32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Span.Link: ProtoMessage {
    public init() { self.init(traceID: []) }

    public func encode(into w: inout ProtoWriter) {
        w.bytes(1, traceID)
        w.bytes(2, spanID)
        w.string(3, traceState)
        w.messages(4, attributes)
        w.uint32(5, droppedAttributesCount)
        w.fixed32(6, flags)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: traceID = try r.bytes(k)
            case 2: spanID = try r.bytes(k)
            case 3: traceState = try r.string(k)
            case 4: attributes.append(try r.message(k))
            case 5: droppedAttributesCount = try r.uint32(k)
            case 6: flags = try r.fixed32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Status: ProtoMessage {
    public init() { self.init(message: "") }

    public func encode(into w: inout ProtoWriter) {
        w.string(2, message)
        w.int32(3, code.rawValue)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 2: message = try r.string(k)
            case 3: code = Code(rawValue: try r.int32(k))
            default: try r.skip(k)
            }
        }
    }
}
