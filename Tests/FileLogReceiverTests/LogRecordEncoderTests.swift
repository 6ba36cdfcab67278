import OTLPWire
import Testing

@testable import FileLogReceiver

/// Encodes `contents` as one chunk of a file at `path` and decodes it with the OTLP model.
func encodeChunk(
    _ contents: [[UInt8]],
    path: String =
        "/var/log/pods/flux-system_source-controller-6d8f9c7b5-x2x9z_0d6a1b2c-1111-2222-3333-444455556666/manager/0.log",
    stream: LogStream = .stderr, time: UInt64 = 1_786_525_201_000_000_000, truncated: Bool = false,
    movesFluxFields: Bool = false
) throws -> OTLP.ResourceLogs {
    var builder = LogChunkBuilder(path: path, resolvedPath: path)
    var encoder = LogRecordEncoder()
    encoder.movesFluxFields = movesFluxFields
    builder.open(reservingCapacity: 1024)
    for content in contents {
        content.withUnsafeBytes { bytes in
            let record = DecodedRecord(
                content: bytes, stream: stream, time: time, truncated: truncated, originalSize: content.count + 1)
            builder.withWriter { w, attributes in
                encoder.append(record, fileAttributes: attributes, observedNow: 42, into: &w)
            }
        }
    }
    let finished = builder.finish()
    let chunk = try #require(finished)
    #expect(chunk.records == contents.count)
    let request = try OTLP.ExportLogsServiceRequest(decoding: chunk.bytes)
    #expect(request.resourceLogs.count == 1)
    return try #require(request.resourceLogs.first)
}

func encode(_ line: String, movesFluxFields: Bool = false) throws -> OTLP.LogRecord {
    let resource = try encodeChunk([Array(line.utf8)], movesFluxFields: movesFluxFields)
    return try #require(resource.scopeLogs.first?.logRecords.first)
}

extension OTLP.LogRecord {
    func attribute(_ key: String) -> OTLP.AnyValue? { attributes.first { $0.key == key }?.value }
}

