import Agent
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// `processors.max_age` through the agent: old items are dropped at intake and counted, the rest of
/// their request arrives, and a request of old items only is still answered 200.
@Suite(.serialized) struct MaxAgeTests {
    static let protobuf = [("Content-Type", "application/x-protobuf")]

    static func request(_ spans: [(String, UInt64)]) -> [UInt8] {
        OTLP.ExportTraceServiceRequest(resourceSpans: [
            OTLP.ResourceSpans(
                scopeSpans: [
                    OTLP.ScopeSpans(
                        spans: spans.map { OTLP.Span(name: $0.0, startTimeUnixNano: $0.1, endTimeUnixNano: $0.1) })
                ])
        ]).serializedBytes()
    }

    @Test func oldSpansAreDroppedAndCountedTheRestArrives() async throws {
        let sink = try await HTTPSink.start()
        var configuration = testConfiguration(sinkPort: sink.port, batchTimeout: .milliseconds(20))
        configuration.processors.maxAge = .seconds(3600)
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        let old = now - 2 * 3600 * 1_000_000_000
        try await withAgent(configuration) { agent, port in
            let mixed = await httpRequest(
                port: port, method: "POST", path: "/v1/traces", headers: Self.protobuf,
                body: Self.request([("old", old), ("new", now), ("unknown", 0)]))
            #expect(mixed?.status == 200)
            let allOld = await httpRequest(
                port: port, method: "POST", path: "/v1/traces", headers: Self.protobuf,
                body: Self.request([("old-1", old), ("old-2", old)]))
            #expect(allOld?.status == 200)
            let rendered = String(decoding: agent.metrics.render(), as: UTF8.self)
            #expect(
                rendered.contains(#"fluxtel_items_discarded_total{signal="traces",reason="too_old"} 3"#), "\(rendered)")
            #expect(await eventually { !sink.requests.isEmpty })
        }
        let arrived = sink.requests.flatMap {
            (try? OTLP.ExportTraceServiceRequest(decoding: $0.body ?? []).resourceSpans) ?? []
        }.flatMap(\.scopeSpans).flatMap(\.spans).map(\.name)
        #expect(arrived.sorted() == ["new", "unknown"])
        try await sink.shutdown()
    }
}
