import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import Testing

@testable import FileLogReceiver

/// Rotation, driven step by step: the test decides when the tailer polls and reads, and a scripted
/// writer renames, copies and truncates in between. Each test pins one interleaving of rotation,
/// new file, poll and read, so none of them is a race that fails one run in three.
///
/// The interleaving that lost a whole generation (issue 14): between two polls the writer renames the
/// tailed file away, writes a whole new file at its path *and renames that one away too*. The include
/// glob does not match rotated names, so the middle generation was never seen.
@Suite struct RotationTests {
    static let podDirectory =
        "pods/flux-system_kustomize-controller-5f7457c9dd-9xvxq_5b1c3c2e-0000-4000-8000-000000000001/manager"

    /// How rotated generations are named: numbered (`0.log.1`), or as the kubelet does (`0.log.<timestamp>`).
    enum Naming: CaseIterable, Sendable {
        case numbered, kubelet
        func name(_ path: String, _ generation: Int) -> String {
            switch self {
            case .numbered: path + ".\(generation)"
            case .kubelet: path + ".20261203-1300\(String(format: "%02d", generation))"
            }
        }
    }

    /// How the tailed file is rotated: renamed away (named as `Naming` says), or copied and truncated.
    enum Rotation: Sendable, Equatable, CustomStringConvertible {
        case rename(Naming)
        case copyTruncate

        static let all: [Rotation] = Naming.allCases.map(Rotation.rename) + [.copyTruncate]

        func rotate(_ writer: LogWriter, path: String, generation: Int) {
            switch self {
            case .rename(let naming): writer.rotateByRename(to: naming.name(path, generation))
            case .copyTruncate: writer.rotateByCopyTruncate(to: path + ".\(generation)")
            }
        }

        var description: String {
            switch self {
            case .rename(let naming): "rename (\(naming))"
            case .copyTruncate: "copy-truncate"
            }
        }
    }

    /// The window between two polls, under either rotation: the tailed file is rotated, a whole
    /// generation written and rotated too, and a new file takes the path. With copy-truncate two copies
    /// are made and the file truncated twice.
    @Test(arguments: Rotation.all)
    func aGenerationCreatedAndRotatedAwayBetweenTwoPollsIsRead(rotation: Rotation) async throws {
        try await Self.tailing(0..<100) { tailer, exporter, log in
            let (writer, path) = (log.writer, log.path)
            // The tailer is starved (backpressure, a busy node): none of this is seen as it happens.
            writer.write(lines(100..<150))  // the unread tail of the tailed file
            rotation.rotate(writer, path: path, generation: 1)
            writer.write(lines(150..<350))  // a whole generation...
            rotation.rotate(writer, path: path, generation: 2)  // ...rotated away before the next poll
            writer.write(lines(350..<400))
            try await tailer.pollAndDrain()
            try await exporter.waitForNumbers(0..<400)

            // The next rotation must not read the older generations again.
            writer.write(lines(400..<420))
            rotation.rotate(writer, path: path, generation: 3)
            writer.write(lines(420..<450))
            for _ in 0..<3 { try await tailer.pollAndDrain() }  // a rotated file is let go after two idle polls
            try await exporter.waitForNumbers(0..<450)
            #expect(tailer.files.count == 1, "only the current 0.log stays open")
        }
    }

    /// Several generations missed at once are all read, and a rotated file that was already read
    /// whole (and let go) is not read again when it shows up next to a later rotation.
    @Test func severalMissedGenerationsAreReadAndFinishedOnesAreNotReadAgain() async throws {
        try await Self.tailing(0..<10) { tailer, exporter, log in
            let (writer, path) = (log.writer, log.path)
            writer.rotateByRename(to: path + ".1")
            writer.write(lines(10..<20))
            try await tailer.pollAndDrain()
            try await tailer.pollAndDrain()
            try await tailer.pollAndDrain()  // 0.log.1 read whole and let go
            try await exporter.waitForNumbers(0..<20)
            #expect(tailer.files.count == 1)

            for generation in 2...5 {
                writer.write(lines(generation * 10..<generation * 10 + 10))
                writer.rotateByRename(to: path + ".\(generation)")
            }
            writer.write(lines(60..<70))
            try await tailer.pollAndDrain()
            try await exporter.waitForNumbers(0..<70)
        }
    }

    /// Across a restart from a checkpoint: while the agent is down the tailed file is rotated, a whole
    /// generation is written and rotated away, and a new file takes the path.
    @Test(arguments: Naming.allCases)
    func aGenerationRotatedAwayWhileStoppedIsReadAfterTheRestart(naming: Naming) async throws {
        var checkpoints: [FileKey: AckLedger.Checkpoint] = [:]
        let log = try await Self.tailing(0..<100) { tailer, _, _ in
            #expect(await eventually { tailer.ledger.pendingChunks == 0 })
            checkpoints = Dictionary(uniqueKeysWithValues: tailer.ledger.snapshot().checkpoints.map { ($0.key, $0) })
        }
        let (writer, path) = (log.writer, log.path)
        writer.write(lines(100..<150))
        writer.rotateByRename(to: naming.name(path, 1))
        writer.write(lines(150..<350))
        writer.rotateByRename(to: naming.name(path, 2))
        writer.write(lines(350..<400))
        try await withTailer(filelogConfig(log.directory, startAtBeginning: false), restored: checkpoints) {
            tailer, exporter in
            try await tailer.pollAndDrain()
            try await exporter.waitForNumbers(100..<400)
        }
    }

