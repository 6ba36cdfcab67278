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

/// `processors.hold` in the pipeline, on a manual clock: a chunk that waits is accepted at once (the
/// receiver's answer does not wait), kept out of the batches (and the enrich step) until it no longer
/// waits, its `hold` has passed, or the pipeline closes, and goes straight through near a full queue.
@Suite(.timeLimit(.minutes(5))) struct PipelineHoldTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Which chunks wait (by their first byte), and what the enrich step writes over the first byte.
    final class Rules: Sendable {
        let waiting = Mutex<Set<UInt8>>([])
        let learned = Mutex<UInt8?>(nil)
        func waits(_ signal: Signal, _ bytes: [UInt8]) -> Bool {
            signal == .traces && waiting.withLock { $0.contains(bytes.first ?? 0) }
        }
        func enrich(_ bytes: [UInt8]) -> [UInt8] {
            guard let value = learned.withLock({ $0 }) else { return bytes }
            return [value] + bytes.dropFirst()
        }
    }

    func make(
        _ rules: Rules, hold: Duration = .seconds(2), queue: QueueConfiguration = .init(), clock: TimerClock
    ) -> (Pipeline, PipelineService, RecordingExporter) {
        let exporter = RecordingExporter()
        let pipeline = Pipeline(
            batch: .init(maxItems: 1, timeout: .seconds(60)), queue: queue, metrics: AgentMetrics(),
            enricher: { _, bytes in rules.enrich(bytes) }, hold: hold, holdWaits: rules.waits, clock: clock)
        return (
            pipeline,
            PipelineService(
                pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .seconds(5), logger: logger),
            exporter
        )
    }

    @Test func waitsAtMostHoldWhileItsSenderIsAnsweredAtOnce() async throws {
        let rules = Rules()
        rules.waiting.withLock { $0 = [0xAA] }
        let time = ManualClock()
        let (pipeline, service, exporter) = make(rules, clock: time.clock)
        let acks = AckLog()
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            let answered = Mutex(false)
            let result = pipeline.offer(chunk(.traces, bytes: 10, items: 1, ack: acks.ack, fill: 0xAA)) {
                answered.withLock { $0 = true }
            }
            #expect(result == .accepted)
            #expect(answered.withLock { $0 }, "the receiver's answer does not wait for the hold")
            #expect(pipeline.heldItems == 1)
            #expect(pipeline.usedBytes == 10, "counted against max_bytes while it waits")
            // Spans that do not wait, and other signals, pass.
            #expect(pipeline.offer(chunk(.traces, bytes: 10, items: 1)) == .accepted)
            #expect(pipeline.offer(chunk(.logs, bytes: 10, items: 1, fill: 0xAA)) == .accepted)
            try await exporter.waitForBatches(2)
            try await time.waitForSleeps(1)  // the hold timer sleeps until the deadline
            #expect(time.sleeps == [.seconds(2)])
            time.advance(by: .milliseconds(1999))
            #expect(time.pendingSleepers == 1, "not due yet")
            #expect(pipeline.heldItems == 1 && acks.all.isEmpty)
            time.advance(by: .milliseconds(1))
            try await exporter.waitForBatches(3)
            try await acks.waitFor(1)
            #expect(acks.all == [.exported])
            #expect(exporter.batches.last?.body == [UInt8](repeating: 0xAA, count: 10))
            #expect(pipeline.heldItems == 0)
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func goesInAsSoonAsItNoLongerWaitsAndIsEnrichedThen() async throws {
        let rules = Rules()
        rules.waiting.withLock { $0 = [0xAA, 0xBB] }
        let time = ManualClock()
        let (pipeline, service, exporter) = make(rules, clock: time.clock)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            #expect(pipeline.offer(chunk(.traces, bytes: 10, items: 1, fill: 0xAA)) == .accepted)
            #expect(pipeline.offer(chunk(.traces, bytes: 10, items: 2, fill: 0xBB)) == .accepted)
            #expect(pipeline.heldItems == 3)
            // What it waited for is learned: the enrich step sees it, and only that chunk goes.
            rules.learned.withLock { $0 = 0x55 }
            rules.waiting.withLock { _ = $0.remove(0xAA) }
            pipeline.wakeHeld()
            try await exporter.waitForBatches(1)
            #expect(exporter.batches.first?.body.first == 0x55)
            #expect(exporter.batches.first?.itemCount == 1)
            #expect(pipeline.heldItems == 2)
            #expect(time.sleeps.allSatisfy { $0 == .seconds(2) }, "released by the wake, not by a deadline")
            trigger.triggerGracefulShutdown()
            try await run
        }
    }

    @Test func shutdownLetsHeldChunksInFirst() async throws {
        let rules = Rules()
        rules.waiting.withLock { $0 = [0xAA] }
        let (pipeline, service, exporter) = make(rules, hold: .seconds(3600), clock: ManualClock().clock)
        let acks = AckLog()
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for _ in 0..<3 {
                #expect(pipeline.offer(chunk(.traces, bytes: 10, items: 1, ack: acks.ack, fill: 0xAA)) == .accepted)
            }
            #expect(pipeline.heldItems == 3)
            trigger.triggerGracefulShutdown()
            try await run
        }
        #expect(exporter.items == 3)
        #expect(acks.all == [.exported, .exported, .exported])
        #expect(pipeline.heldItems == 0 && pipeline.usedBytes == 0)
        #expect(pipeline.offer(chunk(.traces, bytes: 10, items: 1, fill: 0xAA)) == .closed)
    }

    @Test func nothingWaitsNearAFullQueueOrWithHoldZero() {
        let rules = Rules()
        rules.waiting.withLock { $0 = [0xAA] }
        let (pipeline, _, _) = make(rules, queue: .init(maxBytes: 100), clock: ManualClock().clock)
        #expect(pipeline.holds)
        #expect(pipeline.offer(chunk(.traces, bytes: 40, items: 1, fill: 0xAA)) == .accepted)
        #expect(pipeline.heldItems == 1)
        // 40 + 20 > half of 100: straight through.
        #expect(pipeline.offer(chunk(.traces, bytes: 20, items: 1, fill: 0xAA)) == .accepted)
        #expect(pipeline.heldItems == 1)
        #expect(pipeline.usedBytes == 60)

        let (off, _, _) = make(rules, hold: .zero, clock: ManualClock().clock)
        #expect(!off.holds)
        #expect(off.offer(chunk(.traces, bytes: 10, items: 1, fill: 0xAA)) == .accepted)
        #expect(off.heldItems == 0)
    }
}
