import FluxtelConfig
import FluxtelTestSupport
import Logging
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import Synchronization
import Testing

@testable import FileLogReceiver

@Suite struct InFlightBudgetTests {
    @Test func acquireWaitsForReleaseAndOversizePassesAlone() async throws {
        let budget = InFlightBudget(limit: 100)
        try await budget.acquire(60)
        try await budget.acquire(40)
        #expect(budget.held == 100)
        let taken = Mutex(false)
        let started = Mutex(false)
        let waiter = Task {
            started.withLock { $0 = true }
            try await budget.acquire(50)
            taken.withLock { $0 = true }
        }
        // Only `release` can let the waiter in: nothing is released yet, whenever it runs.
        #expect(await eventually { started.withLock { $0 } })
        #expect(taken.withLock { $0 } == false)
        #expect(budget.held == 100)
        budget.release(40)  // 60 + 50 > 100: still waiting
        #expect(taken.withLock { $0 } == false)
        #expect(budget.held == 60)
        budget.release(60)
        try await awaitBounded("the waiting acquire") { try await waiter.value }
        #expect(taken.withLock { $0 } == true)
        #expect(budget.held == 50)
        budget.release(50)
        try await budget.acquire(500)  // larger than the whole budget: passes when nothing is held
        #expect(budget.held == 500)
    }

    @Test func cancelledWaitTakesNothing() async throws {
        let budget = InFlightBudget(limit: 10)
        try await budget.acquire(10)
        let started = Mutex(false)
        let waiter = Task {
            started.withLock { $0 = true }
            try await budget.acquire(5)
        }
        #expect(await eventually { started.withLock { $0 } })  // waiting, or about to: cancelled either way
        waiter.cancel()
        await #expect(throws: CancellationError.self) {
            try await awaitBounded("the cancelled acquire") { try await waiter.value }
        }
        budget.release(10)
        #expect(budget.held == 0)
    }

    /// The tailer holds at most its budget in the pipeline while the exporter is stuck (the file is the
    /// buffer): a 4 MiB file no longer fills an 8 MiB queue that the span and metric receivers share.
    /// Once the exporter returns, every line arrives.
    @Test func tailerHoldsAtMostItsBudgetInThePipeline() async throws {
        let directory = try TemporaryDirectory()
        let writer = LogWriter(
            directory.file(
                "pods/flux-system_kustomize-controller-5f7457c9dd-9xvxq_5b1c3c2e-0000-4000-8000-000000000001/manager/0.log"
            ))
        let total = 16_000  // ≈ 4 MB of CRI lines
        var text = ""
        for n in 0..<total {
            text += criLine(n)
            if n % 1000 == 999 {
                writer.write(text)
                text = ""
            }
        }
        let config = filelogConfig(directory)
        let exporter = collectingExporter()
        exporter.pause()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let metrics = AgentMetrics()
        let pipeline = Pipeline(
            batch: .init(maxItems: 100_000, maxBytes: 32 << 10, timeout: .milliseconds(50)),
            queue: .init(maxBytes: 8 << 20), metrics: metrics)
        let service = PipelineService(
            pipeline: pipeline, exporters: [exporter], workers: 2, drainTimeout: .seconds(5), logger: logger)
        let receiver = FileLogReceiver(
            configuration: config, shutdownWait: .seconds(5), maxInFlightBytes: 64 << 10, readSize: 16 << 10,
            pipeline: pipeline, metrics: metrics, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service), .init(service: receiver)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // With the exporter stuck nothing is released, so what the pipeline holds only grows: wait
            // until the tailer has used its budget (no further chunk of up to 24 KiB fits: the tailer
            // now waits for a release), then check it went no further: at most the budget plus the one
            // chunk that may pass when nothing else is held (a 16 KiB read). The 4 MB file would fill it.
            #expect(await eventually { pipeline.usedBytes > (64 << 10) - (24 << 10) })
            try await exporter.waitForHeld(1)  // and the pipeline is handing batches over, not filling
            #expect(pipeline.usedBytes <= (64 << 10) + (24 << 10))
            exporter.resume()
            try await exporter.waitForRecords(atLeast: total)
            #expect(exporter.count == total)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(Set(exporter.records.compactMap(\.number)).count == total)
    }
}
