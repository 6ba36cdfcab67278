// A JSON document as a tree, for callers that pick a few fields out of objects they do not model
// (the Kubernetes API client: lists, watch events, Leases, Status). Built by the same strict, bounded
// `JSONReader` that decodes OTLP/JSON requests, so there is one tokenizer (strings, escapes, UTF-8,
// numbers, depth limit) in the agent. The OTLP/JSON path never builds a tree: it pulls typed values.

/// A JSON value. Objects are unordered (`[String: JSONValue]`); a duplicate key keeps the last value.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    public subscript(key: String) -> JSONValue? {
        get {
            if case .object(let members) = self { return members[key] }
            return nil
        }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var number: Double? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The number as an `Int` when it is integral and in range.
    public var int: Int? {
        guard case .number(let n) = self, n.rounded(.towardZero) == n, abs(n) < 0x1p63 else { return nil }
        return Int(n)
    }

    public var array: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// Strings of a string-to-string object (labels, annotations).
    public var stringMap: [String: String] {
        guard case .object(let members) = self else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in members { if let s = value.string { result[key] = s } }
        return result
    }
}

extension JSONValue {
    /// The default nesting limit of ``parse(_:maxDepth:)``.
    public static let defaultMaxDepth = 128

    /// Parses one JSON value (RFC 8259, strict; only whitespace may follow it).
    public static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth
    ) throws(OTLPJSONError) -> JSONValue {
        var reader = JSONReader(bytes, maxDepth: maxDepth, budget: .max)
        let value = try reader.value()
        try reader.finish()
        return value
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(OTLPJSONError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (p) throws(OTLPJSONError) -> JSONValue in
            try parse(p, maxDepth: maxDepth)
        }
    }

    /// Compact JSON text; object keys sorted, so equal values give equal bytes.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }
}

extension JSONReader {
    /// Reads any JSON value into a tree.
    mutating func value() throws(OTLPJSONError) -> JSONValue {
        guard let c = peek() else { throw unexpected("a JSON value") }
        switch c {
        case UInt8(ascii: "{"):
            var members: [String: JSONValue] = [:]
            try object { (r, key) throws(OTLPJSONError) in members[key.string] = try r.value() }
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            try array { (r, _) throws(OTLPJSONError) in elements.append(try r.value()) }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(
                try withString("a string") { (p) throws(OTLPJSONError) -> String in String(decoding: p, as: UTF8.self) }
            )
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = pos
            let range = try numberToken()
            guard let d = parseDouble(UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)),
                d.isFinite
            else { throw error("number out of range", at: start) }
            return .number(d)
        default:
            throw unexpected("a JSON value")
        }
    }
}

extension JSONWriter {
    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let n):
            if n.rounded(.towardZero) == n, abs(n) < 0x1p53 {
                raw(String(Int64(n)))
            } else {
                raw(n.isFinite ? "\(n)" : "null")
            }
        case .string(let s): string(s)
        case .array(let elements):
            raw("[")
            for (i, element) in elements.enumerated() {
                if i > 0 { raw(",") }
                self.value(element)
            }
            raw("]")
        case .object(let members):
            raw("{")
            for (i, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { raw(",") }
                string(member.key)
                raw(":")
                self.value(member.value)
            }
            raw("}")
        }
    }
}
