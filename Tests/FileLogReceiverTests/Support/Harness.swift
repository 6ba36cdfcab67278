@testable import FileLogReceiver
import Foundation
import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import Synchronization
import Testing

/// A log record as the pipeline exported it, with its resource.
struct Exported: Sendable {
    var record: OTLP.LogRecord
    var resource: [OTLP.KeyValue]
    var body: String { if case .string(let s) = record.body { s } else { "" } }
    func attribute(_ key: String) -> OTLP.AnyValue? { record.attribute(key) }
    /// The `n` attribute of the test lines.
    var number: Int? { if case .int(let n) = attribute("n") { Int(n) } else { nil } }
}

/// Decodes every batch (as the backend would) and keeps the records; can be paused.
final class CollectingExporter: BatchExporter {
    let name = "collecting"
    private let state = Mutex<(records: [Exported], batches: Int, paused: Bool, bytes: Int)>(([], 0, false, 0))
    /// Batches answered `.failed` (as after exhausted retries) before any is accepted.
    private let failures = Mutex(0)
    init(failFirst: Int = 0) { failures.withLock { $0 = failFirst } }

    var records: [Exported] { state.withLock { $0.records } }
    var batches: Int { state.withLock { $0.batches } }
    var count: Int { state.withLock { $0.records.count } }
    func pause(_ paused: Bool) { state.withLock { $0.paused = paused } }

    func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        while state.withLock({ $0.paused }) {
            if Task.isCancelled { return .failed }
            try? await Task.sleep(for: .milliseconds(5))
        }
        let fail = failures.withLock { count -> Bool in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        if fail { return .failed }
        guard let request = try? OTLP.ExportLogsServiceRequest(decoding: batch.body) else {
            Issue.record("batch does not decode")
            return .rejected
        }
        var records: [Exported] = []
        for resourceLogs in request.resourceLogs {
            let resource = resourceLogs.resource?.attributes ?? []
            for scope in resourceLogs.scopeLogs {
                for record in scope.logRecords { records.append(Exported(record: record, resource: resource)) }
            }
        }
        state.withLock {
            $0.records.append(contentsOf: records)
            $0.batches += 1
            $0.bytes += batch.body.count
        }
        return .exported
    }

    func shutdown() async {}
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
/// shuts both down gracefully (sources first).
func withReceiver(
    _ settings: FileLogReceiverSettings, pipeline configuration: PipelineConfiguration = .init(
        maxBatchItems: 2048, maxBatchBytes: 1 << 20, batchTimeout: .milliseconds(50), queueMaxBytes: 8 << 20),
    exporter: CollectingExporter = CollectingExporter(),
    _ body: (CollectingExporter) async throws -> Void
) async throws {
    let logger = ProcessInfo.processInfo.environment["FLUXTEL_TEST_LOG"] == nil
        ? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        : Logger(label: "test", factory: { StreamLogHandler.standardError(label: $0) })
    let metrics = AgentMetrics()
    let pipeline = Pipeline(configuration: configuration, metrics: metrics, splitter: { signal, bytes, maxBytes, maxItems in
        try OTLPWalker.split(signal: signal, body: bytes, maxBytes: maxBytes, maxItems: maxItems)
    })
    let pipelineService = PipelineService(pipeline: pipeline, exporters: [exporter], workers: 2,
                                          drainTimeout: .seconds(5), logger: logger)
    let receiver = FileLogReceiver(settings: settings, pipeline: pipeline, metrics: metrics, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [.init(service: pipelineService), .init(service: receiver)],
                                                  logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body(exporter)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
