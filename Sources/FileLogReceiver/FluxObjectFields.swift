import OTLPWire

#if canImport(Glibc)
import Glibc
#endif

/// Which Flux object a controller's JSON line is about, whatever key Flux used, gathered while
/// `LogRecordEncoder` walks the line's top-level members (byte ranges into the line: nothing is
/// allocated), then written as `flux.object.kind`, `flux.object.name`, `flux.object.namespace`,
/// `flux.object.uid` and `flux.revision` next to the original keys. Strongest first:
///
/// - `eventInvolvedObject` / `object` as an object reference (`kind`, `namespace`, `name`, `uid`; NC's
///   event server, the legacy event logger);
/// - the reconciler's `<Kind>: {"name", "namespace"}` member (controller-runtime's klog reference; the
///   old lowercase `gitRepository` counts when it names the `controllerKind`);
/// - `object: "<Kind>/<namespace>/<name>"` (NC's otel lines), or `"<namespace>/<name>"` with `kind`;
/// - `controllerKind`, `reconciler kind` or `kind` with the top-level `name` and `namespace`.
///
/// `flux.revision` is the line's `revision`, else an event annotation `<group>/revision`. A line names
/// an object only with both a kind and a name. Values with JSON escapes are not used (Kubernetes names
/// and Flux revisions have none).
/// Answers the trace id of a Flux log line from the object it names: `kind`, `namespace`, `name`, the
/// `revision` the line names (nil: none) and its `msg` (nil: none or escaped), as raw UTF-8 from the line.
/// nil leaves the line without one. The agent passes `FluxCorrelation.line` (issue 18) when the Flux object
/// source runs; it also learns reconcile durations from the message.
public typealias FluxTraceLookup =
    @Sendable (
        _ kind: UnsafeRawBufferPointer, _ namespace: UnsafeRawBufferPointer, _ name: UnsafeRawBufferPointer,
        _ revision: UnsafeRawBufferPointer?, _ message: UnsafeRawBufferPointer?
    ) -> [UInt8]?

struct FluxObjectFields {
    /// A string's bytes in the line (`count` 0: absent).
    struct Text {
        var start = 0
        var count = 0
        var isEmpty: Bool { count == 0 }
    }

    private(set) var kind = Text()
    private(set) var name = Text()
    private(set) var namespace = Text()
    private(set) var uid = Text()
    private(set) var revision = Text()
    /// `msg` and `output`, for the derived counters (`FluxLogCounters`).
    private(set) var message = Text()
    private(set) var output = Text()
    /// How strongly `kind`/`name`/`namespace` were named: 3 reference object, 2 reconciler key,
    /// 1 `object` string, 0 kind key plus top-level name/namespace.
    private var strength = -1
    private var controllerKind = Text()
    private var looseKind = Text()
    private var topName = Text()
    private var topNamespace = Text()
    private var objectText = Text()

    mutating func reset() { self = FluxObjectFields() }

