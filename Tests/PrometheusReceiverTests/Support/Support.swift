import FluxtelConfig
import FluxtelTestSupport
import Foundation
import HTTPClient
import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import Synchronization
import Testing

@testable import PrometheusReceiver

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A `receivers.prometheus` section for tests: the given targets, every metric kept.
func scrapeConfig(
    targets: [String] = [], interval: Duration = .seconds(30), timeout: Duration = .seconds(10),
    bodySizeLimit: Int = 16 << 20, stateDirectory: String = ""
) -> PrometheusReceiverConfiguration {
    var config = PrometheusReceiverConfiguration()
    config.targets = targets.map { ScrapeTarget(url: $0) }
    config.includeMetrics = []
    config.scrapeInterval = interval
    config.scrapeTimeout = timeout
    config.bodySizeLimit = bodySizeLimit
    config.stateDirectory = stateDirectory
    return config
}

/// A scraper for one target, with a shared client the caller shuts down.
func makeScraper(
    url: String, configuration: PrometheusReceiverConfiguration = scrapeConfig(), pipeline: Pipeline,
    client: HTTPClient, metrics: AgentMetrics = AgentMetrics()
)
    throws -> TargetScraper
{
    TargetScraper(
        endpoint: try ScrapeEndpoint(url: url, labels: [KeyValuePair("controller", "kustomize-controller")]),
        configuration: configuration, rules: try ConversionRules(configuration), client: client, pipeline: pipeline,
        registry: metrics.registry, logger: quietLogger, version: "test")
}

func makePipeline(queueBytes: Int = 64 << 20, clock: TimerClock = .continuous) -> Pipeline {
    Pipeline(
        batch: BatchConfiguration(timeout: .milliseconds(50)), queue: QueueConfiguration(maxBytes: queueBytes),
        metrics: AgentMetrics(), clock: clock)
}

func decodedResource(_ converted: ConvertedScrape) throws -> OTLP.ResourceMetrics {
    try #require(try OTLP.ExportMetricsServiceRequest(decoding: converted.bytes).resourceMetrics.first)
}

func gaugeValue(_ resource: OTLP.ResourceMetrics, _ name: String) -> Double? {
    guard case .gauge(let gauge) = resource.metric(name)?.data, case .double(let value) = gauge.dataPoints.first?.value
    else { return nil }
    return value
}

/// The package root (for Tests/Interop and the .venv).
let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Decodes an `ExportMetricsServiceRequest` with the official Python `opentelemetry-proto` bindings.
/// Fails (never skips) when no interpreter with the bindings is found.
func decodeWithPython(_ body: [UInt8]) throws -> [String: Any] {
    let python = try InteropPython.path()
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-metrics-\(UUID().uuidString).pb")
    try Data(body).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [packageRoot.appendingPathComponent("Tests/Interop/decode_metrics.py").path, input.path]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw InteropError(message: "decoder exited with \(process.terminationStatus): \(errorText)")
    }
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

struct InteropError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
