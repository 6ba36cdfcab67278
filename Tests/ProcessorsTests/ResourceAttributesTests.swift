import FluxtelConfig
import FluxtelTestSupport
import OTLPWire
import Processors
import Testing

@Suite struct ResourceAttributesTests {
    @Test func enrichesWithTheConfiguredAttributesInOrder() throws {
        let resource = ResourceAttributes([KeyValuePair("k8s.cluster.name", "prod"), KeyValuePair("env", "test")])
        #expect(!resource.isEmpty)
        let body = Golden.logsRequest().serializedBytes()
        let enriched = try OTLP.ExportLogsServiceRequest(decoding: resource.enrich(.logs, body))
        let attributes = try #require(enriched.resourceLogs.first?.resource?.attributes)
        #expect(
            Array(attributes.suffix(2)) == [OTLP.KeyValue("k8s.cluster.name", "prod"), OTLP.KeyValue("env", "test")])
    }

    @Test func nothingConfiguredIsEmptyAndLeavesTheBytes() throws {
        let resource = ResourceAttributes([])
        #expect(resource.isEmpty)
        let body = Golden.traceRequest().serializedBytes()
        #expect(try resource.enrich(.traces, body) == body)
    }
}
