import OTLPWire

/// A Flux span of a trace request as the hold needs it (trace id, object uid, revision), read straight off
/// the wire: no model, only these few strings. `processors.hold` asks about every trace request that names
/// an `object.uid` (`FluxSpanTree.awaitsDuration`); decoding each into the model cost as much again as the
/// span tree's own rewrite.
struct FluxSpanKey: Equatable {
    var traceID: [UInt8]
    var uid: String
    var revision: String

    /// The spans without a parent that carry `object.uid` and `object.kind` (`FluxSpanTree`'s Flux spans),
    /// in order. Throws on malformed bytes.
    static func parentless(in body: [UInt8]) throws(ProtoDecodingError) -> [FluxSpanKey] {
        var keys: [FluxSpanKey] = []
        var request = ProtoReader(body)
        // ExportTraceServiceRequest.resource_spans = 1 → ResourceSpans.scope_spans = 2 → ScopeSpans.spans = 2
        try each(1, in: &request) { resource throws(ProtoDecodingError) in
            try each(2, in: &resource) { scope throws(ProtoDecodingError) in
                try each(2, in: &scope) { span throws(ProtoDecodingError) in
                    if let key = try key(&span) { keys.append(key) }
                }
            }
        }
        return keys
    }

    /// Calls `body` with a reader for every embedded message of field `number`; skips the other fields.
    private static func each(
        _ number: UInt32, in reader: inout ProtoReader, _ body: (inout ProtoReader) throws(ProtoDecodingError) -> Void
    ) throws(ProtoDecodingError) {
        while let field = try reader.nextField() {
            guard field.number == number else {
                try reader.skip(field)
                continue
            }
            var nested = try reader.nested(field)
            try body(&nested)
        }
    }

    /// Span: trace_id = 1, parent_span_id = 4, attributes = 9 (KeyValue: key = 1, value = 2; AnyValue:
    /// string_value = 1).
    private static func key(_ span: inout ProtoReader) throws(ProtoDecodingError) -> FluxSpanKey? {
        var traceID: [UInt8] = []
        var hasParent = false
        var strings: [String: String] = [:]
        while let field = try span.nextField() {
            switch field.number {
            case 1: traceID = try span.bytes(field)
            case 4: hasParent = !(try span.lengthDelimited(field)).isEmpty
            case 9:
                var pair = try span.nested(field)
                var key = ""
                var value: String?
                while let part = try pair.nextField() {
                    switch part.number {
                    case 1: key = try pair.string(part)
                    case 2 where wanted.contains(key):
                        var any = try pair.nested(part)
                        while let v = try any.nextField() {
                            if v.number == 1 { value = try any.string(v) } else { try any.skip(v) }
                        }
                    default: try pair.skip(part)
                    }
                }
                if let value, wanted.contains(key), strings[key] == nil { strings[key] = value }
            default: try span.skip(field)
            }
        }
        guard !hasParent, let uid = strings["object.uid"], strings["object.kind"] != nil else { return nil }
        let revision = FluxSpanTree.revision(
            appVersion: strings["app-version"], ociDigest: strings["oci-digest"], revision: strings["revision"])
        return FluxSpanKey(traceID: traceID, uid: uid, revision: revision)
    }

    /// The attributes a key is made of (a KeyValue's key comes before its value on the wire, as every
    /// OTLP encoder writes it; a value before its key is not read).
    private static let wanted: Set<String> = ["object.uid", "object.kind", "revision", "app-version", "oci-digest"]
}
