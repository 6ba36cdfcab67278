import Agent
import Compression
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// The OTLP/HTTP receiver end to end, in process: receiver → pipeline → otlp_http exporter → a sink.
@Suite(.serialized) struct OTLPReceiverTests {
    static let protobuf = [("Content-Type", "application/x-protobuf")]

    /// notification-controller's exact traffic (FLUX.md §1): one uncompressed protobuf span per POST,
    /// on `/v1/traces` and on `/`, without auth, with a Bearer header, with a Basic header. The sink
    /// must receive every request's `ResourceSpans` byte for byte.
    @Test func fluxProviderTrafficArrivesByteIdentical() async throws {
        let requestsFile = temporaryPath("flux.bin")
        let made = try await runInterop(
            "flux_requests.py",
            [
                packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/otel-spans.json").path,
                requestsFile,
            ])
        try #require(made.status == 0, "\(made.output)")
        let requests = try readRecords(requestsFile)
        #expect(requests.count == 9)

        for auth in ["none", "bearer", "basic"] {
            let sink = try await HTTPSink.start()
            var configuration = testConfiguration(sinkPort: sink.port)
            var headers = Self.protobuf
            if auth != "none" {
                configuration.receivers.otlp?.bearerToken = "flux-token"
                configuration.receivers.otlp?.basicUsername = "flux"
                configuration.receivers.otlp?.basicPassword = "p4ss:word"
                headers.append(("Authorization", auth == "bearer" ? "Bearer flux-token" : "Basic Zmx1eDpwNHNzOndvcmQ="))
            }
            var sent: [UInt8] = []
            try await withAgent(configuration) { _, port in
                if auth != "none" {
                    let unauthorised = await httpRequest(
                        port: port, method: "POST", path: "/v1/traces", headers: Self.protobuf, body: requests[0])
                    #expect(unauthorised?.status == 401)
                    let wrong = await httpRequest(
                        port: port, method: "POST", path: "/v1/traces",
                        headers: Self.protobuf + [("Authorization", "Bearer nope")], body: requests[0])
                    #expect(wrong?.status == 401)
                }
                for path in ["/v1/traces", "/"] {
                    for request in requests {
                        let response = await httpRequest(
                            port: port, method: "POST", path: path, headers: headers, body: request)
                        #expect(response?.status == 200, "\(auth) \(path)")
                        sent += request
                    }
                }
            }
            let received = sink.requests.flatMap { $0.body ?? [] }
            #expect(received == sent, "auth=\(auth): forwarded bytes differ from what notification-controller sent")
            let decoded = try OTLP.ExportTraceServiceRequest(decoding: received)
            let spans = decoded.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
            #expect(spans.count == 18)
            #expect(spans.allSatisfy { $0.flags == 0x301 && $0.kind == .internal && $0.parentSpanID.isEmpty })
            #expect(decoded.resourceSpans.allSatisfy { $0.schemaURL == "https://opentelemetry.io/schemas/1.34.0" })
            #expect(
                decoded.resourceSpans.allSatisfy { $0.scopeSpans.first?.scope?.name == "flux:notification-controller" })
            try await sink.shutdown()
        }
    }

    /// The OpenTelemetry Python SDK's OTLP/HTTP exporter (pinned) sends 10,000 spans with events,
    /// links and every attribute type, with and without gzip; all arrive identical.
    @Test(arguments: ["gzip", "none"]) func pythonSDKExporterInterop(compression: String) async throws {
        let sink = try await HTTPSink.start()
        let sentFile = temporaryPath("sent.bin")
        try await withAgent(testConfiguration(sinkPort: sink.port, batchTimeout: .milliseconds(200))) { _, port in
            let result = try await runInterop(
                "sdk_send_spans.py", ["http://127.0.0.1:\(port)/v1/traces", "10000", compression, sentFile])
            #expect(result.status == 0, "\(result.output)")
        }
        try await expectAllSpansArrived(10000, sent: sentFile, at: sink)
        try await sink.shutdown()
    }

    /// The same spans as OTLP/JSON (the official JSON printer, hex ids) arrive identical too.
    @Test func otlpJSONRequestsArriveIdentical() async throws {
        let sentFile = temporaryPath("sent.bin")
        // The SDK-encoded requests, captured without a receiver: send them to a throwaway sink.
        let capture = try await HTTPSink.start()
        let made = try await runInterop(
            "sdk_send_spans.py", ["http://127.0.0.1:\(capture.port)/v1/traces", "2000", "none", sentFile])
        try #require(made.status == 0, "\(made.output)")
        try await capture.shutdown()
        let jsonFile = temporaryPath("json.bin")
        let converted = try await runInterop("to_otlp_json.py", [sentFile, jsonFile])
        try #require(converted.status == 0, "\(converted.output)")

        let sink = try await HTTPSink.start()
        try await withAgent(testConfiguration(sinkPort: sink.port)) { _, port in
            for body in try readRecords(jsonFile) {
                let response = await httpRequest(
                    port: port, method: "POST", path: "/v1/traces",
                    headers: [("Content-Type", "application/json")], body: body)
                #expect(response?.status == 200)
                #expect(response.map { String(decoding: $0.body, as: UTF8.self) } == "{}")
            }
            let bad = await httpRequest(
                port: port, method: "POST", path: "/v1/traces",
                headers: [("Content-Type", "application/json")],
                body: Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":7}]}]}]}"#.utf8))
            #expect(bad?.status == 400)
            let message = String(decoding: bad?.body ?? [], as: UTF8.self)
            #expect(message.contains("traceId"), "\(message)")
        }
        try await expectAllSpansArrived(2000, sent: sentFile, at: sink)
        try await sink.shutdown()
    }

    /// Hostile input: each gets a 4xx, and a valid request right after succeeds. The 1 GiB gzip bomb
    /// and the 20 MiB body are refused by their limits (413) rather than inflated or buffered; what the
    /// receiver holds meanwhile is measured in benchmarks/, not here (other tests share the process).
    @Test func hostileInputIsRefusedAndTheNextRequestSucceeds() async throws {
        let sink = try await HTTPSink.start()
        let valid = AgentProcessTests.fluxRequest(spans: 1).serializedBytes()
        let cases: [(name: String, headers: [(String, String)], body: [UInt8], status: ClosedRange<Int>)] = [
            ("truncated message", Self.protobuf, Array(valid.dropLast(3)), 400...400),
            ("wrong wire type", Self.protobuf, [0x08, 0x01], 400...400),
            ("varint overflow", Self.protobuf, [0x0A] + [UInt8](repeating: 0xFF, count: 11) + [0x01], 400...400),
            ("length past the end", Self.protobuf, [0x0A, 0x64, 0x01, 0x02], 400...400),
            ("nesting 10,000 deep", Self.protobuf, Hostile.deepNesting(10_000), 400...400),
            ("declared length of 2 GB", Self.protobuf, [0x0A, 0x80, 0x80, 0x80, 0x80, 0x08, 0x0A, 0x00], 400...400),
            ("empty protobuf body (a valid empty request)", Self.protobuf, [], 200...200),
            ("empty JSON body", [("Content-Type", "application/json")], [], 400...400),
            ("gzip bomb", Self.protobuf + [("Content-Encoding", "gzip")], Hostile.gzipBomb(), 413...413),
            (
                "corrupt gzip", Self.protobuf + [("Content-Encoding", "gzip")], [0x1F, 0x8B, 0x08, 0x00, 0x01, 0x02],
                400...400
            ),
            ("20 MiB body", Self.protobuf, [UInt8](repeating: 0x0A, count: 20 << 20), 413...413),
            ("unknown content type", [("Content-Type", "text/plain")], valid, 415...415),
            ("unknown content encoding", Self.protobuf + [("Content-Encoding", "br")], valid, 415...415),
            ("invalid JSON", [("Content-Type", "application/json")], Array(#"{"resourceSpans": [ {"#.utf8), 400...400),
            (
                "JSON with wrong types", [("Content-Type", "application/json")],
                Array(#"{"resourceSpans": {"scopeSpans": 7}}"#.utf8), 400...400
            ),
        ]
        try await withAgent(testConfiguration(sinkPort: sink.port, batchTimeout: .milliseconds(50))) { _, port in
            for hostile in cases {
                let response = await httpRequest(
                    port: port, method: "POST", path: "/v1/traces", headers: hostile.headers, body: hostile.body)
                #expect(
                    response.map { hostile.status.contains($0.status) } == true,
                    "\(hostile.name): \(String(describing: response?.status))")
                let next = await httpRequest(
                    port: port, method: "POST", path: "/v1/traces", headers: Self.protobuf, body: valid)
                #expect(next?.status == 200, "valid request after \(hostile.name)")
            }
            let unknownPath = await httpRequest(
                port: port, method: "POST", path: "/v1/spans", headers: Self.protobuf, body: valid)
            #expect(unknownPath?.status == 404)
            let message = String(decoding: unknownPath?.body ?? [], as: UTF8.self)
            #expect(message.contains("/v1/traces"))
        }
        // withAgent's graceful shutdown flushed every batch: each valid request arrived exactly once,
        // nothing of the hostile ones.
        let arrived = sink.requests.flatMap {
            (try? OTLP.ExportTraceServiceRequest(decoding: $0.body ?? []).resourceSpans) ?? []
        }
        #expect(arrived.count == cases.count)
        try await sink.shutdown()
    }

    /// With the sink down and the queue full, the receiver answers 429 with Retry-After; once the
    /// sink is back, everything that was accepted arrives.
    @Test func backPressureThenEverythingAcceptedArrives() async throws {
        // The sink is down (connections refused; its port stays bound) until the queue is full.
        let sink = try await HTTPSink.start()
        try await sink.stopListening()
        var configuration = testConfiguration(sinkPort: sink.port, batchTimeout: .milliseconds(20))
        configuration.processors.batch.maxBytes = 8 << 10
        configuration.processors.queue.maxBytes = 64 << 10
        var accepted: Set<String> = []
        try await withAgent(configuration) { agent, port in
            var refusedWithRetryAfter = false
            for index in 0..<2000 {
                let request = OTLP.ExportTraceServiceRequest(resourceSpans: [
                    OTLP.ResourceSpans(scopeSpans: [OTLP.ScopeSpans(spans: [AgentProcessTests.fluxSpan(index)])])
                ])
                guard
                    let response = await httpRequest(
                        port: port, method: "POST", path: "/v1/traces", headers: Self.protobuf,
                        body: request.serializedBytes())
                else { continue }
                if response.status == 200 {
                    accepted.insert("Kustomization: flux-system/apps-\(index)")
                } else if response.status == 429 {
                    refusedWithRetryAfter = true
                    break
                }
            }
            #expect(refusedWithRetryAfter, "the receiver never pushed back")
            // With the queue full, a request is refused before it is decompressed or decoded: a body
            // that is not even gzip gets the 429 too, not the 400 that decoding it would give.
            let garbage = [UInt8](repeating: 0x5A, count: 4096)
            let early = await httpRequest(
                port: port, method: "POST", path: "/v1/traces",
                headers: Self.protobuf + [("Content-Encoding", "gzip")], body: garbage)
            #expect(early?.status == 429)
            #expect(agent.pipeline.usedBytes <= 64 << 10 + 8 << 10)
            try await sink.resumeListening()
            #expect(await eventually { agent.pipeline.usedBytes == 0 })
        }
        let names = Set(
            sink.requests.filter { $0.status == 200 }.flatMap { request in
                ((try? OTLP.ExportTraceServiceRequest(decoding: request.body ?? []))?.resourceSpans ?? []).flatMap {
                    $0.scopeSpans.flatMap { $0.spans.map(\.name) }
                }
            })
        #expect(!accepted.isEmpty)
        #expect(accepted.isSubset(of: names), "lost \(accepted.subtracting(names).count) accepted spans")
        try await sink.shutdown()
    }

    /// The official classes find every one of the `count` spans in `sent` among what `sink` received.
    func expectAllSpansArrived(
        _ count: Int, sent: String, at sink: HTTPSink, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let receivedFile = temporaryPath("received.bin")
        try writeRecords(sink.requests.map { $0.body ?? [] }, to: receivedFile)
        let compared = try await runInterop("compare_spans.py", [sent, receivedFile])
        #expect(compared.status == 0, "\(compared.output)", sourceLocation: sourceLocation)
        #expect(
            compared.output.contains("sent=\(count) received=\(count) missing=0"), "\(compared.output)",
            sourceLocation: sourceLocation)
    }
}

enum Hostile {
    static func lengthDelimited(_ field: UInt8, _ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [field << 3 | 2]
        var length = UInt64(body.count)
        while length >= 0x80 {
            out.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        return out + body
    }

    /// An attribute whose value is an array of an array of ... `depth` deep.
    static func deepNesting(_ depth: Int) -> [UInt8] {
        var value: [UInt8] = lengthDelimited(1, Array("x".utf8))  // AnyValue{string_value}
        for _ in 0..<depth {
            value = lengthDelimited(5, lengthDelimited(1, value))  // AnyValue{array_value{values}}
        }
        let keyValue = lengthDelimited(1, Array("k".utf8)) + lengthDelimited(2, value)
        let resource = lengthDelimited(1, keyValue)
        return lengthDelimited(1, lengthDelimited(1, resource))
    }

    /// ~1 MB of gzip members that inflate to over 1 GiB.
    static func gzipBomb() -> [UInt8] {
        let member = Gzip.compress([UInt8](repeating: 0, count: 8 << 20), level: 9)
        var bomb: [UInt8] = []
        for _ in 0..<130 { bomb += member }
        return bomb
    }
}
