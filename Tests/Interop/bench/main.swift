#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

// A Flux-shaped log record (kustomize-controller reconcile line).
let rec = OTLP.LogRecord(
    timeUnixNano: 1_786_528_442_123_000_000, observedTimeUnixNano: 1_786_528_442_123_456_789,
    severityNumber: .info, severityText: "info",
    body: .string("Reconciliation finished in 1.234s, next run in 10m0s"),
    attributes: [
        OTLP.KeyValue("controller", "kustomization"),
        OTLP.KeyValue("controllerGroup", "kustomize.toolkit.fluxcd.io"),
        OTLP.KeyValue("controllerKind", "Kustomization"),
        OTLP.KeyValue("name", "podinfo"),
        OTLP.KeyValue("namespace", "flux-system"),
        OTLP.KeyValue("reconcileID", "3f1c4a2e-9b7d-4c8e-a1f2-5d6e7f8a9b0c"),
        OTLP.KeyValue("revision", "main@sha1:0b6fcb118ea64a36d7ca7d29904e4f5075be87bc"),
        OTLP.KeyValue("logger", "runtime"),
    ]
)
let n = 2_000_000
var w = ProtoWriter(reservingCapacity: 1 << 20)
var total = 0
let t0 = now()
for _ in 0..<n {
    w.message(2, rec)
    if w.count > 1 << 20 {
        total += w.count
        w.removeAll()
    }
}
let t1 = now()
total += w.count
print("model encode: \(Int(Double(n) / (t1 - t0))) records/s, \(total / n) bytes/record")

// Raw fast path (no model values).
w.removeAll()
let t2 = now()
for _ in 0..<n {
    let m = w.beginMessage(2)
    w.fixed64(1, 1_786_528_442_123_000_000)
    w.int32(2, 9)
    w.string(3, "info")
    let b = w.beginMessage(5)
    w.writeStringAlways(1, "Reconciliation finished in 1.234s, next run in 10m0s")
    w.endMessage(b)
    w.stringAttribute(6, key: "controller", value: "kustomization")
    w.stringAttribute(6, key: "controllerGroup", value: "kustomize.toolkit.fluxcd.io")
    w.stringAttribute(6, key: "controllerKind", value: "Kustomization")
    w.stringAttribute(6, key: "name", value: "podinfo")
    w.stringAttribute(6, key: "namespace", value: "flux-system")
    w.stringAttribute(6, key: "reconcileID", value: "3f1c4a2e-9b7d-4c8e-a1f2-5d6e7f8a9b0c")
    w.stringAttribute(6, key: "revision", value: "main@sha1:0b6fcb118ea64a36d7ca7d29904e4f5075be87bc")
    w.stringAttribute(6, key: "logger", value: "runtime")
    w.fixed64(11, 1_786_528_442_123_456_789)
    w.endMessage(m)
    if w.count > 1 << 20 { w.removeAll() }
}
let t3 = now()
print("raw encode: \(Int(Double(n) / (t3 - t2))) records/s")

// Walker count over a 4 MiB body.
var body: [UInt8] = []
var rl = OTLP.ResourceLogs(
    resource: OTLP.Resource(attributes: [OTLP.KeyValue("k8s.pod.name", "kustomize-controller-abc")]),
    scopeLogs: [OTLP.ScopeLogs(logRecords: Array(repeating: rec, count: 1000))])
for _ in 0..<15 { OTLPWalker.appendFramed(rl.serializedBytes(), to: &body) }
let t4 = now()
var c = 0
for _ in 0..<20 { c += try! OTLPWalker.countItems(signal: .logs, body: body) }
let t5 = now()
print("walker count: \(Int(Double(c) / (t5 - t4))) records/s, \(Int(Double(body.count * 20) / (t5 - t4) / 1e6)) MB/s")
let t6 = now()
var parts = 0
for _ in 0..<20 {
    parts += try! OTLPWalker.split(signal: .logs, body: body, maxBytes: 512 * 1024, maxItems: 8192).count
}
let t7 = now()
print("walker split: \(Int(Double(c) / (t7 - t6))) records/s (\(parts/20) parts)")
let rw = ResourceAttributeRewriter(attributes: [("k8s.cluster.name", "prod")])
let t8 = now()
var sz = 0
for _ in 0..<20 { sz += try! rw.rewrite(body).count }
let t9 = now()
print("rewrite: \(Int(Double(body.count * 20) / (t9 - t8) / 1e6)) MB/s")
let t10 = now()
for _ in 0..<5 { _ = try! OTLP.ExportLogsServiceRequest(decoding: body) }
let t11 = now()
print("model decode: \(Int(Double(c/4) / (t11 - t10))) records/s")
