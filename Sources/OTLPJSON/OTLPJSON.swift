public import OTLPWire

/// The OTLP/JSON encoding (opentelemetry-proto `docs/specification.md`, "JSON Protobuf Encoding"):
/// the protobuf JSON mapping with hex trace and span ids, for OTLP/HTTP `application/json`.
///
/// Requests are converted to the protobuf bytes our own encoder writes for the same values, so the
/// pipeline never sees JSON. Responses and errors are written in JSON for JSON clients.
public enum OTLPJSON {
    /// Bounds on what one request may cost.
    public struct Limits: Sendable, Hashable {
        /// Deepest nesting of objects and arrays. The default, 88, lets through exactly what the protobuf
        /// walker's default depth (64 messages) accepts, wherever the deepest AnyValue sits (a JSON
        /// kvlist level is 4 JSON levels for 3 messages, an array level 3 for 2), so a request never
        /// passes here only to fail in the walker; a test checks it.
        public var maxDepth: Int
        /// Largest JSON text accepted.
        public var maxInputBytes: Int
        /// Upper bound on the (estimated) memory of the decoded request model, whatever the input size.
        /// The model may take at most `16 × input + 1 MiB` and never more than this; small JSON values
        /// that make large model values (`[{},{},…]`) hit the bound instead of the memory limit.
        public var maxModelBytes: Int

        public init(maxDepth: Int = 88, maxInputBytes: Int = 64 << 20, maxModelBytes: Int = 256 << 20) {
            self.maxDepth = maxDepth
            self.maxInputBytes = maxInputBytes
            self.maxModelBytes = maxModelBytes
        }

        public static let `default` = Limits()
    }

    /// Converts an OTLP/JSON `Export{Trace,Logs,Metrics}ServiceRequest` into the protobuf encoding of
    /// the same request.
    ///
    /// Accepted, as the protobuf JSON mapping and OTLP/JSON specify: lowerCamelCase and original
    /// (snake_case) field names; trace and span ids as hex; other `bytes` as base64; enums by number
    /// or value name; 64-bit integers as numbers or decimal strings; doubles as numbers, numeric
    /// strings, `"NaN"`, `"Infinity"`, `"-Infinity"`; `null` for a default value. Unknown fields are
    /// ignored (their values must still be valid JSON). A repeated key: the last one wins.
    ///
    /// Cost: JSON → model → protobuf. Measured (release, one core of the 2-core build machine, spans of
    /// ~840 JSON bytes with 7 attributes and an event): ~350 MB/s of JSON, ~415,000 spans/s, whether
    /// 1, 100 or 1,000 spans per request. Memory: the model, bounded as `Limits` describes.
    ///
    /// - Throws: `OTLPJSONError` with the byte offset, the JSON path and the reason.
    public static func decodeRequest(
        signal: Signal, json: [UInt8], limits: Limits = .default
    ) throws(OTLPJSONError) -> [UInt8] {
        guard json.count <= limits.maxInputBytes else {
            throw OTLPJSONError(
                offset: limits.maxInputBytes, reason: "JSON body larger than \(limits.maxInputBytes) bytes")
        }
        let budget = min(limits.maxModelBytes, json.count.multipliedReportingOverflow(by: 16).partialValue + (1 << 20))
        return try json.withUnsafeBufferPointer { (buffer) throws(OTLPJSONError) -> [UInt8] in
            var r = JSONReader(buffer, maxDepth: limits.maxDepth, budget: budget)
            switch signal {
            case .traces: return try r.request(OTLP.ExportTraceServiceRequest.self).serializedBytes()
            case .logs: return try r.request(OTLP.ExportLogsServiceRequest.self).serializedBytes()
            case .metrics: return try r.request(OTLP.ExportMetricsServiceRequest.self).serializedBytes()
            }
        }
    }

