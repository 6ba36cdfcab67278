import FluxtelConfig
import FluxtelTestSupport
import Glibc
import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@testable import PersistentQueue

/// A fresh directory under /tmp for one test.
func temporaryDirectory(_ name: String = #function) -> String {
    var template = Array("/tmp/fluxtel-diskq-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil)
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

func segmentFiles(_ directory: String) -> [String] {
    ((try? SegmentIO.list(directory)) ?? []).filter { $0.hasSuffix(".seg") }.sorted()
}

func fileSize(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_size) : -1
}

/// The value of one sample line (`name{labels}`) in the exposition, 0 when absent.
func sample(_ metrics: AgentMetrics, _ series: String) -> Double {
    let text = String(decoding: metrics.render(), as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.split(separator: " ").last!) ?? -1
    }
    return 0
}

/// A wall clock tests move by hand.
final class ManualWallClock: Sendable {
    let now = Mutex<Int64>(1_800_000_000_000_000_000)
    var clock: DiskQueue.WallClock { { self.now.withLock { $0 } } }
    func advance(_ duration: Duration) { now.withLock { $0 += Int64(duration.components.seconds) * 1_000_000_000 } }
}

@Suite struct DiskQueueTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func open(
        _ directory: String, maxBytes: Int = 1 << 20, policy: QueueConfiguration.FullPolicy = .backpressure,
        segmentBytes: Int? = nil, maxAge: Duration = .seconds(6 * 3600), clock: DiskQueue.WallClock? = nil,
        sync: QueueConfiguration.Sync = .batch, syncInterval: Duration = .seconds(1),
        metrics: AgentMetrics = AgentMetrics()
    ) throws -> DiskQueue {
        try DiskQueue(
            configuration: QueueConfiguration(
                maxBytes: maxBytes, directory: directory, sync: sync, syncInterval: syncInterval, fullPolicy: policy,
                maxAge: maxAge),
            segmentBytes: segmentBytes, metrics: metrics, logger: logger, wallClock: clock ?? DiskQueue.systemWallClock)
    }

    func pipeline(_ disk: DiskQueue, items: Int = 1000, metrics: AgentMetrics? = nil) -> Pipeline {
        Pipeline(
            batch: .init(maxItems: items, timeout: .milliseconds(20)), metrics: metrics ?? disk.metrics, store: disk)
    }

    func service(_ pipeline: Pipeline, _ exporter: any BatchExporter) -> PipelineService {
        PipelineService(
            pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .seconds(5), logger: logger)
    }

    /// Runs the pipeline until `condition`, then shuts it down gracefully.
    func run(
        _ pipeline: Pipeline, _ exporter: any BatchExporter, until condition: @escaping () -> Bool
    ) async throws -> Bool {
        let service = self.service(pipeline, exporter)
        var met = false
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            met = await eventually(.seconds(30), condition)
            trigger.triggerGracefulShutdown()
            try await run
        }
        return met
    }

    @Test func appendedChunksReplayInOrderAfterARestart() async throws {
        let directory = temporaryDirectory()
        do {
            let disk = try open(directory, segmentBytes: 4096)
            let pipeline = self.pipeline(disk)
            for i in 0..<30 {
                #expect(
                    pipeline.offer(chunk(i % 2 == 0 ? .logs : .traces, bytes: 300, items: 1, fill: UInt8(i)))
                        == .accepted)
            }
            disk.flush()
            #expect(segmentFiles(directory).count > 1, "small segments roll")
            // no export ran: a "crash" leaves everything on disk
        }
        let metrics = AgentMetrics()
        let disk = try open(directory, segmentBytes: 4096, metrics: metrics)
        #expect(disk.liveRecords == 30)
        #expect(sample(metrics, #"fluxtel_queue_replayed_items_total{signal="logs"}"#) == 15)
        let exporter = RecordingExporter()
        let pipeline = self.pipeline(disk)
        #expect(try await run(pipeline, exporter) { exporter.batches.reduce(0) { $0 + $1.itemCount } == 30 })
        for signal in [Signal.logs, .traces] {
            let bodies = exporter.batches.filter { $0.signal == signal }.flatMap(\.body)
            let expected = (0..<30).filter { ($0 % 2 == 0) == (signal == .logs) }.flatMap {
                [UInt8](repeating: UInt8($0), count: 300)
            }
            #expect(bodies == expected, "\(signal) in append order")
        }
    }

    @Test func exportedSegmentsAreDeleted() async throws {
        let directory = temporaryDirectory()
        let disk = try open(directory, segmentBytes: 4096)
        let pipeline = self.pipeline(disk, items: 5)
        for i in 0..<40 { #expect(pipeline.offer(chunk(bytes: 500, items: 1, fill: UInt8(i))) == .accepted) }
        #expect(segmentFiles(directory).count >= 4)
        let exporter = RecordingExporter()
        #expect(try await run(pipeline, exporter) { disk.liveRecords == 0 })
        #expect(exporter.batches.reduce(0) { $0 + $1.itemCount } == 40)
        // Only the segment being appended to may remain; a restart finds nothing to send.
        #expect(segmentFiles(directory).count <= 1)
        #expect(try open(directory).liveRecords == 0)
    }

    /// Exported records are marked released in place: a restart replays exactly what was not
    /// exported, including what a shutdown interrupted, even though their segment still exists.
    @Test func aRestartReplaysOnlyWhatWasNotExported() async throws {
        let directory = temporaryDirectory()
        do {
            let disk = try open(directory)
            let pipeline = self.pipeline(disk, items: 1)
            for i in 0..<10 { #expect(pipeline.offer(chunk(bytes: 200, items: 1, fill: UInt8(i))) == .accepted) }
            // Exports five batches, then holds the rest until cancelled.
            let exporter = RecordingExporter(pauseAfter: 5)
            let service = PipelineService(
                pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .milliseconds(100),
                logger: logger)
            try await testGracefulShutdown { trigger in
                async let run: Void = service.run()
                try await exporter.waitForHeld(1)  // five exported, the sixth reached the exporter and is held
                trigger.triggerGracefulShutdown()
                try await run
            }
            #expect(exporter.batches.map { $0.body[0] } == [0, 1, 2, 3, 4])
            #expect(segmentFiles(directory).count == 1, "one segment: it cannot be deleted, its records are marked")
        }
        let disk = try open(directory)
        #expect(disk.liveRecords == 5)
        let exporter = RecordingExporter()
        #expect(try await run(pipeline(disk), exporter) { disk.liveRecords == 0 })
        let sent = exporter.batches.flatMap(\.body)
        let expected = [UInt8](5...9).flatMap { [UInt8](repeating: $0, count: 200) }
        #expect(sent.count == expected.count)
        #expect(sent == expected, "records 5...9, each once, in order")
    }

    @Test func tornTailIsTruncatedReportedAndStartContinues() throws {
        let directory = temporaryDirectory()
        do {
            let disk = try open(directory)
            let pipeline = self.pipeline(disk)
            for i in 0..<3 { #expect(pipeline.offer(chunk(bytes: 100, items: 2, fill: UInt8(i))) == .accepted) }
        }
        let file = directory + "/" + segmentFiles(directory)[0]
        let record = SegmentRecord.overhead + 100
        #expect(fileSize(file) == 3 * record)
        #expect(truncate(file, off_t(3 * record - 40)) == 0)  // power loss in the middle of the third record
        let metrics = AgentMetrics()
        let disk = try open(directory, metrics: metrics)
        let replayed = disk.takeReplayed()
        #expect(replayed.map(\.items) == [2, 2])
        #expect(fileSize(file) == 2 * record)
        #expect(sample(metrics, #"fluxtel_queue_corruptions_total{reason="torn_tail"}"#) == 1)
        #expect(sample(metrics, "fluxtel_queue_corrupt_bytes_total") == Double(record - 40))
    }

    @Test func flippedCRCByteCutsTheSegmentAndLaterSegmentsStillReplay() throws {
        let directory = temporaryDirectory()
        do {
            let disk = try open(directory, segmentBytes: 4096)
            let pipeline = self.pipeline(disk)
            for i in 0..<12 { #expect(pipeline.offer(chunk(bytes: 1000, items: 1, fill: UInt8(i))) == .accepted) }
        }
        let files = segmentFiles(directory)
        #expect(files.count == 3, "\(files)")  // 4 records of 1021 bytes per 4 KiB segment
        let first = directory + "/" + files[0]
        let record = SegmentRecord.overhead + 1000
        // flip one byte of the second record's CRC
        let fd = Glibc.open(first, O_RDWR)
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, off_t(record + 5))
        byte ^= 0xFF
        _ = pwrite(fd, &byte, 1, off_t(record + 5))
        Glibc.close(fd)
        let metrics = AgentMetrics()
        let disk = try open(directory, segmentBytes: 4096, metrics: metrics)
        let replayed = disk.takeReplayed()
        #expect(replayed.count == 1 + 4 + 4)  // the first record, then the two later segments whole
        #expect(fileSize(first) == record)
        #expect(sample(metrics, #"fluxtel_queue_corruptions_total{reason="corrupt_record"}"#) == 1)
        #expect(sample(metrics, "fluxtel_queue_corrupt_bytes_total") == Double(3 * record))
    }

    @Test func dropOldestMakesRoomAndCounts() async throws {
        let directory = temporaryDirectory()
        let record = SegmentRecord.overhead + 1000
        let disk = try open(directory, maxBytes: 4 * record, policy: .dropOldest, segmentBytes: record)
        let pipeline = self.pipeline(disk, items: 1)
        for i in 0..<10 { #expect(pipeline.offer(chunk(bytes: 1000, items: 1, fill: UInt8(i))) == .accepted) }
        #expect(disk.diskBytes <= 4 * record)
        #expect(sample(disk.metrics, #"fluxtel_queue_dropped_items_total{signal="logs",reason="full"}"#) == 6)
        let exporter = RecordingExporter()
        #expect(try await run(pipeline, exporter) { exporter.batches.count == 4 })
        #expect(exporter.batches.map { $0.body[0] } == [6, 7, 8, 9], "the newest four survive, in order")
    }

    @Test func backpressureRefusesWhenFullAndSubmitWaits() async throws {
        let directory = temporaryDirectory()
        let record = SegmentRecord.overhead + 1000
        let disk = try open(directory, maxBytes: 4 * record, segmentBytes: record)
        let pipeline = self.pipeline(disk, items: 1)
        for i in 0..<4 { #expect(pipeline.offer(chunk(bytes: 1000, items: 1, fill: UInt8(i))) == .accepted) }
        #expect(pipeline.offer(chunk(bytes: 1000, items: 1, fill: 4)) == .full)
        let exporter = RecordingExporter()
        let service = self.service(pipeline, exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            try await pipeline.submit(chunk(bytes: 1000, items: 1, fill: 4))  // waits until a segment is exported
            try await exporter.waitForBatches(5)
            trigger.triggerGracefulShutdown()
            try await run
        }
        #expect(exporter.batches.map { $0.body[0] } == [0, 1, 2, 3, 4])
    }

    @Test func recordsOlderThanMaxAgeAreDroppedNotSent() async throws {
        let directory = temporaryDirectory()
        let clock = ManualWallClock()
        let disk = try open(directory, maxAge: .seconds(6 * 3600), clock: clock.clock)
        let pipeline = self.pipeline(disk, items: 1)
        for i in 0..<3 { #expect(pipeline.offer(chunk(bytes: 100, items: 4, fill: UInt8(i))) == .accepted) }
        clock.advance(.seconds(6 * 3600 + 1))
        #expect(pipeline.offer(chunk(bytes: 100, items: 1, fill: 9)) == .accepted)
        let exporter = RecordingExporter()
        #expect(try await run(pipeline, exporter) { disk.liveRecords == 0 })
        #expect(exporter.batches.map { $0.body[0] } == [9])
        #expect(sample(disk.metrics, #"fluxtel_queue_dropped_items_total{signal="logs",reason="expired"}"#) == 12)
    }

    @Test func writeFailureRefusesThenRecovers() throws {
        let directory = temporaryDirectory()
        let disk = try open(directory, segmentBytes: 4096)
        let pipeline = self.pipeline(disk)
        #expect(pipeline.offer(chunk(bytes: 3000, items: 1)) == .accepted)
        // The next segments cannot be created: their names are taken by directories. The append is
        // tried in a fresh segment once, then refused (backpressure); nothing queued is touched.
        let blocked = [DiskQueue.path(directory, 2), DiskQueue.path(directory, 3)]
        for path in blocked { #expect(mkdir(path, 0o755) == 0) }
        #expect(pipeline.offer(chunk(bytes: 3000, items: 1)) == .full)
        #expect(sample(disk.metrics, "fluxtel_queue_write_errors_total") == 2)
        #expect(disk.liveRecords == 1)
        for path in blocked { #expect(rmdir(path) == 0) }
        #expect(pipeline.offer(chunk(bytes: 3000, items: 1)) == .accepted)
        #expect(disk.liveRecords == 2)
    }

    @Test func acknowledgementIsPersistedOnlyOnceDurable() async throws {
        let directory = temporaryDirectory()
        let disk = try open(directory)
        let pipeline = self.pipeline(disk)
        let acks = AckLog()
        let queued = Mutex(0)
        #expect(
            pipeline.offer(chunk(bytes: 100, items: 1, ack: acks.ack), queued: { queued.withLock { $0 += 1 } })
                == .accepted)
        #expect(acks.all.isEmpty && queued.withLock { $0 } == 0, "nothing is durable before the fsync")
        disk.flush()
        #expect(acks.all == [.persisted])
        #expect(queued.withLock { $0 } == 1)
    }
}

extension DiskQueueTests {
    /// `sync: interval`: acknowledged once written to the file (it survives kill -9), fsync later.
    @Test func intervalSyncAcknowledgesOnceWritten() throws {
        let disk = try open(temporaryDirectory(), sync: .interval, syncInterval: .seconds(3600))
        let pipeline = self.pipeline(disk)
        let acks = AckLog()
        #expect(pipeline.offer(chunk(bytes: 100, items: 1, ack: acks.ack)) == .accepted)
        #expect(acks.all == [.persisted])
        #expect(disk.liveRecords == 1)
    }
}
