public import OTLPWire

/// Adds string attributes to the `Resource` of every `Resource{Spans,Logs,Metrics}` in a body,
/// rewriting only the resource messages and copying everything else (scopes, items) verbatim.
///
/// Choice for existing keys: **the rewriter's value wins** (upsert, like the Collector's
/// `resource` processor with `action: upsert`). Existing attributes with a configured key are
/// removed and the configured attributes are appended after the remaining ones. A
/// `Resource*` without a `resource` field gets one. The attribute KeyValues are encoded once,
/// at init.
public struct ResourceAttributeRewriter: Sendable {
    public let attributes: [(key: String, value: String)]
    /// UTF-8 of each key, to match existing attributes without decoding them into Strings.
    private let keys: [[UInt8]]
    /// The configured attributes, each encoded as a `Resource.attributes` field (tag 0x0A ...).
    private let encodedAttributes: [UInt8]

    public init(attributes: [(key: String, value: String)]) {
        self.attributes = attributes
        keys = attributes.map { Array($0.key.utf8) }
        var w = ProtoWriter()
        for a in attributes { w.stringAttribute(1, key: a.key, value: a.value) }
        encodedAttributes = w.bytes
    }

    /// Rewrites `body` (a request body: `repeated Resource* = 1`). Throws on malformed input
    /// in the parts it reads (the resource-level fields and resource attributes' keys).
    public func rewrite(
        _ body: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth
    ) throws(ProtoDecodingError) -> [UInt8] {
        if attributes.isEmpty { return body }
        var w = ProtoWriter(reservingCapacity: body.count + 64 + encodedAttributes.count * 4)
        var top = ProtoReader(body, maxDepth: maxDepth)
        while let key = try top.nextField() {
            guard key.number == 1, key.wireType == .lengthDelimited else {
                try top.skip(key)
                copy(body, key.offset..<top.position, to: &w)
                continue
            }
            var rs = try top.nested(key)
            let mark = w.beginMessage(1)
            try rewriteResourceContainer(&rs, body: body, into: &w)
            w.endMessage(mark)
        }
        return w.finish()
    }

    private func copy(_ body: [UInt8], _ range: Range<Int>, to w: inout ProtoWriter) {
        body.withUnsafeBytes { w.writeRawBytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    private func rewriteResourceContainer(
        _ r: inout ProtoReader, body: [UInt8], into w: inout ProtoWriter
    ) throws(ProtoDecodingError) {
        // First pass: find the `resource` fields (the attributes go into the last one, which
        // is the one that wins when a decoder merges repeated occurrences).
        var probe = r
        var resourceCount = 0
        while let key = try probe.nextField() {
            if key.number == 1 {
                try probe.expect(key, .lengthDelimited)
                resourceCount += 1
            }
            try probe.skip(key)
        }
        if resourceCount == 0 {
            let m = w.beginMessage(1)
            w.writeRawBytes(encodedAttributes)
            w.endMessage(m)
        }
        var seen = 0
        while let key = try r.nextField() {
            if key.number == 1 {
                seen += 1
                var res = try r.nested(key)
                let m = w.beginMessage(1)
                try rewriteResource(&res, body: body, appendAttributes: seen == resourceCount, into: &w)
                w.endMessage(m)
            } else {
                try r.skip(key)
                copy(body, key.offset..<r.position, to: &w)
            }
        }
    }

    private func rewriteResource(
        _ r: inout ProtoReader, body: [UInt8], appendAttributes: Bool, into w: inout ProtoWriter
    ) throws(ProtoDecodingError) {
        while let key = try r.nextField() {
            if key.number == 1 {
                let range = try r.lengthDelimited(key)
                if try !hasConfiguredKey(body, range, depth: r) {
                    copy(body, key.offset..<range.upperBound, to: &w)
                }
            } else {
                try r.skip(key)
                copy(body, key.offset..<r.position, to: &w)
            }
        }
        if appendAttributes { w.writeRawBytes(encodedAttributes) }
    }

    /// Whether the KeyValue encoded in `range` has one of the configured keys.
    private func hasConfiguredKey(
        _ body: [UInt8], _ range: Range<Int>, depth parent: ProtoReader
    ) throws(ProtoDecodingError) -> Bool {
        var kv = try parent.child(range, at: range.lowerBound)
        var keyRange: Range<Int>? = nil
        while let key = try kv.nextField() {
            if key.number == 1 {
                keyRange = try kv.lengthDelimited(key)
            } else {
                try kv.skip(key)
            }
        }
        guard let keyRange else { return false }
        return body.withUnsafeBufferPointer { buf in
            let k = UnsafeBufferPointer(rebasing: buf[keyRange])
            for candidate in keys where candidate.count == k.count {
                if candidate.withUnsafeBufferPointer({ $0.elementsEqual(k) }) { return true }
            }
            return false
        }
    }
}
