import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// End-to-end tests of the real `fluxtel` binary: a process, real sockets on 127.0.0.1, real signals.
@Suite(.serialized) struct AgentProcessTests {
    /// When the test spans started: the run's start, so that `processors.max_age` keeps them.
    static let spanStart = UInt64(Date().timeIntervalSince1970) * 1_000_000_000

    /// A Flux-shaped span as notification-controller's `otel` Provider sends it (FLUX.md section 1).
    static func fluxSpan(_ index: Int) -> OTLP.Span {
        OTLP.Span(
            traceID: Array(0..<16).map { UInt8($0) },
            spanID: [1, 2, 3, 4, 5, 6, 7, UInt8(index & 0xFF)],
            flags: 0x301,
            name: "Kustomization: flux-system/apps-\(index)",
            kind: .internal,
            startTimeUnixNano: spanStart,
            endTimeUnixNano: spanStart + 250_000_000,
            attributes: [
                .init("object.kind", "Kustomization"), .init("object.name", "apps-\(index)"),
                .init("revision", "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
            ],
            status: .init(code: .ok))
    }

    static func fluxRequest(spans: Int) -> OTLP.ExportTraceServiceRequest {
        OTLP.ExportTraceServiceRequest(resourceSpans: [
            OTLP.ResourceSpans(
                resource: OTLP.Resource(attributes: [
                    .init("service.name", "flux-system/on-call"), .init("service.namespace", "flux-system"),
                ]),
                scopeSpans: [
                    OTLP.ScopeSpans(
                        scope: OTLP.InstrumentationScope(name: "flux:notification-controller"),
                        spans: (0..<spans).map(fluxSpan))
                ],
                schemaURL: "https://opentelemetry.io/schemas/1.34.0")
        ])
    }

    func writeConfig(_ yaml: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-\(UUID().uuidString).yaml")
            .path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func versionPrints() async throws {
        let result = try await runFluxtel(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).first?.isNumber == true)
    }

    @Test func validateAcceptsEveryShippedConfig() async throws {
        let configDir = packageRoot.appendingPathComponent("config")
        let files = FileManager.default.enumerator(atPath: configDir.path)!.compactMap { $0 as? String }
            .filter {
                ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix("kubernetes/")
                    && !$0.hasPrefix("dash0/")
            }
        #expect(files.contains("fluxtel.yaml"))
        for file in files {
            let result = try await runFluxtel(
                ["validate", "--config", configDir.appendingPathComponent(file).path], environment: [:])
            #expect(result.status == 0, "\(file): \(result.stderr)")
        }
    }

    @Test func validateReportsEveryErrorWithLineAndColumn() async throws {
        let path = try writeConfig(
            """
            processors:
              batch:
                max_itmes: 10
                timeout: fast
            """)
        let result = try await runFluxtel(["validate", "--config", path])
        #expect(result.status == 1)
        let name = URL(fileURLWithPath: path).lastPathComponent
        #expect(result.stderr.contains("\(name):3:5"), "\(result.stderr)")
        #expect(result.stderr.contains("\(name):4:14"), "\(result.stderr)")
    }

    /// Acceptance: SIGTERM with a full batch pending → the sink receives it before the process exits 0.
    @Test func sigtermFlushesThePendingBatchThenExitsZero() async throws {
        let sink = try await HTTPSink.start()
        let path = try writeConfig(
            """
            receivers:
              otlp:
                endpoint: 127.0.0.1:0
            processors:
              resource:
                attributes: { k8s.cluster.name: prod-eu }
              batch: { max_items: 100000, timeout: 1h }
            \(TestConfig.exportToSink(
                sink.port, retry: "{ initial_interval: 10ms, max_elapsed_time: 5s }",
                extra: ["headers: { Dash0-Dataset: flux }"]))
            """)
        let process = try startFluxtel(["--config", path])
        try await process.waitUntilReady()
        let otlpPort = try await process.otlpPort

        let request = Self.fluxRequest(spans: 25)
        for _ in 0..<4 {
            let response = await httpRequest(
                port: otlpPort, method: "POST", path: "/v1/traces",
                headers: [("Content-Type", "application/x-protobuf")], body: request.serializedBytes())
            #expect(response?.status == 200)
        }
        // All 100 spans are in the agent, waiting in the open batch (timeout 1h), none exported.
        let metrics = try await process.metrics()
        #expect(AgentProcess.sample("fluxtel_items_received_total", ["signal": "traces"], in: metrics) == 100)
        #expect(
            AgentProcess.sample("fluxtel_queue_bytes", ["signal": "traces"], in: metrics) ?? 0 > 0,
            "the batch is pending")
        #expect(AgentProcess.sample("fluxtel_items_exported_total", ["signal": "traces"], in: metrics) == 0)

        let sigterm = ContinuousClock.now
        process.signal(SIGTERM)
        let finished = try await process.finish()
        #expect(finished.status == 0, "\(finished.stderr)")
        let received = sink.requests
        #expect(received.count == 1)
        // The one export came after SIGTERM: the batch was held until shutdown flushed it.
        #expect(
            received.allSatisfy { $0.receivedAt >= sigterm },
            "the batch must still be pending (timeout 1h) until SIGTERM")
        #expect(received.first?.path == "/v1/traces")
        #expect(received.first?.header("Dash0-Dataset") == "flux")
        let decoded = try OTLP.ExportTraceServiceRequest(decoding: received.first?.body ?? [])
        #expect(decoded.resourceSpans.count == 4)
        #expect(decoded.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }.count == 100)
        // Everything arrives as sent, plus the resource processor's attribute.
        var expected = request.resourceSpans[0]
        expected.resource?.attributes.append(.init("k8s.cluster.name", "prod-eu"))
        #expect(decoded.resourceSpans.allSatisfy { $0 == expected })
        try await sink.shutdown()
    }

    @Test func embeddedDefaultsRunAndStopCleanly() async throws {
        let process = try startFluxtel(
            [],
            environment: [
                "FLUXTEL_OTLP_ENDPOINT": "127.0.0.1:0",
                "FLUXTEL_TELEMETRY_ADDRESS": "127.0.0.1:0",
                "DASH0_ENDPOINT": "",
            ])
        try await process.waitUntilReady()
        let otlpPort = try await process.otlpPort
        let telemetryPort = try await process.telemetryPort
        let exposition = try await process.metrics()
        #expect(exposition.contains("fluxtel_items_received_total"))
        #expect(await eventually { await httpRequest(port: telemetryPort, path: "/healthz")?.status == 200 })
        // the debug exporter (no endpoint) prints one line per batch on stdout
        let response = await httpRequest(
            port: otlpPort, method: "POST", path: "/v1/traces",
            headers: [("Content-Type", "application/x-protobuf")], body: Self.fluxRequest(spans: 3).serializedBytes())
        #expect(response?.status == 200)
        process.signal(SIGTERM)
        let finished = try await process.finish()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(finished.stdout.contains("traces"), "\(finished.stdout)")
        #expect(finished.stdout.contains("3"), "\(finished.stdout)")
        // every stderr line is a JSON log line
        for line in finished.stderr.split(separator: "\n") {
            #expect(line.hasPrefix("{\"ts\":"), "\(line)")
        }
    }
}