    /// One top-level member: `key` and its raw JSON value `[valueStart, valueEnd)` in the line `p`.
    mutating func observe(key: JSONScanner.RawString, valueStart: Int, valueEnd: Int, _ p: UnsafePointer<UInt8>) {
        guard !key.escaped, valueEnd > valueStart else { return }
        let k = p + key.start
        let first = k[0]
        switch key.count {
        case 3 where Self.matches(k, "msg"): message = Self.string(valueStart, valueEnd, p)
        case 4 where Self.matches(k, "name"): topName = Self.string(valueStart, valueEnd, p)
        case 4 where Self.matches(k, "kind"): if looseKind.isEmpty { looseKind = Self.string(valueStart, valueEnd, p) }
        case 6 where Self.matches(k, "output"): output = Text(start: valueStart, count: valueEnd - valueStart)
        case 6 where Self.matches(k, "object"): objectMember(valueStart, valueEnd, p)
        case 8 where Self.matches(k, "revision"): revision = Self.string(valueStart, valueEnd, p)
        case 9 where Self.matches(k, "namespace"): topNamespace = Self.string(valueStart, valueEnd, p)
        case 11 where Self.matches(k, "annotations"):
            if revision.isEmpty { annotationRevision(valueStart, valueEnd, p) }
        case 14 where Self.matches(k, "controllerKind"): controllerKind = Self.string(valueStart, valueEnd, p)
        case 15 where Self.matches(k, "reconciler kind"):
            if looseKind.isEmpty { looseKind = Self.string(valueStart, valueEnd, p) }
        case 19 where Self.matches(k, "eventInvolvedObject"): reference(valueStart, valueEnd, p)
        default:
            guard p[valueStart] == UInt8(ascii: "{"), strength < 2 else { return }
            if first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") {
                reconcilerKey(Text(start: key.start, count: key.count), valueStart, valueEnd, p)
            } else if controllerKind.count == key.count, first | 0x20 == p[controllerKind.start] | 0x20,
                memcmp(k + 1, p + controllerKind.start + 1, key.count - 1) == 0
            {
                reconcilerKey(controllerKind, valueStart, valueEnd, p)
            }
        }
    }

    /// After the last member: settles the `object` string and the weakest rule (a kind key plus the
    /// top-level name/namespace).
    mutating func finish(_ p: UnsafePointer<UInt8>) {
        if strength < 1, !objectText.isEmpty { objectString(p) }
        guard strength < 0 else { return }
        let kind = controllerKind.isEmpty ? looseKind : controllerKind
        guard !kind.isEmpty, !topName.isEmpty else { return }
        (self.kind, name, namespace, strength) = (kind, topName, topNamespace, 0)
    }

    /// Whether the line names an object.
    var namesObject: Bool { !kind.isEmpty && !name.isEmpty }

    /// The trace id `lookup` gives for the object the line names (issue 18); nil when it names no object
    /// with a namespace, or the lookup knows no trace for it.
    func traceID(_ p: UnsafePointer<UInt8>, lookup: FluxTraceLookup) -> [UInt8]? {
        guard namesObject, !namespace.isEmpty else { return nil }
        func bytes(_ text: Text) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: p + text.start, count: text.count)
        }
        return lookup(
            bytes(kind), bytes(namespace), bytes(name), revision.isEmpty ? nil : bytes(revision),
            message.isEmpty ? nil : bytes(message))
    }

    /// Writes the attributes (field `field` of the record) for what was found.
    func write(field: UInt32, into w: inout ProtoWriter, _ p: UnsafePointer<UInt8>) {
        if namesObject {
            Self.writeAttribute(field, "flux.object.kind", kind, p, into: &w)
            Self.writeAttribute(field, "flux.object.name", name, p, into: &w)
            if !namespace.isEmpty { Self.writeAttribute(field, "flux.object.namespace", namespace, p, into: &w) }
            if !uid.isEmpty { Self.writeAttribute(field, "flux.object.uid", uid, p, into: &w) }
        }
        if !revision.isEmpty { Self.writeAttribute(field, "flux.revision", revision, p, into: &w) }
    }

    /// Whether a top-level member could repeat the identity (`isRepeated` then decides, after `finish`):
    /// the keys the rules read the kind, name, namespace and revision from, and objects (`<Kind>: {…}`).
    static func mayRepeat(key: JSONScanner.RawString, valueStart: Int, _ p: UnsafePointer<UInt8>) -> Bool {
        guard !key.escaped else { return false }
        switch key.count {
        case 4, 8, 9, 14, 15: return true
        default: return p[valueStart] == UInt8(ascii: "{")
        }
    }

    /// After `finish`: whether the top-level member `key` (value `[valueStart, valueEnd)`) says nothing the
    /// `flux.*` attributes do not: `controllerKind`, `kind` or `reconciler kind` equal to `flux.object.kind`,
    /// `name` and `namespace` equal to theirs, `revision` equal to `flux.revision`, and the reconciler's
    /// `<Kind>: {"name", "namespace"}` with no other member. Byte-for-byte: anything else is kept.
    func isRepeated(key: JSONScanner.RawString, valueStart: Int, valueEnd: Int, _ p: UnsafePointer<UInt8>) -> Bool {
        guard !key.escaped, valueEnd > valueStart else { return false }
        let k = p + key.start
        let value = Self.string(valueStart, valueEnd, p)
        switch key.count {
        case 8 where Self.matches(k, "revision"): return Self.same(value, revision, p)
        case 4 where Self.matches(k, "name"): return namesObject && Self.same(value, name, p)
        case 9 where Self.matches(k, "namespace"): return namesObject && Self.same(value, namespace, p)
        case 4 where Self.matches(k, "kind"), 14 where Self.matches(k, "controllerKind"),
            15 where Self.matches(k, "reconciler kind"):
            return namesObject && Self.same(value, kind, p)
        default:
            guard namesObject, p[valueStart] == UInt8(ascii: "{"), key.count == kind.count,
                k[0] | 0x20 == p[kind.start] | 0x20, memcmp(k + 1, p + kind.start + 1, key.count - 1) == 0
            else { return false }
            return isReference(valueStart, valueEnd, p)
        }
    }

    /// `{"name": <name>, "namespace": <namespace>}` (namespace optional, any order) and nothing else.
    private func isReference(_ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>) -> Bool {
        var s = JSONScanner(p, count: end)
        s.i = start
        guard s.consume(UInt8(ascii: "{")), !s.consume(UInt8(ascii: "}")) else { return false }
        var sawName = false
        repeat {
            guard let key = s.scanString(), !key.escaped, s.consume(UInt8(ascii: ":")) else { return false }
            s.skipWhitespace()
            let valueStart = s.i
            guard s.skipValue() else { return false }
            let value = Self.string(valueStart, s.i, p)
            if key.count == 4, Self.matches(p + key.start, "name") {
                guard Self.same(value, name, p) else { return false }
                sawName = true
            } else if key.count == 9, Self.matches(p + key.start, "namespace") {
                guard Self.same(value, namespace, p) else { return false }
            } else {
                return false
            }
        } while s.consume(UInt8(ascii: ","))
        return sawName && s.consume(UInt8(ascii: "}"))
    }

    /// Two non-empty byte ranges of the line with the same bytes.
    private static func same(_ a: Text, _ b: Text, _ p: UnsafePointer<UInt8>) -> Bool {
        !a.isEmpty && a.count == b.count && memcmp(p + a.start, p + b.start, a.count) == 0
    }

    // MARK: rules

    /// `{"kind","namespace","name","uid",…}`.
    private mutating func reference(_ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>) {
        guard strength < 3 else { return }
        var found = (kind: Text(), name: Text(), namespace: Text(), uid: Text())
        Self.members(start, end, p) { key, value in
            switch key.count {
            case 3 where Self.matches(p + key.start, "uid"): found.uid = value
            case 4 where Self.matches(p + key.start, "kind"): found.kind = value
            case 4 where Self.matches(p + key.start, "name"): found.name = value
            case 9 where Self.matches(p + key.start, "namespace"): found.namespace = value
            default: break
            }
        }
        guard !found.kind.isEmpty, !found.name.isEmpty else { return }
        (kind, name, namespace, uid, strength) = (found.kind, found.name, found.namespace, found.uid, 3)
    }

    /// `"<Kind>": {"name","namespace"}`.
    private mutating func reconcilerKey(_ kind: Text, _ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>) {
        var found = (name: Text(), namespace: Text())
        Self.members(start, end, p) { key, value in
            if key.count == 4, Self.matches(p + key.start, "name") { found.name = value }
            if key.count == 9, Self.matches(p + key.start, "namespace") { found.namespace = value }
        }
        guard !found.name.isEmpty else { return }
        (self.kind, name, namespace, strength) = (kind, found.name, found.namespace, 2)
    }

    /// `object`: a reference object, or a string settled in `finish()` (`kind` may come after it).
    private mutating func objectMember(_ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>) {
        if p[start] == UInt8(ascii: "{") { return reference(start, end, p) }
        objectText = Self.string(start, end, p)
    }

    /// `"<Kind>/<namespace>/<name>"`, or `"<namespace>/<name>"` with a kind key.
    private mutating func objectString(_ p: UnsafePointer<UInt8>) {
        let text = objectText
        let stop = text.start + text.count
        var slashes = (first: -1, second: -1)
        for i in text.start..<stop where p[i] == UInt8(ascii: "/") {
            if slashes.first < 0 {
                slashes.first = i
            } else if slashes.second < 0 {
                slashes.second = i
            } else {
                return
            }
        }
        if slashes.second >= 0 {
            kind = Text(start: text.start, count: slashes.first - text.start)
            namespace = Text(start: slashes.first + 1, count: slashes.second - slashes.first - 1)
            name = Text(start: slashes.second + 1, count: stop - slashes.second - 1)
        } else if slashes.first >= 0, !looseKind.isEmpty {
            kind = looseKind
            namespace = Text(start: text.start, count: slashes.first - text.start)
            name = Text(start: slashes.first + 1, count: stop - slashes.first - 1)
        } else {
            return
        }
        strength = 1
    }

    /// An Event's annotations: the value of a `<group>/revision` key.
    private mutating func annotationRevision(_ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>) {
        guard p[start] == UInt8(ascii: "{") else { return }
        var found = Text()
        Self.members(start, end, p) { key, value in
            if found.isEmpty, key.count > 9, Self.matches(p + key.start + key.count - 9, "/revision") { found = value }
        }
        revision = found
    }

    // MARK: bytes

    /// The string members of the object `[start, end)`; other values are skipped.
    private static func members(
        _ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>, _ body: (Text, Text) -> Void
    ) {
        var s = JSONScanner(p, count: end)
        s.i = start
        guard s.consume(UInt8(ascii: "{")), !s.consume(UInt8(ascii: "}")) else { return }
        repeat {
            guard let key = s.scanString(), s.consume(UInt8(ascii: ":")) else { return }
            s.skipWhitespace()
            let valueStart = s.i
            guard s.skipValue() else { return }
            let value = string(valueStart, s.i, p)
            if !key.escaped, !value.isEmpty { body(Text(start: key.start, count: key.count), value) }
        } while s.consume(UInt8(ascii: ","))
    }

    /// The bytes of an unescaped, non-empty JSON string value `"…"`; else empty.
    private static func string(_ start: Int, _ end: Int, _ p: UnsafePointer<UInt8>) -> Text {
        guard end - start > 2, p[start] == UInt8(ascii: "\""), p[end - 1] == UInt8(ascii: "\"") else { return Text() }
        for i in start + 1..<end - 1 where p[i] == UInt8(ascii: "\\") { return Text() }
        return Text(start: start + 1, count: end - start - 2)
    }

    @inline(__always)
    static func matches(_ p: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        memcmp(p, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    private static func writeAttribute(
        _ field: UInt32, _ key: StaticString, _ value: Text, _ p: UnsafePointer<UInt8>, into w: inout ProtoWriter
    ) {
        let kv = w.beginMessage(field)
        w.writeTag(1, .lengthDelimited)
        w.writeVarint(UInt64(key.utf8CodeUnitCount))
        w.writeRawBytes(UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        let any = w.beginMessage(2)
        withValidUTF8(p + value.start, value.count) { bytes in
            w.writeTag(1, .lengthDelimited)
            w.writeVarint(UInt64(bytes.count))
            w.writeRawBytes(bytes)
        }
        w.endMessage(any)
        w.endMessage(kv)
    }
}
