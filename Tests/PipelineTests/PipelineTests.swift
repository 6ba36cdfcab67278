import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// Records every batch; answers with a scripted outcome; can be made to block.
final class RecordingExporter: BatchExporter {
    let name = "recording"
    private let state = Mutex<(batches: [ExportBatch], outcomes: [DeliveryOutcome], gate: Bool)>(([], [], false))
    init(outcomes: [DeliveryOutcome] = [], blocked: Bool = false) {
        state.withLock { $0.outcomes = outcomes; $0.gate = blocked }
    }
    var batches: [ExportBatch] { state.withLock { $0.batches } }
    func unblock() { state.withLock { $0.gate = false } }
    func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        while state.withLock({ $0.gate }) {
            if Task.isCancelled { return .failed }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return state.withLock { state in
            state.batches.append(batch)
            return state.outcomes.isEmpty ? .exported : state.outcomes.removeFirst()
        }
    }
    func shutdown() async {}
}

/// A framed chunk of `n` bytes (content irrelevant to the pipeline).
func chunk(_ signal: Signal = .logs, bytes: Int, items: Int, ack: Acknowledgement? = nil, fill: UInt8 = 0x0A) -> TelemetryChunk {
    TelemetryChunk(signal: signal, bytes: [UInt8](repeating: fill, count: bytes), itemCount: items, acknowledgement: ack)
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

final class AckLog: Sendable {
    let outcomes = Mutex<[DeliveryOutcome]>([])
    var ack: Acknowledgement { Acknowledgement { outcome in self.outcomes.withLock { $0.append(outcome) } } }
    var all: [DeliveryOutcome] { outcomes.withLock { $0 } }
}

@Suite struct PipelineTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func makeService(_ config: PipelineConfiguration, _ exporter: any BatchExporter, splitter: ChunkSplitter? = nil, drain: Duration = .seconds(5))
        -> (Pipeline, PipelineService)
    {
        let pipeline = Pipeline(configuration: config, metrics: AgentMetrics(), splitter: splitter)
        return (pipeline, PipelineService(pipeline: pipeline, exporters: [exporter], workers: 2, drainTimeout: drain, logger: logger))
    }

    @Test func sealsOnMaxItemsWithoutWaitingForTheTimer() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(.init(maxBatchItems: 3, batchTimeout: .seconds(60)), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<3 { #expect(pipeline.offer(chunk(bytes: 10, items: 1)) == .accepted) }
            #expect(await eventually { exporter.batches.count == 1 })
            #expect(exporter.batches.first?.itemCount == 3)
            #expect(exporter.batches.first?.body.count == 30)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func sealsOnMaxBytesAndKeepsSignalsApart() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(.init(maxBatchItems: 1000, maxBatchBytes: 100, batchTimeout: .seconds(60)), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            _ = pipeline.offer(chunk(.logs, bytes: 60, items: 1))
            _ = pipeline.offer(chunk(.traces, bytes: 60, items: 1))
            _ = pipeline.offer(chunk(.logs, bytes: 60, items: 1))  // 120 > 100: seals the first logs batch
            #expect(await eventually { exporter.batches.count == 1 })
            #expect(exporter.batches[0].signal == .logs && exporter.batches[0].body.count == 60)
            trigger.triggerGracefulShutdown()
            try await run
            // the shutdown flush sent the rest: one traces batch and one logs batch
            #expect(exporter.batches.count == 3)
            #expect(exporter.batches.map(\.itemCount).reduce(0, +) == 3)
        }
    }

    @Test func timeoutSealsAPartialBatch() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(.init(maxBatchItems: 1000, batchTimeout: .milliseconds(50)), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            let start = ContinuousClock.now
            _ = pipeline.offer(chunk(bytes: 10, items: 2))
            #expect(await eventually { exporter.batches.count == 1 })
            #expect(ContinuousClock.now - start >= .milliseconds(50))
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func queueIsBoundedInBytesAndSubmitWaitsForSpace() async throws {
        let exporter = RecordingExporter(blocked: true)
        let (pipeline, service) = makeService(
            .init(maxBatchItems: 1, maxBatchBytes: 100, batchTimeout: .seconds(60), queueMaxBytes: 250), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            #expect(pipeline.offer(chunk(bytes: 100, items: 1)) == .accepted)
            #expect(pipeline.offer(chunk(bytes: 100, items: 1)) == .accepted)
            #expect(pipeline.offer(chunk(bytes: 100, items: 1)) == .full)
            #expect(pipeline.usedBytes == 200)
            let submitted = Mutex(false)
            let submitter = Task {
                try await pipeline.submit(chunk(bytes: 100, items: 1))
                submitted.withLock { $0 = true }
            }
            try await Task.sleep(for: .milliseconds(50))
            #expect(submitted.withLock { $0 } == false)  // pushed back while the exporter is stuck
            exporter.unblock()
            try await submitter.value
            #expect(await eventually { exporter.batches.count == 3 })
            #expect(await eventually { pipeline.usedBytes == 0 })
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func acknowledgesEachChunkWithItsBatchOutcome() async throws {
        let exporter = RecordingExporter(outcomes: [.rejected, .exported])
        let (pipeline, service) = makeService(.init(maxBatchItems: 2, batchTimeout: .seconds(60)), exporter)
        let acks = AckLog()
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<4 { _ = pipeline.offer(chunk(bytes: 10, items: 1, ack: acks.ack)) }
            #expect(await eventually { acks.all.count == 4 })
            #expect(acks.all.filter { $0 == .rejected }.count == 2)
            #expect(acks.all.filter { $0 == .exported }.count == 2)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func oversizeChunkIsSplitNotDroppedAndAcknowledgedOnce() async throws {
        let exporter = RecordingExporter()
        // A fake splitter: cuts the bytes in pieces of maxBytes, one item each.
        let splitter: ChunkSplitter = { _, bytes, maxBytes, _ in
            stride(from: 0, to: bytes.count, by: maxBytes).map { start in
                (Array(bytes[start..<min(bytes.count, start + maxBytes)]), 1)
            }
        }
        let (pipeline, service) = makeService(.init(maxBatchItems: 100, maxBatchBytes: 100, batchTimeout: .seconds(60)), exporter, splitter: splitter)
        let acks = AckLog()
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            #expect(pipeline.offer(chunk(bytes: 350, items: 4, ack: acks.ack)) == .accepted)
            trigger.triggerGracefulShutdown()
            try await run
        }
        #expect(exporter.batches.map(\.body.count) == [100, 100, 100, 50])
        #expect(acks.all == [.exported])
    }

    @Test func gracefulShutdownFlushesOpenBatchesAndRefusesNewOnes() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(.init(maxBatchItems: 1000, batchTimeout: .seconds(3600)), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            _ = pipeline.offer(chunk(.traces, bytes: 10, items: 5))
            _ = pipeline.offer(chunk(.metrics, bytes: 10, items: 7))
            trigger.triggerGracefulShutdown()
            try await run
        }
        #expect(exporter.batches.map(\.itemCount).sorted() == [5, 7])
        #expect(pipeline.offer(chunk(bytes: 1, items: 1)) == .closed)
        await #expect(throws: PipelineClosedError.self) { try await pipeline.submit(chunk(bytes: 1, items: 1)) }
    }

    @Test func drainDeadlineFailsWhatIsStuck() async throws {
        let exporter = RecordingExporter(blocked: true)
        let (pipeline, service) = makeService(.init(maxBatchItems: 1, batchTimeout: .seconds(60)), exporter, drain: .milliseconds(200))
        let acks = AckLog()
        let start = ContinuousClock.now
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<3 { _ = pipeline.offer(chunk(bytes: 10, items: 1, ack: acks.ack)) }
            trigger.triggerGracefulShutdown()
            try await run
        }
        #expect(ContinuousClock.now - start < .seconds(20))  // the exporter never returns by itself: only the deadline ends it
        #expect(acks.all == [.failed, .failed, .failed])
        #expect(pipeline.usedBytes == 0)
    }

    /// Memory follows the bytes the queue counts: a batch filled to `maxBatchBytes` is built in one
    /// allocation (no doubling past the limit: 42 KB chunks used to leave a 5.4 MB buffer behind a
    /// 4 MiB batch), and a batch sealed early keeps a right-sized copy, not a whole batch's capacity.
    @Test func batchCapacityFollowsItsBytes() async throws {
        let exporter = RecordingExporter()
        let maxBytes = 4 << 20
        let (pipeline, service) = makeService(
            .init(maxBatchItems: 100_000, maxBatchBytes: maxBytes, batchTimeout: .milliseconds(50), queueMaxBytes: 64 << 20), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            // 100 chunks of 42,000 bytes: the 100th does not fit, so the first batch seals with 99 of them.
            for _ in 0..<100 { #expect(pipeline.offer(chunk(.traces, bytes: 42_000, items: 100)) == .accepted) }
            #expect(await eventually { exporter.batches.count == 2 })  // the second by the timer, holding one chunk
            let full = try #require(exporter.batches.first { $0.body.count == 99 * 42_000 })
            #expect(full.body.capacity <= maxBytes + 4096)  // malloc's rounding to pages, never a doubling
            let small = try #require(exporter.batches.first { $0.body.count == 42_000 })
            #expect(small.body.capacity < 2 * 42_000 + (64 << 10))
            // a trickle: one 300-byte span per batch keeps 300 bytes, not 4 MiB
            #expect(pipeline.offer(chunk(.traces, bytes: 300, items: 1)) == .accepted)
            #expect(await eventually { exporter.batches.count == 3 })
            #expect(exporter.batches[2].body.count == 300 && exporter.batches[2].body.capacity < 64 << 10)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }
}
