import Exporters
import FluxtelConfig
import FluxtelTestSupport
import OTLPWire
import Pipeline
import SelfTelemetry
import Testing

/// The exporter's history on `/status` and in its log lines, in words (issue 16, points 4 and 5).
@Suite(.serialized) struct ExportStatusTests {
    @Test func successAndConnectionRefusedAreRecordedInWords() async throws {
        let metrics = AgentMetrics()
        let logs = LogRecorder()
        let sink = try await HTTPSink.start()
        var configuration = Fixtures.configuration(sink.baseURL + "/")
        configuration.retry.enabled = false
        let exporter = try OTLPHTTPExporter(
            configuration: configuration, metrics: metrics, logger: logs.logger(), version: "1.2.3",
            backoffClock: ManualClock(autoAdvance: true).clock)

        #expect(await exporter.export(Fixtures.batch(.traces, items: 2)) == .exported)
        let afterSuccess = metrics.status.export(.traces)
        #expect(afterSuccess.lastSuccess != nil)
        #expect(afterSuccess.consecutiveFailures == 0)

        try await sink.stopListening()  // the port stays held: a connect is refused
        #expect(await exporter.export(Fixtures.batch(.traces, items: 2)) == .failed)
        let afterFailure = metrics.status.export(.traces)
        #expect(afterFailure.lastError == "connection refused (127.0.0.1:\(sink.port))")
        #expect(afterFailure.consecutiveFailures == 1)
        #expect(afterFailure.lastErrorAt != nil)
        #expect(afterFailure.lastSuccess == afterSuccess.lastSuccess)
        let logged = logs.entries.first { $0.message == "Export failed: connection error" }
        #expect(logged?.metadata["error"] == "connection refused (127.0.0.1:\(sink.port))", "\(logs.entries)")

        try await sink.resumeListening()
        #expect(await exporter.export(Fixtures.batch(.traces, items: 1)) == .exported)
        #expect(metrics.status.export(.traces).consecutiveFailures == 0)
        await exporter.shutdown()
        try await sink.shutdown()
    }

    @Test func aRefusedBatchRecordsTheStatusAndMessage() async throws {
        let metrics = AgentMetrics()
        let sink = try await HTTPSink.start(responses: [
            HTTPSink.Response(status: .badRequest, body: Array("bad spans".utf8))
        ])
        let exporter = try OTLPHTTPExporter(
            configuration: Fixtures.configuration(sink.baseURL + "/"), metrics: metrics, logger: LogRecorder().logger(),
            version: "1.2.3", backoffClock: ManualClock(autoAdvance: true).clock)
        #expect(await exporter.export(Fixtures.batch(.logs, items: 1)) == .rejected)
        #expect(
            metrics.status.export(.logs).lastError?.hasPrefix("HTTP 400") == true, "\(metrics.status.export(.logs))")
        await exporter.shutdown()
        try await sink.shutdown()
    }
}
