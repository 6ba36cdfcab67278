import Foundation
import Testing

@testable import FluxtelConfig

@Suite struct ConfigLoaderTests {
    static let dash0Environment = [
        "DASH0_ENDPOINT": "https://ingress.eu-west-1.aws.dash0.com",
        "DASH0_AUTH_TOKEN": "auth_token",
    ]

    @Test func embeddedDefaultWithEmptyEnvironment() throws {
        let configuration = try ConfigLoader.loadDefault(environment: [:])
        #expect(configuration == AgentConfiguration.default)
        #expect(configuration.receivers.prometheus == PrometheusReceiverConfiguration())
        #expect(configuration.receivers.prometheus?.targets.count == 4)
        #expect(configuration.receivers.filelog == FileLogReceiverConfiguration())
        #expect(configuration.receivers.otlp == OTLPReceiverConfiguration())
        #expect(configuration.exporters.otlpHTTP == nil)
        #expect(configuration.exporters.debug == DebugExporterConfiguration(verbosity: .basic))
        #expect(configuration.processors.resourceAttributes == [])
    }

    @Test func embeddedDefaultWithDash0Endpoint() throws {
        var environment = Self.dash0Environment
        environment["CLUSTER_NAME"] = "prod-eu"
        let configuration = try ConfigLoader.loadDefault(environment: environment)
        let otlp = try #require(configuration.exporters.otlpHTTP)
        #expect(otlp.endpoint == "https://ingress.eu-west-1.aws.dash0.com")
        #expect(
            otlp.headers == [
                KeyValuePair("Authorization", "Bearer auth_token"), KeyValuePair("Dash0-Dataset", "default"),
            ])
        #expect(otlp.compression == .gzip)
        #expect(configuration.exporters.debug == nil)
        #expect(configuration.processors.resourceAttributes == [KeyValuePair("k8s.cluster.name", "prod-eu")])
    }

    @Test func emptyFileIsTheEmbeddedDefault() throws {
        #expect(load("") == AgentConfiguration.default)
        #expect(load("# nothing but a comment\n") == AgentConfiguration.default)
        #expect(load("---\n") == AgentConfiguration.default)
        #expect(
            load("", environment: Self.dash0Environment)
                == (try ConfigLoader.loadDefault(environment: Self.dash0Environment)))
    }

    @Test func absentSectionsComeFromTheEmbeddedDefault() throws {
        let configuration = try #require(
            load("processors:\n  batch: { max_items: 100 }\n", environment: Self.dash0Environment))
        #expect(configuration.receivers == AgentConfiguration.default.receivers)
        #expect(configuration.exporters.otlpHTTP?.endpoint == "https://ingress.eu-west-1.aws.dash0.com")
        #expect(configuration.processors.batch.maxItems == 100)
        #expect(configuration.processors.batch.maxBytes == 1 << 20)
    }

    @Test func aReceiverRunsWhenItsKeyIsPresent() throws {
        let configuration = try #require(load("receivers:\n  otlp:\n"))
        #expect(configuration.receivers.otlp == OTLPReceiverConfiguration())
        #expect(configuration.receivers.prometheus == nil)
        #expect(configuration.receivers.filelog == nil)
        let withValues = try #require(load("receivers:\n  prometheus: { scrape_interval: 1m }\n  filelog: {}\n"))
        #expect(withValues.receivers.prometheus?.scrapeInterval == .seconds(60))
        #expect(withValues.receivers.filelog == FileLogReceiverConfiguration())
        #expect(withValues.receivers.otlp == nil)
    }

    @Test func exporterWithoutEndpointFallsBackToDebug() throws {
        let configuration = try #require(load("exporters:\n  otlp_http:\n    endpoint: \"${env:NOPE:-}\"\n"))
        #expect(configuration.exporters.otlpHTTP == nil)
        #expect(configuration.exporters.debug == DebugExporterConfiguration(verbosity: .basic))
    }

    @Test func perSignalEndpointIsEnough() throws {
        let configuration = try #require(
            load("exporters:\n  otlp_http:\n    traces_endpoint: https://t.example.com/v1/traces\n"))
        #expect(configuration.exporters.otlpHTTP?.endpoint == "")
        #expect(configuration.exporters.otlpHTTP?.tracesEndpoint == "https://t.example.com/v1/traces")
        #expect(configuration.exporters.debug == nil)
    }

    @Test func debugAlongsideOTLP() throws {
        let configuration = try #require(
            load("exporters:\n  otlp_http: { endpoint: \"https://x\" }\n  debug: { verbosity: detailed }\n"))
        #expect(configuration.exporters.otlpHTTP != nil)
        #expect(configuration.exporters.debug == DebugExporterConfiguration(verbosity: .detailed))
        let bare = try #require(load("exporters:\n  debug:\n"))
        #expect(bare.exporters.debug == DebugExporterConfiguration(verbosity: .basic))
        #expect(bare.exporters.otlpHTTP == nil)
    }

    @Test func fullyConfiguredExporter() throws {
        let configuration = try #require(
            load(
                """
                exporters:
                  otlp_http:
                    endpoint: https://otlp.example.com:4318
                    headers: { X-Token: abc, X-Empty: "" }
                    compression: none
                    compression_level: 9
                    timeout: 3s
                    retry: { initial_interval: 500ms, max_interval: 5s }
                    tls: { ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, insecure_skip_verify: true }
                """))
        let otlp = try #require(configuration.exporters.otlpHTTP)
        #expect(otlp.headers == [KeyValuePair("X-Token", "abc")])
        #expect(otlp.compression == .none)
        #expect(otlp.compressionLevel == 9)
        #expect(otlp.timeout == .seconds(3))
        #expect(otlp.retry.initialInterval == .milliseconds(500))
        #expect(otlp.retry.maxInterval == .seconds(5))
        #expect(otlp.tls.caFile == "/ca.pem")
        #expect(otlp.tls.certFile == "/c.pem")
        #expect(otlp.tls.keyFile == "/k.pem")
        #expect(otlp.tls.insecureSkipVerify)
    }

    @Test func receiversAndService() throws {
        let configuration = try #require(
            load(
                """
                receivers:
                  prometheus:
                    include_metrics: ["gotk_*", "controller_runtime_*"]
                    targets:
                      - url: http://localhost:8080/metrics
                        labels: { controller: local, team: "${env:TEAM:-}" }
                  filelog: { start_at: beginning, format: cri, include: [/logs/*.log], exclude: [/logs/x.log] }
                  otlp: { endpoint: "127.0.0.1:0", auth: { bearer_token: secret } }
                service:
                  telemetry: { address: "[::]:9090", log_level: debug }
                  shutdown_timeout: 30s
                """))
        let prometheus = try #require(configuration.receivers.prometheus)
        #expect(prometheus.includeMetrics == ["gotk_*", "controller_runtime_*"])
        #expect(
            prometheus.targets == [
                ScrapeTarget(url: "http://localhost:8080/metrics", labels: [KeyValuePair("controller", "local")])
            ])
        let filelog = try #require(configuration.receivers.filelog)
        #expect(filelog.startAt == .beginning)
        #expect(filelog.format == .cri)
        #expect(filelog.include == ["/logs/*.log"])
        #expect(filelog.exclude == ["/logs/x.log"])
        #expect(configuration.receivers.otlp?.endpoint == "127.0.0.1:0")
        #expect(configuration.receivers.otlp?.bearerToken == "secret")
        #expect(configuration.service.telemetryAddress == "[::]:9090")
        #expect(configuration.service.logLevel == "debug")
        #expect(configuration.service.shutdownTimeout == .seconds(30))
    }

    @Test func readsAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-\(UUID().uuidString).yaml")
            .path
        try "processors:\n  queue: { workers: 4 }\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ConfigLoader.load(path: path, environment: [:]).processors.queue.workers == 4)
        try "processors:\n  queue: { workers: 0 }\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(
            ConfigLoader.validate(path: path, environment: [:]).map(\.description) == [
                "\(path):2:21: expected an integer from 1 to 64, got '0'"
            ])
    }

    @Test func invalidUTF8IsASyntaxError() {
        let errors: [ConfigError]
        do {
            _ = try ConfigLoader.load(
                bytes: Array("a: ".utf8) + [0xFF, 0xFE, 0x41], fileName: "bad.yaml", environment: [:])
            errors = []
        } catch {
            errors = error.errors
        }
        #expect(errors.map(\.code) == [.syntax])
    }

    @Test func processEnvironmentReadsTheEnvironment() {
        #expect(ConfigLoader.processEnvironment()["PATH"] == ProcessInfo.processInfo.environment["PATH"])
    }
}

