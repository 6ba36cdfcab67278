public import OTLPWire

/// Turns notification-controller's flat spans into a tree (issue 18, parts 2 and 3), with the ids of
/// fluxcd/notification-controller#1172, so nothing changes once Flux derives them itself:
///
/// - A span is Flux's when it carries `object.uid` and `object.kind` (NC's first attributes) and **has no
///   parent**. Every other span, and every span of a request without such a span, is left as it came: the
///   request's bytes are not touched (`rewrite` returns nil).
/// - Its revision is NC v1.9.3's: `<app-version>@<oci-digest>` when both attributes exist, else `revision`,
///   else `unknown`; so the span's trace (NC's `sha256("<AlertUID>:<revision>")`) is that revision's.
/// - span id = `sha256("<objectUID>:<revision>")[0..<8]`; the id NC sent is kept as `fluxtel.flux.original_span_id`
///   (hex).
/// - parent = the object's source at that revision (`FluxCorrelationState.parent`): a Kustomization's span is a
///   child of its GitRepository's span at the same commit, in the same trace.
/// - Several events about one object at one revision (a Kustomization's change set, then its health check)
///   would get one id: the first span seen takes it, later ones keep NC's id and become its children. The
///   same holds when a synthesised parent's real span arrives afterwards.
/// - A parent not seen in that trace is synthesised once per trace: named as NC names spans
///   (`<Kind>: <namespace>/<name>`), NC's `object.*` and `revision` attributes, `fluxtel.flux.synthesized = true`,
///   start and end at its child's start.
/// - When the object's reconcile duration at that revision is known (its "Reconciliation finished in …"
///   log line), start = end − duration.
/// - It gets `flux.object.kind/name/namespace/uid` and `flux.revision`, the keys of the object's logs and
///   metrics (NC's `object.*` stay).
///
/// A value: the ids it has seen and synthesised per trace are bounded (`memory` each, oldest forgotten).
public struct FluxSpanTree: Sendable {
    public static let originalSpanIDKey = "fluxtel.flux.original_span_id"
    public static let synthesizedKey = "fluxtel.flux.synthesized"

    private var seen = BoundedSet()
    private var synthesized = BoundedSet()

    public init(memory: Int = 4096) {
        seen = BoundedSet(capacity: memory)
        synthesized = BoundedSet(capacity: memory)
    }

    /// The request with Flux's parentless spans placed in the tree; nil when it has none (keep the bytes).
    public mutating func rewrite(
        _ body: [UInt8], state: FluxCorrelationState, duration: (String, String) -> UInt64? = { _, _ in nil }
    ) throws -> [UInt8]? {
        var request = try OTLP.ExportTraceServiceRequest(decoding: body)
        var changed = false
        for r in request.resourceSpans.indices {
            for s in request.resourceSpans[r].scopeSpans.indices {
                var added: [OTLP.Span] = []
                for i in request.resourceSpans[r].scopeSpans[s].spans.indices {
                    var span = request.resourceSpans[r].scopeSpans[s].spans[i]
                    guard span.parentSpanID.isEmpty, let uid = Self.string(span, "object.uid"),
                        Self.string(span, "object.kind") != nil
                    else { continue }
                    changed = true
                    added += place(&span, uid: uid, state: state, duration: duration)
                    request.resourceSpans[r].scopeSpans[s].spans[i] = span
                }
                request.resourceSpans[r].scopeSpans[s].spans += added
            }
        }
        return changed ? request.serializedBytes() : nil
    }

    /// Whether the request has a span that waits for its reconcile duration (`processors.hold`): a Flux span
    /// without a parent, of an object the store knows, of a kind whose durations were read
    /// (`FluxCorrelationState.durationKinds`), the first of its object at its revision in its trace (the one
    /// `rewrite` gives the duration), whose duration at that revision is not known yet.
    public func awaitsDuration(
        _ body: [UInt8], state: FluxCorrelationState, duration: (String, String) -> UInt64?
    ) -> Bool {
        guard !state.durationKinds.isEmpty, let spans = try? FluxSpanKey.parentless(in: body) else { return false }
        return spans.contains { span in
            guard let object = state.objects[span.uid], state.durationKinds.contains(object.ref.kind) else {
                return false
            }
            let own = span.traceID + FluxCorrelationState.spanID(uid: span.uid, revision: span.revision)
            return !seen.contains(own) && !synthesized.contains(own) && duration(span.uid, span.revision) == nil
        }
    }

