// OTLP data model, common and resource messages.
// Field numbers: opentelemetry-proto `opentelemetry/proto/common/v1/common.proto` and
// `resource/v1/resource.proto`, as shipped in the Python package opentelemetry-proto 1.45.2
// (checked against the descriptors of that package; see Tests/Interop).

/// Namespace for the OTLP data model (avoids clashes with e.g. Prometheus' `Gauge`).
public enum OTLP {}

extension OTLP {
    /// `opentelemetry.proto.common.v1.AnyValue`. `.empty` is a present AnyValue with no member set.
    public enum AnyValue: Sendable, Hashable {
        case empty
        case string(String)  // 1
        case bool(Bool)  // 2
        case int(Int64)  // 3
        case double(Double)  // 4
        case array([AnyValue])  // 5 ArrayValue{ repeated AnyValue values = 1 }
        case kvlist([KeyValue])  // 6 KeyValueList{ repeated KeyValue values = 1 }
        case bytes([UInt8])  // 7
        /// Index into a profiles dictionary string table (field 8, development status).
        case stringIndex(Int32)  // 8
    }

    /// `opentelemetry.proto.common.v1.KeyValue`.
    public struct KeyValue: Sendable, Hashable {
        public var key: String  // 1
        /// nil: the `value` field is absent.
        public var value: AnyValue?  // 2
        /// `key_strindex` (field 3, profiles dictionary; 0 = unset).
        public var keyIndex: Int32  // 3

        public init(key: String, value: AnyValue?, keyIndex: Int32 = 0) {
            self.key = key
            self.value = value
            self.keyIndex = keyIndex
        }

        public init(_ key: String, _ value: String) {
            self.init(key: key, value: .string(value))
        }
    }

    /// `opentelemetry.proto.common.v1.InstrumentationScope`.
    public struct InstrumentationScope: Sendable, Hashable {
        public var name: String  // 1
        public var version: String  // 2
        public var attributes: [KeyValue]  // 3
        public var droppedAttributesCount: UInt32  // 4

        public init(
            name: String = "", version: String = "", attributes: [KeyValue] = [], droppedAttributesCount: UInt32 = 0
        ) {
            self.name = name
            self.version = version
            self.attributes = attributes
            self.droppedAttributesCount = droppedAttributesCount
        }
    }

    /// `opentelemetry.proto.common.v1.EntityRef` (development status).
    public struct EntityRef: Sendable, Hashable {
        public var schemaURL: String  // 1
        public var type: String  // 2
        public var idKeys: [String]  // 3
        public var descriptionKeys: [String]  // 4

        public init(schemaURL: String = "", type: String = "", idKeys: [String] = [], descriptionKeys: [String] = []) {
            self.schemaURL = schemaURL
            self.type = type
            self.idKeys = idKeys
            self.descriptionKeys = descriptionKeys
        }
    }

    /// `opentelemetry.proto.resource.v1.Resource`.
    public struct Resource: Sendable, Hashable {
        public var attributes: [KeyValue]  // 1
        public var droppedAttributesCount: UInt32  // 2
        public var entityRefs: [EntityRef]  // 3

        public init(attributes: [KeyValue] = [], droppedAttributesCount: UInt32 = 0, entityRefs: [EntityRef] = []) {
            self.attributes = attributes
            self.droppedAttributesCount = droppedAttributesCount
            self.entityRefs = entityRefs
        }
    }
}

// MARK: encoding

extension OTLP.AnyValue: ProtoMessage {
    @inlinable
    public func encode(into w: inout ProtoWriter) {
        switch self {
        case .empty: break
        case .string(let s): w.writeStringAlways(1, s)
        case .bool(let b):
            w.writeTag(2, .varint)
            w.writeVarint(b ? 1 : 0)
        case .int(let i):
            w.writeTag(3, .varint)
            w.writeVarint(UInt64(bitPattern: i))
        case .double(let d): w.doubleAlways(4, d)
        case .array(let values):
            let m = w.beginMessage(5)
            for v in values { w.message(1, v) }
            w.endMessage(m)
        case .kvlist(let values):
            let m = w.beginMessage(6)
            for v in values { w.message(1, v) }
            w.endMessage(m)
        case .bytes(let b): w.writeBytesAlways(7, b)
        case .stringIndex(let i):
            w.writeTag(8, .varint)
            w.writeVarint(UInt64(bitPattern: Int64(i)))
        }
    }