/// Every configuration file shipped under `config/` loads with no environment variables set.
@Suite struct ShippedConfigTests {
    static let configDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config")

    /// `config/**/*.yaml`, except Kubernetes manifests (`config/kubernetes/`, or any file with `apiVersion:`).
    static var configFiles: [String] {
        guard let walker = FileManager.default.enumerator(atPath: configDirectory.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { relative in
            guard relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") else { return false }
            guard !relative.hasPrefix("kubernetes/") else { return false }
            let text =
                (try? String(contentsOfFile: configDirectory.appendingPathComponent(relative).path, encoding: .utf8))
                ?? ""
            return !text.split(separator: "\n").contains { $0.hasPrefix("apiVersion:") || $0.hasPrefix("kind:") }
        }.sorted()
    }

    @Test func findsTheShippedFiles() {
        #expect(Self.configFiles.contains("fluxtel.yaml"))
        #expect(Self.configFiles.count >= 3)
    }

    @Test(arguments: configFiles)
    func loadsWithAnEmptyEnvironment(relativePath: String) {
        let path = Self.configDirectory.appendingPathComponent(relativePath).path
        let errors = ConfigLoader.validate(path: path, environment: [:])
        #expect(errors.isEmpty, "\(ConfigErrors(errors))")
    }

    @Test(arguments: [
        [:], ConfigLoaderTests.dash0Environment,
        ["CLUSTER_NAME": "c", "DASH0_ENDPOINT": "http://x", "DASH0_DATASET": "d"],
    ])
    func referenceFileEqualsTheEmbeddedDefault(environment: [String: String]) throws {
        let path = Self.configDirectory.appendingPathComponent("fluxtel.yaml").path
        let reference = try ConfigLoader.load(path: path, environment: environment)
        #expect(reference == (try ConfigLoader.loadDefault(environment: environment)))
    }

    @Test func examplesDoWhatTheySay() throws {
        let examples = Self.configDirectory.appendingPathComponent("examples")
        let dash0 = try ConfigLoader.load(
            path: examples.appendingPathComponent("dash0.yaml").path, environment: ConfigLoaderTests.dash0Environment)
        #expect(dash0.exporters.otlpHTTP?.endpoint == "https://ingress.eu-west-1.aws.dash0.com")
        let debug = try ConfigLoader.load(
            path: examples.appendingPathComponent("debug-only.yaml").path,
            environment: ConfigLoaderTests.dash0Environment)
        #expect(debug.exporters.debug?.verbosity == .detailed)
        #expect(debug.exporters.otlpHTTP == nil)
        #expect(debug.receivers.prometheus == nil)
    }
}
