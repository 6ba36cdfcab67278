// Flux-shaped records built from the fixtures in benchmarks/fixtures (copies of the project's
// shared fixtures: real Flux controller log lines and notification-controller spans).
import OTLPWire

#if canImport(Glibc)
import Glibc
#endif

/// A log record as the file tailer has it after parsing one Flux JSON line: the fields the
/// direct-writer path encodes without building model values.
struct FlatLog {
    var timeUnixNano: UInt64
    var observedTimeUnixNano: UInt64
    var severityNumber: Int32
    var severityText: String
    var body: String
    var attributes: [(String, JSON)]
}

/// A span as notification-controller sends it, with its fields in the shape the writer path uses.
struct FlatSpan {
    var traceID: [UInt8]
    var spanID: [UInt8]
    var flags: UInt32
    var name: String
    var kind: Int32
    var start: UInt64
    var end: UInt64
    var attributes: [(String, String)]
    var statusCode: Int32
    var statusMessage: String
}

func readFile(_ path: String) -> String {
    guard let f = fopen(path, "r") else { fatalError("cannot open \(path)") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: buf[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// "2026-08-12T09:00:01.102Z" -> Unix nanoseconds (UTC, millisecond precision as Flux writes it).
func parseTimestamp(_ s: String) -> UInt64 {
    let u = Array(s.utf8)
    func num(_ a: Int, _ b: Int) -> Int64 { Int64(String(decoding: u[a..<b], as: UTF8.self))! }
    let y = num(0, 4), m = num(5, 7), d = num(8, 10), hh = num(11, 13), mm = num(14, 16), ss = num(17, 19)
    var frac: Int64 = 0
    var digits = 0
    var i = 20
    while i < u.count, u[i] >= 0x30, u[i] <= 0x39 {
        frac = frac * 10 + Int64(u[i] - 0x30)
        digits += 1
        i += 1
    }
    while digits < 9 { frac *= 10; digits += 1 }
    // days_from_civil (Howard Hinnant)
    let yy = m <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let mp = (m + 9) % 12
    let doy = (153 * mp + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    let secs = days * 86400 + hh * 3600 + mm * 60 + ss
    return UInt64(secs) * 1_000_000_000 + UInt64(frac)
}

func severity(_ level: String) -> Int32 {
    switch level {
    case "debug": 5
    case "info": 9
    case "warn", "warning": 13
    case "error": 17
    case "dpanic", "panic", "fatal": 21
    default: 0
    }
}

func loadLogs(_ path: String) -> [FlatLog] {
    var out: [FlatLog] = []
    for line in readFile(path).split(separator: "\n") where !line.isEmpty {
        guard case .object(let members) = JSON.parse(String(line)) else { continue }
        var rec = FlatLog(timeUnixNano: 0, observedTimeUnixNano: 0, severityNumber: 0, severityText: "", body: "", attributes: [])
        for (k, v) in members {
            switch (k, v) {
            case ("level", .string(let s)):
                rec.severityText = s
                rec.severityNumber = severity(s)
            case ("ts", .string(let s)):
                rec.timeUnixNano = parseTimestamp(s)
                rec.observedTimeUnixNano = rec.timeUnixNano + 1_234_567
            case ("msg", .string(let s)): rec.body = s
            default: rec.attributes.append((k, v))
            }
        }
        out.append(rec)
    }
    return out
}

func hexBytes(_ s: String) -> [UInt8] {
    let u = Array(s.utf8)
    var out: [UInt8] = []
    var i = 0
    while i + 1 < u.count {
        out.append(UInt8(String(decoding: u[i..<(i + 2)], as: UTF8.self), radix: 16)!)
        i += 2
    }
    return out
}

struct SpanFixture {
    var resource: [(String, String)]
    var schemaURL: String
    var scopeName: String
    var spans: [FlatSpan]
}

func loadSpans(_ path: String) -> SpanFixture {
    let root = JSON.parse(readFile(path))
    var fixture = SpanFixture(resource: [], schemaURL: "", scopeName: "", spans: [])
    for chain in root["chains"]?.array ?? [] {
        for request in chain["requests"]?.array ?? [] {
            for rs in request["exportTraceServiceRequest_as_OTLP_JSON"]?["resourceSpans"]?.array ?? [] {
                if fixture.resource.isEmpty {
                    for a in rs["resource"]?["attributes"]?.array ?? [] {
                        fixture.resource.append((a["key"]!.string!, a["value"]!["stringValue"]!.string!))
                    }
                    fixture.schemaURL = rs["schemaUrl"]?.string ?? ""
                }
                for ss in rs["scopeSpans"]?.array ?? [] {
                    fixture.scopeName = ss["scope"]?["name"]?.string ?? ""
                    for s in ss["spans"]?.array ?? [] {
                        var flags: UInt32 = 0
                        if case .int(let f) = s["flags"] { flags = UInt32(f) }
                        let kind: Int32 =
                            switch s["kind"]?.string {
                            case "SPAN_KIND_INTERNAL": 1
                            case "SPAN_KIND_SERVER": 2
                            case "SPAN_KIND_CLIENT": 3
                            case "SPAN_KIND_PRODUCER": 4
                            case "SPAN_KIND_CONSUMER": 5
                            default: 0
                            }
                        let code: Int32 =
                            switch s["status"]?["code"]?.string {
                            case "STATUS_CODE_OK": 1
                            case "STATUS_CODE_ERROR": 2
                            default: 0
                            }
                        fixture.spans.append(
                            FlatSpan(
                                traceID: hexBytes(s["traceId"]!.string!), spanID: hexBytes(s["spanId"]!.string!),
                                flags: flags, name: s["name"]!.string!, kind: kind,
                                start: UInt64(s["startTimeUnixNano"]!.string!)!,
                                end: UInt64(s["endTimeUnixNano"]!.string!)!,
                                attributes: (s["attributes"]?.array ?? []).map {
                                    ($0["key"]!.string!, $0["value"]!["stringValue"]!.string!)
                                },
                                statusCode: code, statusMessage: s["status"]?["message"]?.string ?? ""))
                    }
                }
            }
        }
    }
    precondition(!fixture.spans.isEmpty, "no spans in \(path)")
    return fixture
}

// MARK: the resource a file tailer attaches to Flux controller logs

let logResource: [(String, String)] = [
    ("k8s.namespace.name", "flux-system"),
    ("k8s.pod.name", "kustomize-controller-7cd8f9c5b6-q2x4m"),
    ("k8s.container.name", "manager"),
    ("service.name", "kustomize-controller"),
]
let logScopeName = "fluxtel/filelog"

// MARK: model values

func anyValue(_ j: JSON) -> OTLP.AnyValue {
    switch j {
    case .null: .empty
    case .bool(let b): .bool(b)
    case .int(let i): .int(i)
    case .double(let d): .double(d)
    case .string(let s): .string(s)
    case .array(let a): .array(a.map(anyValue))
    case .object(let m): .kvlist(m.map { OTLP.KeyValue(key: $0.0, value: anyValue($0.1)) })
    }
}

func modelLog(_ r: FlatLog) -> OTLP.LogRecord {
    OTLP.LogRecord(
        timeUnixNano: r.timeUnixNano, observedTimeUnixNano: r.observedTimeUnixNano,
        severityNumber: OTLP.SeverityNumber(rawValue: r.severityNumber), severityText: r.severityText,
        body: .string(r.body), attributes: r.attributes.map { OTLP.KeyValue(key: $0.0, value: anyValue($0.1)) })
}

func logsRequest(_ records: [OTLP.LogRecord]) -> OTLP.ExportLogsServiceRequest {
    OTLP.ExportLogsServiceRequest(resourceLogs: [
        OTLP.ResourceLogs(
            resource: OTLP.Resource(attributes: logResource.map { OTLP.KeyValue($0.0, $0.1) }),
            scopeLogs: [OTLP.ScopeLogs(scope: OTLP.InstrumentationScope(name: logScopeName), logRecords: records)])
    ])
}

func modelSpan(_ s: FlatSpan) -> OTLP.Span {
    OTLP.Span(
        traceID: s.traceID, spanID: s.spanID, flags: s.flags, name: s.name, kind: OTLP.Span.Kind(rawValue: s.kind),
        startTimeUnixNano: s.start, endTimeUnixNano: s.end,
        attributes: s.attributes.map { OTLP.KeyValue($0.0, $0.1) },
        status: OTLP.Status(message: s.statusMessage, code: OTLP.Status.Code(rawValue: s.statusCode)))
}

func spansRequest(_ fixture: SpanFixture, _ spans: [OTLP.Span]) -> OTLP.ExportTraceServiceRequest {
    OTLP.ExportTraceServiceRequest(resourceSpans: [
        OTLP.ResourceSpans(
            resource: OTLP.Resource(attributes: fixture.resource.map { OTLP.KeyValue($0.0, $0.1) }),
            scopeSpans: [OTLP.ScopeSpans(scope: OTLP.InstrumentationScope(name: fixture.scopeName), spans: spans)],
            schemaURL: fixture.schemaURL)
    ])
}

// MARK: direct ProtoWriter encoding (no model values), field numbers as in OTLPWire's model

extension ProtoWriter {
    /// AnyValue body for a JSON value.
    mutating func writeAnyValueBody(_ j: JSON) {
        switch j {
        case .null: break
        case .string(let s): writeStringAlways(1, s)
        case .bool(let b):
            writeTag(2, .varint)
            writeVarint(b ? 1 : 0)
        case .int(let i):
            writeTag(3, .varint)
            writeVarint(UInt64(bitPattern: i))
        case .double(let d): doubleAlways(4, d)
        case .array(let a):
            let m = beginMessage(5)
            for v in a {
                let e = beginMessage(1)
                writeAnyValueBody(v)
                endMessage(e)
            }
            endMessage(m)
        case .object(let members):
            let m = beginMessage(6)
            for (k, v) in members { writeKeyValue(1, k, v) }
            endMessage(m)
        }
    }

    mutating func writeKeyValue(_ field: UInt32, _ key: String, _ value: JSON) {
        if case .string(let s) = value {
            stringAttribute(field, key: key, value: s)
            return
        }
        let kv = beginMessage(field)
        writeStringAlways(1, key)
        let v = beginMessage(2)
        writeAnyValueBody(value)
        endMessage(v)
        endMessage(kv)
    }

    /// ExportLogsServiceRequest{ResourceLogs{Resource, ScopeLogs{scope, records}}}.
    mutating func writeLogsRequest(_ records: ArraySlice<FlatLog>) {
        let rl = beginMessage(1)
        let res = beginMessage(1)
        for (k, v) in logResource { stringAttribute(1, key: k, value: v) }
        endMessage(res)
        let sl = beginMessage(2)
        let scope = beginMessage(1)
        writeStringAlways(1, logScopeName)
        endMessage(scope)
        for r in records {
            let m = beginMessage(2)
            fixed64(1, r.timeUnixNano)
            int32(2, r.severityNumber)
            string(3, r.severityText)
            let body = beginMessage(5)
            writeStringAlways(1, r.body)
            endMessage(body)
            for (k, v) in r.attributes { writeKeyValue(6, k, v) }
            fixed64(11, r.observedTimeUnixNano)
            endMessage(m)
        }
        endMessage(sl)
        endMessage(rl)
    }

    mutating func writeSpansRequest(_ fixture: SpanFixture, _ spans: ArraySlice<FlatSpan>) {
        let rs = beginMessage(1)
        let res = beginMessage(1)
        for (k, v) in fixture.resource { stringAttribute(1, key: k, value: v) }
        endMessage(res)
        let ss = beginMessage(2)
        let scope = beginMessage(1)
        writeStringAlways(1, fixture.scopeName)
        endMessage(scope)
        for s in spans {
            let m = beginMessage(2)
            bytes(1, s.traceID)
            bytes(2, s.spanID)
            string(5, s.name)
            int32(6, s.kind)
            fixed64(7, s.start)
            fixed64(8, s.end)
            for (k, v) in s.attributes { stringAttribute(9, key: k, value: v) }
            let st = beginMessage(15)
            string(2, s.statusMessage)
            int32(3, s.statusCode)
            endMessage(st)
            fixed32(16, s.flags)
            endMessage(m)
        }
        endMessage(ss)
        string(3, fixture.schemaURL)
        endMessage(rs)
    }
}
