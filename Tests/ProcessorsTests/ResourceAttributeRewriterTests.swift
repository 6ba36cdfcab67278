import FluxtelTestSupport
import OTLPWire
import Processors
import Testing

@Suite struct ResourceAttributeRewriterTests {
    @Test("resource rewriter: adds, replaces (configured value wins), creates a missing Resource, copies the rest")
    func rewriter() throws {
        let req = OTLP.ExportLogsServiceRequest(resourceLogs: [
            OTLP.ResourceLogs(
                resource: OTLP.Resource(
                    attributes: [OTLP.KeyValue("k8s.cluster.name", "old"), OTLP.KeyValue("service.name", "kc")],
                    droppedAttributesCount: 2),
                scopeLogs: Golden.logsRequest().resourceLogs[0].scopeLogs, schemaURL: "s"),
            OTLP.ResourceLogs(scopeLogs: [OTLP.ScopeLogs(logRecords: [OTLP.LogRecord(severityText: "x")])]),
            OTLP.ResourceLogs(resource: OTLP.Resource()),
        ])
        let rw = ResourceAttributeRewriter(attributes: [("k8s.cluster.name", "prod"), ("env", "ü")])
        let out = try OTLP.ExportLogsServiceRequest(decoding: rw.rewrite(req.serializedBytes()))
        var want = req
        want.resourceLogs[0].resource = OTLP.Resource(
            attributes: [
                OTLP.KeyValue("service.name", "kc"), OTLP.KeyValue("k8s.cluster.name", "prod"),
                OTLP.KeyValue("env", "ü"),
            ],
            droppedAttributesCount: 2)
        want.resourceLogs[1].resource = OTLP.Resource(attributes: [
            OTLP.KeyValue("k8s.cluster.name", "prod"), OTLP.KeyValue("env", "ü"),
        ])
        want.resourceLogs[2].resource = OTLP.Resource(attributes: [
            OTLP.KeyValue("k8s.cluster.name", "prod"), OTLP.KeyValue("env", "ü"),
        ])
        #expect(out == want)
        #expect(try OTLPWalker.countItems(signal: .logs, body: rw.rewrite(req.serializedBytes())) == 5)
        // No attributes: identity.
        let body = req.serializedBytes()
        #expect(try ResourceAttributeRewriter(attributes: []).rewrite(body) == body)
        // Works the same for traces and metrics (resource is field 1 everywhere).
        let m = try OTLP.ExportMetricsServiceRequest(decoding: rw.rewrite(Golden.metricsRequest().serializedBytes()))
        #expect(m.resourceMetrics.allSatisfy { $0.resource?.attributes.contains(OTLP.KeyValue("env", "ü")) == true })
        #expect(m.resourceMetrics[0].scopeMetrics == Golden.metricsRequest().resourceMetrics[0].scopeMetrics)
    }

    @Test("random bytes never trap")
    func randomBytes() {
        var rng = SeededRandom(seed: 42)
        let rewriter = ResourceAttributeRewriter(attributes: [("a", "b")])
        let seed = Golden.traceRequest().serializedBytes()
        for _ in 0..<2000 {
            var bytes = seed
            for _ in 0..<4 { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? rewriter.rewrite(bytes)
        }
    }
}
