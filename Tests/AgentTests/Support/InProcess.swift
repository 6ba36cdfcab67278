import Agent
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Logging
import ServiceLifecycleTestKit
import Testing

/// Runs an agent inside the test process (no signals), hands `body` the OTLP receiver's port, then
/// triggers graceful shutdown (sources stop, batches flush, queue drains) and waits for it.
func withAgent(_ configuration: AgentConfiguration, _ body: (Agent, Int) async throws -> Void) async throws {
    let agent = try Agent(
        configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    try await testGracefulShutdown { trigger in
        async let run: Void = agent.run(handleSignals: false)
        guard let port = await agent.otlpReceiver?.waitUntilBound() else {
            Issue.record("the OTLP receiver did not bind")
            trigger.triggerGracefulShutdown()
            try await run
            return
        }
        do {
            try await body(agent, port)
        } catch {
            trigger.triggerGracefulShutdown()
            try await run
            throw error
        }
        trigger.triggerGracefulShutdown()
        try await run
    }
}

/// An agent configuration for tests: OTLP receiver on an ephemeral 127.0.0.1 port, no telemetry
/// server, otlp_http to the given sink port (gzip), fast retries.
func testConfiguration(sinkPort: Int, batchTimeout: Duration = .seconds(3600)) -> AgentConfiguration {
    var configuration = AgentConfiguration()
    var otlp = OTLPReceiverConfiguration()
    otlp.endpoint = "127.0.0.1:0"
    configuration.receivers = Receivers(otlp: otlp)
    configuration.processors.batch.timeout = batchTimeout
    // The fixtures carry fixed past timestamps (byte-identical checks); MaxAgeTests turns it on.
    configuration.processors.maxAge = .zero
    var exporter = OTLPHTTPExporterConfiguration(endpoint: "http://127.0.0.1:\(sinkPort)")
    exporter.retry.initialInterval = .milliseconds(20)
    exporter.retry.maxInterval = .milliseconds(200)
    configuration.exporters = ExportersConfiguration(otlpHTTP: exporter)
    configuration.service.telemetryAddress = ""
    configuration.service.shutdownTimeout = .seconds(20)
    return configuration
}

/// The official Python interpreter for interop tests: `FLUXTEL_PYTHON`, else `.venv/bin/python3`.
func interopPython() throws -> String { try InteropPython.path() }

/// Runs a script of Tests/Interop without blocking a cooperative thread; returns status and output.
/// `timeout` only catches a hang (scaled by `FLUXTEL_TEST_TIME_SCALE`).
func runInterop(
    _ script: String, _ arguments: [String], timeout: Duration = .seconds(300)
) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try interopPython())
    process.arguments = [packageRoot.appendingPathComponent("Tests/Interop/\(script)").path] + arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-py-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    let ended = AsyncStream<Int32>.makeStream()
    process.terminationHandler = {
        ended.continuation.yield($0.terminationStatus)
        ended.continuation.finish()
    }
    try process.run()
    let pid = process.processIdentifier
    let bound = TestTime.scaled(timeout)
    // The hang bound, cancelled as soon as the script ended.
    let timer = Task {
        guard (try? await Task.sleep(for: bound)) != nil else { return false }
        kill(pid, SIGKILL)
        return true
    }
    var status: Int32 = -1
    for await value in ended.stream { status = value }
    timer.cancel()
    if await timer.value { Issue.record("\(script) did not finish within \(bound)") }
    try handle.close()
    return (status, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
}

/// Length-prefixed (big-endian UInt32) records, the format of the interop scripts.
func readRecords(_ path: String) throws -> [[UInt8]] {
    let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var records: [[UInt8]] = []
    var offset = 0
    while offset + 4 <= data.count {
        let length =
            Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
        records.append(Array(data[(offset + 4)..<(offset + 4 + length)]))
        offset += 4 + length
    }
    return records
}

func writeRecords(_ records: [[UInt8]], to path: String) throws {
    var data: [UInt8] = []
    for record in records {
        let n = UInt32(record.count)
        data += [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        data += record
    }
    try Data(data).write(to: URL(fileURLWithPath: path))
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-\(UUID().uuidString)-\(name)").path
}