    public init() { self = .empty }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        var value = self
        while let k = try r.nextField() {
            switch k.number {
            case 1: value = .string(try r.string(k))
            case 2: value = .bool(try r.bool(k))
            case 3: value = .int(try r.int64(k))
            case 4: value = .double(try r.double(k))
            case 5:
                var sub = try r.nested(k)
                var values: [OTLP.AnyValue] = []
                while let sk = try sub.nextField() {
                    if sk.number == 1 { values.append(try sub.message(sk)) } else { try sub.skip(sk) }
                }
                // Oneof message members merge when repeated; arrays concatenate.
                if case .array(let previous) = value { values = previous + values }
                value = .array(values)
            case 6:
                var sub = try r.nested(k)
                var values: [OTLP.KeyValue] = []
                while let sk = try sub.nextField() {
                    if sk.number == 1 { values.append(try sub.message(sk)) } else { try sub.skip(sk) }
                }
                if case .kvlist(let previous) = value { values = previous + values }
                value = .kvlist(values)
            case 7: value = .bytes(try r.bytes(k))
            case 8: value = .stringIndex(try r.int32(k))
            default: try r.skip(k)
            }
        }
        self = value
    }
}

extension OTLP.KeyValue: ProtoMessage {
    public init() { self.init(key: "", value: nil) }

    @inlinable
    public func encode(into w: inout ProtoWriter) {
        w.string(1, key)
        if let value { w.message(2, value) }
        w.int32(3, keyIndex)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: key = try r.string(k)
            case 2: value = try r.mergeMessage(k, into: value)
            case 3: keyIndex = try r.int32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.InstrumentationScope: ProtoMessage {
    public init() { self.init(name: "") }

    public func encode(into w: inout ProtoWriter) {
        w.string(1, name)
        w.string(2, version)
        w.messages(3, attributes)
        w.uint32(4, droppedAttributesCount)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: name = try r.string(k)
            case 2: version = try r.string(k)
            case 3: attributes.append(try r.message(k))
            case 4: droppedAttributesCount = try r.uint32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.EntityRef: ProtoMessage {
    public init() { self.init(schemaURL: "") }

    public func encode(into w: inout ProtoWriter) {
        w.string(1, schemaURL)
        w.string(2, type)
        for s in idKeys { w.writeStringAlways(3, s) }
        for s in descriptionKeys { w.writeStringAlways(4, s) }
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: schemaURL = try r.string(k)
            case 2: type = try r.string(k)
            case 3: idKeys.append(try r.string(k))
            case 4: descriptionKeys.append(try r.string(k))
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Resource: ProtoMessage {
    public init() { self.init(attributes: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, attributes)
        w.uint32(2, droppedAttributesCount)
        w.messages(3, entityRefs)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: attributes.append(try r.message(k))
            case 2: droppedAttributesCount = try r.uint32(k)
            case 3: entityRefs.append(try r.message(k))
            default: try r.skip(k)
            }
        }
    }
}

// MARK: fast paths for producers

extension ProtoWriter {
    /// Writes a `KeyValue` with a string value as a message field, without building model values.
    @inlinable
    public mutating func stringAttribute(_ field: UInt32, key: String, value: String) {
        let kv = beginMessage(field)
        writeStringAlways(1, key)
        let v = beginMessage(2)
        writeStringAlways(1, value)
        endMessage(v)
        endMessage(kv)
    }

    /// Writes a `KeyValue` with an int value as a message field.
    @inlinable
    public mutating func intAttribute(_ field: UInt32, key: String, value: Int64) {
        let kv = beginMessage(field)
        writeStringAlways(1, key)
        let v = beginMessage(2)
        writeTag(3, .varint)
        writeVarint(UInt64(bitPattern: value))
        endMessage(v)
        endMessage(kv)
    }
}
