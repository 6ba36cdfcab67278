import Agent
import FluxtelConfig
import FluxtelTestSupport
import Logging
import OTLPWire
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// With no exporter endpoint (the Secret with `DASH0_ENDPOINT` missing) the agent starts and stays up
/// instead of crash-looping, drops what it receives, and says so: an `error` log line (repeated every
/// minute), `fluxtel_export_disabled 1`, `fluxtel_items_discarded_total{reason="no_endpoint"}` with
/// `exporters.fallback: none`, as the shipped Kubernetes configs set it (issue 16, points 3 and 4). The
/// embedded defaults (`fallback: debug`) still print with the debug exporter, and warn that they do.
@Suite struct MissingEndpointTests {
    static let sidecarLike = """
        receivers:
          otlp:
            endpoint: 127.0.0.1:0
        exporters:
          fallback: none
          otlp_http:
            endpoint: "${env:DASH0_ENDPOINT:-}"
            headers:
              Authorization: "Bearer ${env:DASH0_AUTH_TOKEN:-}"
        service:
          telemetry:
            address: ""
        """

    @Test func fallbackNoneWithoutEndpointExportsNothingAndSaysWhy() throws {
        let configuration = try ConfigLoader.load(yaml: Self.sidecarLike, fileName: "fluxtel.yaml", environment: [:])
        #expect(configuration.exporters.otlpHTTP == nil)
        #expect(configuration.exporters.debug == nil, "fallback none: a sidecar's stdout is tailed too")
        #expect(
            configuration.exporters.missingEndpoint
                == "fluxtel.yaml:7:15: exporters.otlp_http has no endpoint: set DASH0_ENDPOINT to export to Dash0")
    }

    /// `fallback: none` and no `otlp_http` section at all: nothing is printed or counted as exported.
    @Test func fallbackNoneWithNoExporterAtAllDiscards() throws {
        let configuration = try ConfigLoader.load(
            yaml: "receivers: { otlp: { endpoint: 127.0.0.1:0 } }\nexporters: { fallback: none }\n",
            fileName: "fluxtel.yaml", environment: [:])
        let agent = try Agent(
            configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(agent.exporterNames == ["none"])
    }

    @Test func theEmbeddedDefaultsFallBackToDebugAndSaySo() throws {
        let configuration = try ConfigLoader.loadDefault(environment: [:])
        #expect(configuration.exporters.debug != nil)
        #expect(configuration.exporters.debugIsFallback)
        let withEndpoint = try ConfigLoader.loadDefault(environment: ["DASH0_ENDPOINT": "https://ingress.example.com"])
        #expect(withEndpoint.exporters.debug == nil)
        #expect(!withEndpoint.exporters.debugIsFallback)
    }

    @Test func theAgentRunsDropsAndLogsAnError() async throws {
        let configuration = try ConfigLoader.load(yaml: Self.sidecarLike, fileName: "fluxtel.yaml", environment: [:])
        let lines = LogLines()
        let agent = try Agent(
            configuration: configuration, logger: Logger(label: "test") { _ in CapturingLogHandler(lines) })
        try await testGracefulShutdown { trigger in
            async let run: Void = agent.run(handleSignals: false)
            let port = try #require(await agent.otlpReceiver?.waitUntilBound())
            let body = AgentProcessTests.fluxRequest(spans: 3).serializedBytes()
            let response = LoopbackHTTP.request(
                port: port, method: "POST", path: "/v1/traces",
                headers: [("Content-Type", "application/x-protobuf")], body: body)
            #expect(response?.status == 200, "the sender is not punished for our configuration")
            #expect(
                await eventually {
                    String(decoding: agent.metrics.render(), as: UTF8.self)
                        .contains(#"fluxtel_items_discarded_total{signal="traces",reason="no_endpoint"} 3"#)
                })
            let metrics = String(decoding: agent.metrics.render(), as: UTF8.self)
            #expect(metrics.contains("fluxtel_export_disabled 1"), "\(metrics)")
            #expect(
                await eventually { lines.contains { $0.level == .error && $0.text.contains("set DASH0_ENDPOINT") } })
            trigger.triggerGracefulShutdown()
            try await run
        }
    }
}

/// Log lines an agent wrote, as level and message plus metadata.
final class LogLines: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var text: String
    }
    private let lines = Mutex<[Line]>([])
    func append(_ line: Line) { lines.withLock { $0.append(line) } }
    func contains(where predicate: (Line) -> Bool) -> Bool { lines.withLock { $0.contains(where: predicate) } }
}

struct CapturingLogHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    init(_ lines: LogLines) { self.lines = lines }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        lines.append(.init(level: event.level, text: "\(event.message) \(all)"))
    }
}
