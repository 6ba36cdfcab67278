import Agent
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Logging
import OTLPWire
import Testing

/// `service.telemetry.metrics`: the real binary sends its own `/metrics` through its own pipeline.
@Suite(.serialized) struct SelfTelemetryProcessTests {
    /// The agent's own resource metrics among everything the sink received, with their send times.
    static func ownMetrics(_ requests: [HTTPSink.RecordedRequest]) throws -> [OTLP.ResourceMetrics] {
        try requests.filter { $0.path == "/v1/metrics" }.flatMap {
            try OTLP.ExportMetricsServiceRequest(decoding: $0.body ?? []).resourceMetrics
        }.filter { $0.resource?.attributes.contains(.init("service.name", "fluxtel")) == true }
    }

    /// The real agent with `receivers` (YAML, one level below `receivers:`), the agent's own telemetry
    /// settings `telemetry` (flow-style members of `service.telemetry`), exporting to `sink`.
    static func start(
        receivers: String, telemetry: String, sink: HTTPSink, environment: [String: String]
    ) throws -> AgentProcess {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-\(UUID().uuidString).yaml")
        let indented = receivers.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        try """
        receivers:
        \(indented)
        processors:
          batch: { timeout: 50ms }
        exporters:
          otlp_http: { endpoint: "http://127.0.0.1:\(sink.port)" }
        service:
          telemetry: { address: "127.0.0.1:0", \(telemetry) }
        """.write(to: config, atomically: true, encoding: .utf8)
        return try startFluxtel(["--config", config.path], environment: environment)
    }

    static func pointTimes(_ resource: OTLP.ResourceMetrics) -> Set<UInt64> {
        var times: Set<UInt64> = []
        for metric in resource.scopeMetrics.flatMap(\.metrics) {
            switch metric.data {
            case .sum(let sum): times.formUnion(sum.dataPoints.map(\.timeUnixNano))
            case .gauge(let gauge): times.formUnion(gauge.dataPoints.map(\.timeUnixNano))
            case .histogram(let histogram): times.formUnion(histogram.dataPoints.map(\.timeUnixNano))
            default: break
            }
        }
        return times
    }

    /// Acceptance (issue 20): the agent's `fluxtel_*` metrics arrive at an OTLP sink with
    /// `service.name=fluxtel`, one send per `interval`.
    @Test func ownMetricsArriveAtTheSinkOncePerInterval() async throws {
        let sink = try await HTTPSink.start()
        let process = try Self.start(
            receivers: "otlp: { endpoint: 127.0.0.1:0 }", telemetry: "metrics: { export: true, interval: 1s }",
            sink: sink, environment: ["POD_NAME": "fluxtel-x1", "POD_NAMESPACE": "fluxtel"])
        try await process.waitUntilReady()
        // Three sends: the waits between them are the interval.
        let arrived = try await eventually {
            try Self.ownMetrics(sink.requests).count >= 3
        }
        #expect(arrived, "fewer than three sends of the agent's own metrics")
        process.signal(SIGTERM)
        _ = try await process.finish()
        try await sink.shutdown()

        let own = try Self.ownMetrics(sink.requests)
        let first = try #require(own.first)
        let attributes = first.resource?.attributes ?? []
        #expect(attributes.contains(.init("k8s.pod.name", "fluxtel-x1")))
        #expect(attributes.contains(.init("k8s.namespace.name", "fluxtel")))
        #expect(attributes.contains(.init("service.instance.id", "fluxtel-x1")))
        #expect(!attributes.contains { $0.key == "server.address" }, "not a network target")
        let names = Set(first.scopeMetrics.flatMap(\.metrics).map(\.name))
        for name in [
            "fluxtel_items_received_total", "fluxtel_items_exported_total", "fluxtel_queue_bytes",
            "fluxtel_export_duration_seconds", "fluxtel_queue_capacity_bytes",
        ] {
            #expect(names.contains(name), "\(name) missing from \(names.sorted())")
        }
        #expect(!names.contains("up") && !names.contains("scrape_duration_seconds"), "no scrape report for itself")
        #expect(!sink.requests.contains { $0.path == "/v1/logs" }, "logs.export is off by default")
        // Each send stamps its points with one time; consecutive sends are at least the interval apart.
        let times = own.map { Self.pointTimes($0) }
        #expect(times.allSatisfy { $0.count == 1 })
        let sendTimes = times.compactMap(\.first).sorted()
        for (earlier, later) in zip(sendTimes, sendTimes.dropFirst()) {
            #expect(later - earlier >= 1_000_000_000, "sends \(later - earlier) ns apart, interval 1s")
        }
    }

    /// `service.telemetry.logs.export`: a warning the agent writes on stderr (a failing scrape) also
    /// arrives as an OTLP log record on the agent's own resource.
    @Test func ownWarningsArriveAsLogRecords() async throws {
        let sink = try await HTTPSink.start()
        let target = try await HTTPSink.start(fallback: .status(500))
        let process = try Self.start(
            receivers: """
                prometheus:
                    scrape_interval: 1s
                    scrape_timeout: 1s
                    targets: [{ url: "http://127.0.0.1:\(target.port)/metrics", labels: { job: broken } }]
                """,
            telemetry: "metrics: { export: false }, logs: { export: true }", sink: sink,
            environment: ["POD_NAME": "fluxtel-x2"])
        func ownRecords() -> [(OTLP.Resource?, OTLP.LogRecord)] {
            sink.requests.filter { $0.path == "/v1/logs" }.flatMap { request in
                ((try? OTLP.ExportLogsServiceRequest(decoding: request.body ?? []))?.resourceLogs ?? []).flatMap {
                    resource in resource.scopeLogs.flatMap(\.logRecords).map { (resource.resource, $0) }
                }
            }
        }
        let arrived = await eventually { ownRecords().contains { $0.1.body == .string("Scrape failed") } }
        process.signal(SIGTERM)
        _ = try await process.finish()
        try await sink.shutdown()
        try await target.shutdown()
        #expect(arrived, "the scrape warning did not arrive as a log record")
        let (resource, record) = try #require(ownRecords().first { $0.1.body == .string("Scrape failed") })
        #expect(record.severityNumber == .warn && record.severityText == "WARNING")
        #expect(record.attributes.contains { $0.key == "error" })
        #expect(resource?.attributes.contains(.init("service.name", "fluxtel")) == true)
        #expect(resource?.attributes.contains(.init("k8s.pod.name", "fluxtel-x2")) == true)
        #expect(ownRecords().allSatisfy { $0.1.severityNumber.rawValue >= OTLP.SeverityNumber.warn.rawValue })
    }

    /// `export: auto` runs only when an exporter has an endpoint; `true` and `false` decide alone.
    @Test(arguments: [
        ("auto", "", false), ("auto", "http://127.0.0.1:9", true), ("true", "", true),
        ("false", "http://127.0.0.1:9", false),
    ])
    func exportRunsWhenConfiguredSo(export: String, endpoint: String, runs: Bool) throws {
        let configuration = try ConfigLoader.load(
            yaml: """
                exporters:
                  otlp_http: { endpoint: "\(endpoint)" }
                  fallback: none
                service:
                  telemetry: { address: "", metrics: { export: \(export) } }
                """, fileName: "test.yaml", environment: [:])
        let agent = try Agent(
            configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect((agent.agentMetricsReceiver != nil) == runs)
    }
}