    /// Decodes an OTLP/JSON `ExportTraceServiceRequest` into the model.
    public static func decodeTraceRequest(
        json: [UInt8], limits: Limits = .default
    ) throws(OTLPJSONError)
        -> OTLP.ExportTraceServiceRequest
    {
        try decode(json, limits)
    }

    /// Decodes an OTLP/JSON `ExportLogsServiceRequest` into the model.
    public static func decodeLogsRequest(
        json: [UInt8], limits: Limits = .default
    ) throws(OTLPJSONError)
        -> OTLP.ExportLogsServiceRequest
    {
        try decode(json, limits)
    }

    /// Decodes an OTLP/JSON `ExportMetricsServiceRequest` into the model.
    public static func decodeMetricsRequest(
        json: [UInt8], limits: Limits = .default
    ) throws(OTLPJSONError)
        -> OTLP.ExportMetricsServiceRequest
    {
        try decode(json, limits)
    }

    static func decode<M: JSONMessage>(_ json: [UInt8], _ limits: Limits) throws(OTLPJSONError) -> M {
        guard json.count <= limits.maxInputBytes else {
            throw OTLPJSONError(
                offset: limits.maxInputBytes, reason: "JSON body larger than \(limits.maxInputBytes) bytes")
        }
        let budget = min(limits.maxModelBytes, json.count.multipliedReportingOverflow(by: 16).partialValue + (1 << 20))
        return try json.withUnsafeBufferPointer { (buffer) throws(OTLPJSONError) -> M in
            var r = JSONReader(buffer, maxDepth: limits.maxDepth, budget: budget)
            return try r.request(M.self)
        }
    }

    /// `Export{Trace,Logs,Metrics}ServiceResponse` as OTLP/JSON: `{}`, or
    /// `{"partialSuccess":{"rejectedSpans":"3","errorMessage":"…"}}` with the signal's field name
    /// (`rejectedSpans`, `rejectedLogRecords`, `rejectedDataPoints`). Default values are omitted and
    /// int64 is a decimal string, as the protobuf JSON mapping writes them.
    public static func encodeResponse(_ response: OTLP.ExportServiceResponse, signal: Signal) -> [UInt8] {
        var out = JSONWriter()
        out.raw("{")
        if let partial = response.partialSuccess {
            out.raw("\"partialSuccess\":{")
            var first = true
            if partial.rejected != 0 {
                switch signal {
                case .traces: out.raw("\"rejectedSpans\":\"")
                case .logs: out.raw("\"rejectedLogRecords\":\"")
                case .metrics: out.raw("\"rejectedDataPoints\":\"")
                }
                out.raw(String(partial.rejected))
                out.raw("\"")
                first = false
            }
            if !partial.errorMessage.isEmpty {
                out.raw(first ? "\"errorMessage\":" : ",\"errorMessage\":")
                out.string(partial.errorMessage)
            }
            out.raw("}")
        }
        out.raw("}")
        return out.bytes
    }

    /// A `google.rpc.Status` as JSON, for error responses: `{"code":3,"message":"…"}`
    /// (`code` is a `google.rpc.Code`, e.g. 3 INVALID_ARGUMENT; an empty message is omitted).
    public static func encodeStatus(code: Int, message: String) -> [UInt8] {
        var out = JSONWriter()
        out.raw("{\"code\":")
        out.raw(String(code))
        if !message.isEmpty {
            out.raw(",\"message\":")
            out.string(message)
        }
        out.raw("}")
        return out.bytes
    }
}

extension JSONReader {
    /// The whole input: one request object and nothing after it.
    mutating func request<M: JSONMessage>(_: M.Type) throws(OTLPJSONError) -> M {
        guard peek() == UInt8(ascii: "{") else { throw unexpected("a JSON object (the export request)") }
        guard let m = try message(M.self) else { throw unexpected("a JSON object") }
        try finish()
        return m
    }
}

/// Minimal JSON output for responses.
struct JSONWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                let hex = String(c, radix: 16)
                raw("\\u00" + (hex.count == 1 ? "0" + hex : hex))
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
