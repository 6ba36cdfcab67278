// libFuzzer target: what the agent decodes of the Kubernetes API's answers (Kubernetes, FluxObjects), on
// arbitrary bytes. Every input goes through each decoder:
//   - as a JSON response body: a list page (KubernetesListPage), an API group (ServedVersions), a Status
//     (KubernetesStatus → KubernetesError), a Lease (LeaseRecord, then the election state machine), a
//     watch event's object: a Flux object of the kind it names (FluxObject, the store, the resource-state
//     encoder) and an Event (FluxEvent and its log record); a list's items each as object and Event;
//   - as a watch body: cut into lines by WatchLineSplitter in pieces whose sizes come from the input,
//     each line decoded as a WatchEvent and driven through ListWatchStateMachine;
//   - as an HTTP response, through NIO's decoder (the one HTTPClient uses), in pieces: after a chunked
//     `200` head unless the input starts with `HTTP/` (so chunk lengths up to 2^64, `Content-Length`,
//     a truncated body), its body parts fed to the splitter as they come, the events decoded as above.
// Checks, besides "never crash": the splitter gives the same lines (or the same error) whatever the
// pieces; a line longer than the bound is an error, never buffered; an accepted event has a known type and
// an object, and only ERROR events carry an `error`; a list page keeps every item; a Flux object has a name
// and the kind it says; the store's snapshot holds each object once and, once all are deleted, ends every
// series they had; the encoded state and Event record are valid OTLP with the point and record counts
// the encoders report; a Status's error case follows its code; a Lease naming us is renewed.
// Build and run: scripts/fuzz kubernetes <seconds>.
import FluxObjects
import FluxtelConfig
import NIOCore
import NIOEmbedded
import NIOHTTP1
import OTLPJSON
import OTLPWire

@testable import Kubernetes

let rules = ResourceStateRules(CustomResourceStateMetric.flux)
let encoder = ResourceStateEncoder(rules: rules, version: "fuzz")
/// A small bound, so that inputs can reach it.
let maxLineBytes = 4096
let now: UInt64 = 1_786_525_201_102_000_000

/// The Flux kind an object names (`kind`, and the group of `apiVersion`), else one chosen by `pick`.
func kindAndVersion(of object: JSONValue, pick: Int) -> (FluxKind, String) {
    let apiVersion = object["apiVersion"]?.string ?? ""
    let group = String(FluxKind.group(ofAPIVersion: apiVersion))
    let version = apiVersion.split(separator: "/").last.map(String.init) ?? "v1"
    if let name = object["kind"]?.string, let kind = FluxKind.named(name, group: group) { return (kind, version) }
    return (FluxKind.all[pick % FluxKind.all.count], version)
}

/// One object as a Flux object and as an Event, as the receiver reads watch events and list items.
func exercise(_ object: JSONValue, pick: Int, store: inout FluxObjectStore, events: inout [OTLP.LogRecord]) {
    let (kind, version) = kindAndVersion(of: object, pick: pick)
    if let flux = FluxObject(object, kind: kind, version: version, rules: rules) {
        precondition(!flux.identity.name.isEmpty, "a Flux object without a name")
        precondition(object["kind"].map { $0.string == kind.kind } ?? true, "an object of another kind")
        for series in flux.allSeries {
            precondition(zip(series.labels, series.labels.dropFirst()).allSatisfy { $0.key < $1.key }, "labels")
        }
        _ = flux.revisionPending
        store.upsert(flux)
    }
    if let event = FluxEvent(object) {
        _ = event.revision
        events.append(event.logRecord(observedAt: now))
    }
}

/// The store's snapshot and the encoder's request over what `exercise` kept.
func checkStore(_ store: inout FluxObjectStore, events: [OTLP.LogRecord]) {
    let (objects, _) = store.snapshot()
    precondition(Set(objects.map(\.identity.uid)).count == objects.count, "an object twice in the snapshot")
    let (body, points) = encoder.encode(objects: objects, ended: [], now: now)
    do {
        let counted = points > 0 ? try OTLPWalker.countItems(signal: .metrics, body: body) : 0
        precondition(counted == points, "points")
    } catch {
        fatalError("the resource state is not valid OTLP: \(error)")
    }
    var series: Set<ResourceSeries> = []
    for object in objects {
        series.formUnion(object.allSeries)
        store.delete(uid: object.identity.uid)
    }
    let (left, ended) = store.snapshot()
    precondition(left.isEmpty && Set(ended) == series, "deleting every object does not end every series")
    guard !events.isEmpty else { return }
    let request = OTLP.ExportLogsServiceRequest(resourceLogs: [
        OTLP.ResourceLogs(scopeLogs: [OTLP.ScopeLogs(logRecords: events)])
    ])
    do {
        let counted = try OTLPWalker.countItems(signal: .logs, body: request.serializedBytes())
        precondition(counted == events.count, "records")
    } catch {
        fatalError("an Event record is not valid OTLP: \(error)")
    }
}

