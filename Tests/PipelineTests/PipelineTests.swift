import FluxtelConfig
import FluxtelTestSupport
import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(5))) struct PipelineTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func makeService(
        _ batch: BatchConfiguration, queue: QueueConfiguration = .init(), _ exporter: any BatchExporter,
        splitter: ChunkSplitter? = nil, drain: Duration = .seconds(5), clock: TimerClock = .continuous
    )
        -> (Pipeline, PipelineService)
    {
        let pipeline = Pipeline(batch: batch, queue: queue, metrics: AgentMetrics(), splitter: splitter, clock: clock)
        return (
            pipeline,
            PipelineService(pipeline: pipeline, exporters: [exporter], workers: 2, drainTimeout: drain, logger: logger)
        )
    }

    @Test func sealsOnMaxItemsWithoutWaitingForTheTimer() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(.init(maxItems: 3, timeout: .seconds(60)), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<3 { #expect(pipeline.offer(chunk(bytes: 10, items: 1)) == .accepted) }
            try await exporter.waitForBatches(1)
            #expect(exporter.batches.first?.itemCount == 3)
            #expect(exporter.batches.first?.body.count == 30)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    /// `batchesSealed` (the malloc trimmer's measure of work) counts every batch sealed, of any signal.
    @Test func countsTheBatchesItSeals() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(.init(maxItems: 2, timeout: .seconds(60)), exporter)
        #expect(pipeline.batchesSealed == 0)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<4 { _ = pipeline.offer(chunk(.logs, bytes: 10, items: 1)) }
            _ = pipeline.offer(chunk(.traces, bytes: 10, items: 2))
            try await exporter.waitForBatches(3)
            #expect(pipeline.batchesSealed == 3)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func sealsOnMaxBytesAndKeepsSignalsApart() async throws {
        let exporter = RecordingExporter()
        let (pipeline, service) = makeService(
            .init(maxItems: 1000, maxBytes: 100, timeout: .seconds(60)), exporter)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            _ = pipeline.offer(chunk(.logs, bytes: 60, items: 1))
            _ = pipeline.offer(chunk(.traces, bytes: 60, items: 1))
            _ = pipeline.offer(chunk(.logs, bytes: 60, items: 1))  // 120 > 100: seals the first logs batch
            try await exporter.waitForBatches(1)
            #expect(exporter.batches.first?.signal == .logs && exporter.batches.first?.body.count == 60)
            trigger.triggerGracefulShutdown()
            try await run
            // the shutdown flush sent the rest: one traces batch and one logs batch
            #expect(exporter.batches.count == 3)
            #expect(exporter.batches.map(\.itemCount).reduce(0, +) == 3)
        }
    }

    /// The batch timer runs on a manual clock: the partial batch is sealed exactly when the clock
    /// reaches `batchTimeout`, not before.
    @Test func timeoutSealsAPartialBatch() async throws {
        let exporter = RecordingExporter()
        let time = ManualClock()
        let (pipeline, service) = makeService(
            .init(maxItems: 1000, timeout: .milliseconds(50)), exporter, clock: time.clock)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            _ = pipeline.offer(chunk(bytes: 10, items: 2))
            try await time.waitForSleeps(1)  // the timer sleeps until the batch is due
            #expect(time.sleeps == [.milliseconds(50)])
            time.advance(by: .milliseconds(49))
            #expect(time.pendingSleepers == 1, "not due yet: the timer still sleeps")
            #expect(exporter.calls == 0)
            time.advance(by: .milliseconds(1))
            try await exporter.waitForBatches(1)
            #expect(exporter.batches.first?.itemCount == 2)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func queueIsBoundedInBytesAndSubmitWaitsForSpace() async throws {
        let exporter = RecordingExporter(paused: true)
        let (pipeline, service) = makeService(
            .init(maxItems: 1, maxBytes: 100, timeout: .seconds(60)), queue: .init(maxBytes: 250), exporter)
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
            // Both workers hold a batch in the stuck exporter: nothing can free space, so the
            // submitter cannot have got in, however long it ran.
            try await exporter.waitForHeld(2)
            #expect(pipeline.usedBytes == 200)
            #expect(submitted.withLock { $0 } == false)  // pushed back while the exporter is stuck
            exporter.resume()
            try await awaitBounded("the pushed-back submit") { try await submitter.value }
            try await exporter.waitForBatches(3)
            #expect(await eventually { pipeline.usedBytes == 0 })
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func acknowledgesEachChunkWithItsBatchOutcome() async throws {
        let exporter = RecordingExporter(outcomes: [.rejected, .exported])
        let (pipeline, service) = makeService(.init(maxItems: 2, timeout: .seconds(60)), exporter)
        let acks = AckLog()
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<4 { _ = pipeline.offer(chunk(bytes: 10, items: 1, ack: acks.ack)) }
            try await acks.waitFor(4)
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
        let (pipeline, service) = makeService(
            .init(maxItems: 100, maxBytes: 100, timeout: .seconds(60)), exporter, splitter: splitter)
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
        let (pipeline, service) = makeService(.init(maxItems: 1000, timeout: .seconds(3600)), exporter)
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
        let exporter = RecordingExporter(paused: true)  // never resumed: only the drain deadline ends the exports
        let (pipeline, service) = makeService(
            .init(maxItems: 1, timeout: .seconds(60)), exporter, drain: .milliseconds(200))
        let acks = AckLog()
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<3 { _ = pipeline.offer(chunk(bytes: 10, items: 1, ack: acks.ack)) }
            try await exporter.waitForHeld(2)
            trigger.triggerGracefulShutdown()
            // Returns only because the deadline cancelled the stuck exports (the suite's time limit catches a hang).
            try await run
        }
        #expect(exporter.batchCount == 0)
        #expect(acks.all == [.failed, .failed, .failed])
        #expect(pipeline.usedBytes == 0)
    }

    /// Memory follows the bytes the queue counts: a batch filled to `maxBatchBytes` is built in one
    /// allocation (no doubling past the limit: 42 KB chunks used to leave a 5.4 MB buffer behind a
    /// 4 MiB batch), and a batch sealed early keeps a right-sized copy, not a whole batch's capacity.
    @Test func batchCapacityFollowsItsBytes() async throws {
        let exporter = RecordingExporter()
        let maxBytes = 4 << 20
        let time = ManualClock()
        let (pipeline, service) = makeService(
            .init(maxItems: 100_000, maxBytes: maxBytes, timeout: .milliseconds(50)), queue: .init(maxBytes: 64 << 20),
            exporter,
            clock: time.clock)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            // 100 chunks of 42,000 bytes: the 100th does not fit, so the first batch seals with 99 of them.
            for _ in 0..<100 { #expect(pipeline.offer(chunk(.traces, bytes: 42_000, items: 100)) == .accepted) }
            try await exporter.waitForBatches(1)  // sealed by size
            try await time.waitForSleeps(1)
            time.advance(by: .milliseconds(50))
            try await exporter.waitForBatches(2)  // the second by the timer, holding one chunk
            let full = try #require(exporter.batches.first { $0.body.count == 99 * 42_000 })
            #expect(full.body.capacity <= maxBytes + 4096)  // malloc's rounding to pages, never a doubling
            let small = try #require(exporter.batches.first { $0.body.count == 42_000 })
            #expect(small.body.capacity < 2 * 42_000 + (64 << 10))
            // a trickle: one 300-byte span per batch keeps 300 bytes, not 4 MiB
            #expect(pipeline.offer(chunk(.traces, bytes: 300, items: 1)) == .accepted)
            try await time.waitForSleeps(2)
            time.advance(by: .milliseconds(50))
            try await exporter.waitForBatches(3)
            #expect(exporter.batches[2].body.count == 300 && exporter.batches[2].body.capacity < 64 << 10)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }
}