@Suite struct LogRecordEncoderTests {
    @Test func fluxLineMapsToFields() throws {
        let record = try encode(
            #"{"level":"error","ts":"2026-08-12T09:22:31.090Z","msg":"Reconciler error","controller":"gitrepository","GitRepository":{"name":"private-config","namespace":"team-a"},"worker count":2,"secure":false,"ratio":0.5,"none":null,"list":[1,"a"],"error":"auth required"}"#
        )
        #expect(record.severityNumber == .error)
        #expect(record.severityText == "error")
        #expect(record.timeUnixNano == 1_786_526_551_090_000_000)
        #expect(record.observedTimeUnixNano == 1_786_525_201_000_000_000)
        #expect(record.body == .string("Reconciler error"))
        #expect(record.attribute("controller") == .string("gitrepository"))
        #expect(
            record.attribute("GitRepository")
                == .kvlist([.init("name", "private-config"), .init("namespace", "team-a")]))
        #expect(record.attribute("worker count") == .int(2))
        #expect(record.attribute("secure") == .bool(false))
        #expect(record.attribute("ratio") == .double(0.5))
        #expect(record.attribute("none") == .empty)
        #expect(record.attribute("list") == .array([.int(1), .string("a")]))
        #expect(record.attribute("exception.message") == .string("auth required"))
        #expect(record.attribute("error") == nil)
        #expect(record.attribute("log.iostream") == .string("stderr"))
        #expect(record.attribute("level") == nil && record.attribute("ts") == nil && record.attribute("msg") == nil)
    }

    @Test func levels() throws {
        let expected: [(String, Int32)] = [
            ("trace", 1), ("debug", 5), ("info", 9), ("warn", 13), ("error", 17),
            ("dpanic", 21), ("panic", 21), ("fatal", 21), ("INFO", 9),
        ]
        for (level, number) in expected {
            let record = try encode(#"{"level":"\#(level)","msg":"m"}"#)
            #expect(record.severityNumber.rawValue == number, "\(level)")
            #expect(record.severityText == level)
        }
    }

    @Test func duplicateKeysKeepTheFirst() throws {
        let record = try encode(
            #"{"level":"debug","msg":"OTEL Post function called","event":"NewArtifact","severity":"info","event":"Other"}"#
        )
        #expect(record.attributes.filter { $0.key == "event" }.count == 1)
        #expect(record.attribute("event") == .string("NewArtifact"))
    }

    @Test func timeFormats() throws {
        #expect(try encode(#"{"ts":"2024-05-14T16:43:42.703+0200"}"#).timeUnixNano == 1_715_697_822_703_000_000)
        #expect(try encode(#"{"ts":"2024-05-14T14:43:42.703123456Z"}"#).timeUnixNano == 1_715_697_822_703_123_456)
        #expect(try encode(#"{"ts":1715697822.5}"#).timeUnixNano == 1_715_697_822_500_000_000)
        // not a time: kept as an attribute, the line time stands in
        let odd = try encode(#"{"ts":"yesterday"}"#)
        #expect(odd.timeUnixNano == 1_786_525_201_000_000_000)
        #expect(odd.attribute("ts") == .string("yesterday"))
    }

    @Test func nonJSONLinesKeepTheirRawText() throws {
        for line in [
            "panic: runtime error: invalid memory address", "I0915 14:58:21.046324 6 request.go:601] Waited",
            #"{"level":"info","msg":"cut"#, #"{"a":1} trailing"#, "{", "[1,2]",
        ] {
            let record = try encode(line)
            #expect(record.body == .string(line))
            #expect(record.timeUnixNano == 1_786_525_201_000_000_000)
        }
    }

    @Test func plainTextSeverity() throws {
        let klog = try encode("E0915 14:58:21.046324       6 request.go:601] Waited for 1s")
        #expect(klog.severityNumber == .error && klog.severityText == "error")
        #expect(klog.body == .string("E0915 14:58:21.046324       6 request.go:601] Waited for 1s"))
        #expect(try encode("I0915 14:58:21.046324 6 x.go:1] ok").severityNumber == .info)
        #expect(try encode("panic: runtime error: index out of range").severityNumber == .fatal)
        let plain = try encode("2026/08/12 09:00:01 otel export failed")
        #expect(plain.severityNumber == .unspecified && plain.severityText.isEmpty)
    }

    @Test func invalidUTF8IsRepaired() throws {
        let bytes: [UInt8] = Array("bad ".utf8) + [0xFF, 0xC3, 0x28, 0x00] + Array(" end".utf8)
        let resource = try encodeChunk([
            bytes, Array(#"{"msg":"x\u0000\ud800 \u00e9 \ud83d\ude00","k":"\#u{FF}"}"#.utf8) + [0xC0],
        ])
        let records = try #require(resource.scopeLogs.first?.logRecords)
        #expect(records[0].body == .string("bad \u{FFFD}\u{FFFD}(\u{0} end"))
        // the trailing 0xC0 makes the second line invalid JSON: raw, repaired
        #expect(records[1].body?.stringValue?.hasSuffix("\u{FFFD}") == true)
        let json = try encode(#"{"msg":"x\u0000\ud800 \u00e9 \ud83d\ude00"}"#)
        #expect(json.body == .string("x\u{0}\u{FFFD} é 😀"))
    }

    @Test func deepNestingFallsBackToRaw() throws {
        let line = "{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(try encode(line).body == .string(line))
    }

    @Test func truncatedRecordsAreFlagged() throws {
        let resource = try encodeChunk([Array("cut".utf8)], truncated: true)
        let record = try #require(resource.scopeLogs.first?.logRecords.first)
        #expect(record.attribute("fluxtel.log.truncated") == .bool(true))
        #expect(record.attribute("fluxtel.log.original_size") == .int(4))
    }

    @Test func resourceCarriesKubernetesAttributesOnce() throws {
        let resource = try encodeChunk([Array("a".utf8), Array("b".utf8)])
        let attributes = Dictionary(
            uniqueKeysWithValues: (resource.resource?.attributes ?? []).map { ($0.key, $0.value) })
        #expect(attributes["service.name"] == .string("source-controller"))
        #expect(attributes["k8s.deployment.name"] == .string("source-controller"))
        #expect(attributes["k8s.namespace.name"] == .string("flux-system"))
        #expect(attributes["k8s.pod.name"] == .string("source-controller-6d8f9c7b5-x2x9z"))
        #expect(attributes["k8s.pod.uid"] == .string("0d6a1b2c-1111-2222-3333-444455556666"))
        #expect(attributes["k8s.container.name"] == .string("manager"))
        #expect(attributes["k8s.container.restart_count"] == .int(0))
        #expect(attributes["log.file.path"]??.stringValue?.hasSuffix("/manager/0.log") == true)
        #expect(resource.scopeLogs.first?.scope?.name == "fluxtel/filelog")
        #expect(resource.scopeLogs.first?.logRecords.count == 2)
    }

    @Test func workloadNames() {
        func name(_ pod: String) -> String? {
            KubernetesPath(path: "/var/log/pods/ns_\(pod)_uid/c/1.log")?.workload.name
        }
        #expect(name("helm-controller-5f7457c9dd-9xvxq") == "helm-controller")
        #expect(name("notification-controller-74f6c8c9c4-lbd6h") == "notification-controller")
        #expect(name("web-0") == "web")
        #expect(name("fluent-bit-x7kq2") == "fluent-bit")
        #expect(name("standalone") == "standalone")
        #expect(KubernetesPath(path: "/tmp/app.log") == nil)
    }
}

extension OTLP.AnyValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
}
