import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Logging
import OTLPWire
import PersistentQueue
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import Synchronization
import Testing

@testable import FileLogReceiver

/// A log record as the pipeline exported it, with its resource (the kit's type).
typealias Exported = ExportedLogRecord

/// The kit's recording exporter, decoding every logs batch as the backend would (`records`,
/// `waitForRecords(atLeast:)`); `failFirst` answers `.failed` to the first batches.
func collectingExporter(failFirst: Int = 0) -> RecordingExporter {
    RecordingExporter(name: "collecting", decodesLogs: true, failFirst: failFirst)
}

/// A temporary directory, removed at the end.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "fluxtel-filelog-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String) -> String {
        let full = path + "/" + relative
        try? FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return full
    }
}

/// Appends bytes to a file with plain `write(2)`, like a container runtime.
final class LogWriter: @unchecked Sendable {
    private(set) var fd: Int32
    let path: String
    init(_ path: String, truncate: Bool = false) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0o644)
        precondition(fd >= 0, "cannot open \(path)")
    }
    deinit { if fd >= 0 { close(fd) } }

    func write(_ bytes: [UInt8]) {
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            precondition(n > 0)
            written += n
        }
    }
    func write(_ text: String) { write(Array(text.utf8)) }

    /// Rename rotation (containerd): the file moves aside, a new one takes its path.
    func rotateByRename(to rotated: String) {
        close(fd)
        precondition(rename(path, rotated) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }

    /// Copy-truncate rotation (logrotate `copytruncate`).
    func rotateByCopyTruncate(to copy: String) {
        let source = open(path, O_RDONLY)
        let target = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            _ = buffer.withUnsafeBytes { Glibc.write(target, $0.baseAddress, n) }
        }
        close(source)
        close(target)
        precondition(ftruncate(fd, 0) == 0)
    }
}

/// A CRI line of Flux-shaped JSON carrying the number `n`.
func criLine(_ n: Int, stream: String = "stderr") -> String {
    "2026-08-12T09:00:01.\(String(format: "%09d", n % 1_000_000_000))Z \(stream) F {\"level\":\"info\",\"ts\":\"2026-08-12T09:00:01.102Z\",\"msg\":\"server-side apply completed\",\"controller\":\"kustomization\",\"Kustomization\":{\"name\":\"apps\",\"namespace\":\"flux-system\"},\"n\":\(n)}\n"
}

/// Runs a pipeline with a collecting exporter and a file log receiver until `body` returns, then
/// shuts both down gracefully (sources first): everything the tailer handed over is exported (or
/// failed) when it returns.
func withReceiver(
    _ configuration: FileLogReceiverConfiguration,
    batch: BatchConfiguration = .init(maxItems: 2048, maxBytes: 1 << 20, timeout: .milliseconds(50)),
    exporter: RecordingExporter = collectingExporter(),
    disk: DiskQueue? = nil,
    _ body: (RecordingExporter) async throws -> Void
) async throws {
    let logger =
        ProcessInfo.processInfo.environment["FLUXTEL_TEST_LOG"] == nil
        ? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        : Logger(label: "test", factory: { StreamLogHandler.standardError(label: $0) })
    let metrics = AgentMetrics()
    let pipeline = Pipeline(
        batch: batch, queue: .init(maxBytes: 8 << 20), metrics: metrics,
        splitter: { signal, bytes, maxBytes, maxItems in
            try OTLPWalker.split(signal: signal, body: bytes, maxBytes: maxBytes, maxItems: maxItems)
        }, store: disk)
    let pipelineService = PipelineService(
        pipeline: pipeline, exporters: [exporter], workers: 2,
        drainTimeout: .seconds(5), logger: logger)
    let receiver = FileLogReceiver(
        configuration: configuration, shutdownWait: .seconds(5), maxInFlightBytes: 8 << 20, pipeline: pipeline,
        metrics: metrics, logger: logger)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: pipelineService), .init(service: receiver)],
            logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        try await withCleanup {
            try await body(exporter)
        } cleanup: {
            await group.triggerGracefulShutdown()
        }
        try await tasks.waitForAll()
    }
    #expect(exporter.undecodable == 0, "logs batches that do not decode")
}

/// A line no test numbers: written after the lines a test checks, its arrival proves the tailer
/// read everything before it in that file.
func markerLine(_ id: String) -> String { "2026-08-12T09:00:09Z stderr F fluxtel-test-marker \(id)\n" }

/// Appends a marker line to `writer`'s file and waits until it was exported.
func waitForMarker(
    _ writer: LogWriter, _ exporter: RecordingExporter, within timeout: Duration = .seconds(60)
) async throws {
    let id = UUID().uuidString
    writer.write(markerLine(id))
    let body = "fluxtel-test-marker \(id)"
    try await exporter.waitUntil("marker \(id)", within: timeout) { $0.records.contains { $0.body == body } }
}

extension ExportedLogRecord {
    var isMarker: Bool { body.hasPrefix("fluxtel-test-marker ") }
}