/// The answers a JSON body can be.
func decodeJSON(_ bytes: UnsafeBufferPointer<UInt8>) {
    let page = try? KubernetesListPage(decoding: bytes, path: "/fuzz")
    guard let value = try? JSONValue.parse(bytes) else {
        precondition(page == nil, "a list page from a body that is not JSON")
        return
    }
    if let page {
        let items: [JSONValue] = value["items"]?.array ?? []
        precondition(page.items == items, "a list page lost items")
    } else {
        precondition(value["items"]?.array == nil && value["items"] != JSONValue.null, "a list page refused")
    }
    _ = try? ServedVersions(value, group: "fuzz.toolkit.fluxcd.io")

    let status = KubernetesStatus(value, code: 500, retryAfter: nil)
    let error = KubernetesError(status)
    switch (status.code, error) {
    case (410, .gone), (409, .conflict), (404, .notFound): break
    case (let code, .failed): precondition(![404, 409, 410].contains(code), "status \(code) as failed")
    default: fatalError("status \(status.code) as \(error)")
    }
    precondition(!error.description.isEmpty)

    let lease = LeaseRecord(lease: value)
    var election = LeaseElectionStateMachine(identity: "fuzz")
    let decision = election.observe(lease, at: .now)
    if lease.holder == "fuzz" { precondition(decision == .renew, "our Lease not renewed") }

    var store = FluxObjectStore()
    var events: [OTLP.LogRecord] = []
    exercise(value, pick: bytes.count, store: &store, events: &events)
    for (index, item) in (page?.items ?? []).enumerated() {
        exercise(item, pick: index, store: &store, events: &events)
    }
    checkStore(&store, events: events)
}

/// Feeds `pieces` to a splitter; the lines it gave, whether it threw, and what is left over.
func split(_ pieces: [UnsafeRawBufferPointer]) -> (lines: [[UInt8]], failed: Bool, pending: Int) {
    var splitter = WatchLineSplitter(maxLineBytes: maxLineBytes)
    var lines: [[UInt8]] = []
    do {
        for piece in pieces {
            try splitter.feed(piece) { line in
                precondition(line.count <= maxLineBytes, "a line over the bound")
                lines.append(Array(line))
            }
        }
    } catch {
        return (lines, true, splitter.pending)
    }
    return (lines, false, splitter.pending)
}

/// The lines of a watch body as ListWatch handles them.
func decodeEvents(_ lines: [[UInt8]]) {
    var machine = ListWatchStateMachine()
    machine.listed(resourceVersion: "1")
    var store = FluxObjectStore()
    var records: [OTLP.LogRecord] = []
    for line in lines {
        guard let event = try? line.withUnsafeBufferPointer({ try WatchEvent(line: $0) }) else { continue }
        precondition(event.object.object != nil, "an event without an object")
        precondition((event.error != nil) == (event.type == .error), "error of a \(event.type) event")
        if event.statusError != nil { precondition(event.object["kind"]?.string == "Status") }
        machine.observed(resourceVersion: event.resourceVersion)
        if let error = event.error {
            _ = machine.failed(.init(error), at: .now, jitter: 0.5)
        } else if event.type != .bookmark {
            exercise(event.object, pick: line.count, store: &store, events: &records)
        }
    }
    checkStore(&store, events: records)
}

/// Cut points from the input: piece sizes 1...64 from its bytes, cycling.
func pieces(of bytes: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
    var result: [UnsafeRawBufferPointer] = []
    var start = 0
    var i = 0
    while start < bytes.count {
        let size = min(Int(bytes[i % bytes.count] & 0x3F) + 1, bytes.count - start)
        result.append(UnsafeRawBufferPointer(rebasing: bytes[start..<start + size]))
        start += size
        i += 1
    }
    return result
}

/// A watch body directly: the splitter must not depend on where the pieces end.
func decodeWatchBody(_ bytes: UnsafeRawBufferPointer) {
    let whole = split([bytes])
    let cut = split(pieces(of: bytes))
    precondition(whole.lines == cut.lines && whole.failed == cut.failed, "the lines depend on the pieces")
    if !whole.failed { precondition(whole.pending == cut.pending) }
    decodeEvents(whole.lines)
}

let chunkedHead = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

/// The bytes as an HTTP response to a watch request: its body parts through the splitter as they arrive.
func decodeHTTPResponse(_ bytes: UnsafeRawBufferPointer) {
    var response = bytes.starts(with: "HTTP/".utf8) ? [] : chunkedHead
    response.append(contentsOf: bytes)
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.writeOutbound(
            HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/apis/x?watch=true")))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
    } catch {
        fatalError("the HTTP client pipeline: \(error)")
    }
    var splitter = WatchLineSplitter(maxLineBytes: maxLineBytes)
    var lines: [[UInt8]] = []
    response.withUnsafeBytes { raw in
        for piece in pieces(of: raw) {
            do {
                try channel.writeInbound(ByteBuffer(bytes: piece))
                while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                    guard case .body(let buffer) = part else { continue }
                    try buffer.withUnsafeReadableBytes { body in
                        try splitter.feed(body) { lines.append(Array($0)) }
                    }
                }
            } catch {
                return  // what HTTPClient fails the watch with
            }
        }
    }
    decodeEvents(lines)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKubernetes(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    decodeJSON(UnsafeBufferPointer(start: data, count: size))
    if size > 0 {
        decodeWatchBody(bytes)
        decodeHTTPResponse(bytes)
    }
    return 0
}