    /// False when `body` cannot hold a Flux span (it names no `object.uid`): a byte scan, no decoding.
    public static func mayHaveFluxSpans(_ body: [UInt8]) -> Bool {
        let key: [UInt8] = Array("object.uid".utf8)
        return body.withUnsafeBufferPointer { bytes in
            guard bytes.count >= key.count else { return false }
            var i = 0
            let last = bytes.count - key.count
            while i <= last {
                if bytes[i] == key[0], bytes[i + 1] == key[1] {
                    var j = 2
                    while j < key.count, bytes[i + j] == key[j] { j += 1 }
                    if j == key.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// NC v1.9.3's revision of a span (`getRevision`).
    public static func revision(of span: OTLP.Span) -> String {
        revision(
            appVersion: string(span, "app-version"), ociDigest: string(span, "oci-digest"),
            revision: string(span, "revision"))
    }

    /// `<app-version>@<oci-digest>` when both exist, else `revision`, else `unknown`.
    static func revision(appVersion: String?, ociDigest: String?, revision: String?) -> String {
        if let appVersion, let ociDigest { return "\(appVersion)@\(ociDigest)" }
        return revision ?? "unknown"
    }

    /// Sets the span's id, parent and start; returns the parent to synthesise, if any.
    private mutating func place(
        _ span: inout OTLP.Span, uid: String, state: FluxCorrelationState, duration: (String, String) -> UInt64?
    ) -> [OTLP.Span] {
        let revision = Self.revision(of: span)
        Self.addIdentity(&span, uid: uid, revision: revision)
        let id = FluxCorrelationState.spanID(uid: uid, revision: revision)
        let own = span.traceID + id
        if seen.contains(own) || synthesized.contains(own) {
            // A further event about the object at this revision (or the real span of a synthesised parent):
            // it keeps its id and becomes a child of the object's span, so no id is used twice.
            span.parentSpanID = id
            return []
        }
        if span.spanID != id {
            span.attributes.append(.init(Self.originalSpanIDKey, Self.hex(span.spanID)))
            span.spanID = id
        }
        seen.insert(own)
        if let nanos = duration(uid, revision), nanos > 0, span.endTimeUnixNano > nanos {
            span.startTimeUnixNano = span.endTimeUnixNano - nanos
        }
        guard let parent = state.parent(ofUID: uid, traceRevision: revision) else { return [] }
        span.parentSpanID = parent.spanID
        let key = span.traceID + parent.spanID
        guard !seen.contains(key), !synthesized.contains(key) else { return [] }
        synthesized.insert(key)
        let ref = parent.object.ref
        var synthetic = OTLP.Span(traceID: span.traceID)
        synthetic.spanID = parent.spanID
        synthetic.flags = span.flags
        synthetic.name = "\(ref.kind): \(ref.namespace)/\(ref.name)"
        synthetic.kind = span.kind
        synthetic.startTimeUnixNano = span.startTimeUnixNano
        synthetic.endTimeUnixNano = span.startTimeUnixNano
        synthetic.attributes = [
            .init("object.uid", parent.object.uid), .init("object.kind", ref.kind), .init("object.name", ref.name),
            .init("object.namespace", ref.namespace), .init("revision", revision),
            .init(key: Self.synthesizedKey, value: .bool(true)),
        ]
        Self.addIdentity(&synthetic, uid: parent.object.uid, revision: revision)
        return [synthetic]
    }

    /// The identity every signal about a Flux object carries (`flux.object.*`, `flux.revision`, as on its
    /// log records, Events and metrics), from NC's `object.*` attributes, which stay.
    static func addIdentity(_ span: inout OTLP.Span, uid: String, revision: String) {
        for (key, from) in [
            ("flux.object.kind", "object.kind"), ("flux.object.name", "object.name"),
            ("flux.object.namespace", "object.namespace"),
        ] {
            if let value = string(span, from), string(span, key) == nil { span.attributes.append(.init(key, value)) }
        }
        if string(span, "flux.object.uid") == nil { span.attributes.append(.init("flux.object.uid", uid)) }
        if string(span, "flux.revision") == nil { span.attributes.append(.init("flux.revision", revision)) }
    }

    static func string(_ span: OTLP.Span, _ key: String) -> String? {
        for attribute in span.attributes where attribute.key == key {
            if case .string(let value) = attribute.value { return value }
        }
        return nil
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