    /// A pod container's `0.log` in a temporary directory (removed when the last reference goes).
    struct PodLog {
        let directory: TemporaryDirectory
        let path: String
        let writer: LogWriter

        init() throws {
            directory = try TemporaryDirectory()
            path = directory.file(RotationTests.podDirectory + "/0.log")
            writer = LogWriter(path)
        }
    }

    /// A `PodLog` holding lines `first`, and a step-driven tailer that has read them all; `body` goes on
    /// from there. Returns the log, for a restart over the same directory.
    @discardableResult
    static func tailing(
        _ first: Range<Int>, _ body: (Tailer, RecordingExporter, PodLog) async throws -> Void
    ) async throws -> PodLog {
        let log = try PodLog()
        log.writer.write(lines(first))
        try await withTailer(filelogConfig(log.directory)) { tailer, exporter in
            try await tailer.pollAndDrain()
            try await exporter.waitForNumbers(first)
            try await body(tailer, exporter, log)
        }
        return log
    }

    /// Rotated files that were there before the agent first looked (written before the tailed file, as
    /// a rotated file is) are not read, even when the tailed file is rotated later.
    @Test func rotatedFilesOlderThanTheTailedFileAreNotRead() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file(Self.podDirectory + "/0.log")
        let old = LogWriter(path + ".20261202-000000")
        old.write(lines(900..<910))
        let yesterday = timeval(tv_sec: time(nil) - 86_400, tv_usec: 0)
        let times = [yesterday, yesterday]
        #expect(utimes(path + ".20261202-000000", times) == 0)
        let writer = LogWriter(path)
        writer.write(lines(910..<920))
        try await withTailer(filelogConfig(directory, startAtBeginning: false)) { tailer, exporter in
            try await tailer.pollAndDrain()
            writer.write(lines(0..<10))
            writer.rotateByRename(to: path + ".20261203-000000")
            writer.write(lines(10..<20))
            try await tailer.pollAndDrain()
            try await exporter.waitForNumbers(0..<20)
            #expect(Set(exporter.records.compactMap(\.number)) == Set(0..<20))
        }
    }
}

/// CRI lines numbered by `range`, as one write.
func lines(_ range: Range<Int>) -> String {
    range.map { criLine($0) }.joined()
}

extension Tailer {
    /// One poll, then reads until no file has new bytes: what `run()` does between two poll ticks.
    func pollAndDrain() async throws {
        try await poll()
        while try await readRound() {}
    }
}

extension RecordingExporter {
    /// Waits until every number of `range` was exported (an event: the exporter's own continuation; the
    /// bound only catches a hang), then checks that none was lost or arrived twice.
    func waitForNumbers(_ range: Range<Int>, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        do {
            try await waitUntil("numbers \(range)") { recorded in
                let numbers = Set(recorded.records.compactMap(\.number))
                return range.allSatisfy { numbers.contains($0) }
            }
        } catch {
            Issue.record(error, sourceLocation: sourceLocation)
        }
        let counts = numberCounts(records)
        let lost = range.filter { counts[$0] == nil }
        #expect(
            lost.isEmpty, "lost \(lost.count), first: \(lost.first ?? -1), last: \(lost.last ?? -1)",
            sourceLocation: sourceLocation)
        let duplicated = counts.filter { $0.value > 1 }.keys.sorted()
        #expect(
            duplicated.isEmpty, "duplicated \(duplicated.count), first: \(duplicated.first ?? -1)",
            sourceLocation: sourceLocation)
    }
}

/// A pipeline and a tailer that only moves when the test says so (no `run()` loop, no poll clock).
func withTailer(
    _ configuration: FileLogReceiverConfiguration, restored: [FileKey: AckLedger.Checkpoint] = [:],
    _ body: (Tailer, RecordingExporter) async throws -> Void
) async throws {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let metrics = AgentMetrics()
    let pipeline = Pipeline(
        batch: .init(maxItems: 2048, maxBytes: 1 << 20, timeout: .milliseconds(20)), queue: .init(maxBytes: 8 << 20),
        metrics: metrics,
        splitter: { signal, bytes, maxBytes, maxItems in
            try OTLPWalker.split(signal: signal, body: bytes, maxBytes: maxBytes, maxItems: maxItems)
        })
    let exporter = collectingExporter()
    let service = PipelineService(
        pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .seconds(5),
        logger: logger)
    let tailer = Tailer(
        configuration: configuration, maxInFlightBytes: 8 << 20, pipeline: pipeline, ledger: AckLedger(changed: {}),
        restored: restored,
        metrics: metrics, logger: logger)
    let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body(tailer, exporter)
        } catch {
            tailer.closeAll()
            await group.triggerGracefulShutdown()
            throw error
        }
        tailer.closeAll()
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}
