public import Logging
import SelfTelemetry
public import ServiceLifecycle
import Synchronization

/// Runs the pipeline's batch timer and its export workers as one `Service`.
///
/// Graceful shutdown (SIGTERM): the pipeline is closed (sources were stopped before, since the agent
/// lists them after this service), open batches are sealed, and the workers drain the queue. After
/// `drainTimeout` whatever is still in flight is cancelled and acknowledged as `.failed`. The deadline
/// counts from `shutdownBegan(at:)` when the agent reports it (SIGTERM, before the sources stop), so
/// stopping the sources and draining share one `drainTimeout`; else from when the pipeline closes.
public final class PipelineService: Service, Sendable {
    public let pipeline: Pipeline
    public let exporters: [any BatchExporter]
    let workers: Int
    let drainTimeout: Duration
    let logger: Logger
    private let shutdownStart = Mutex<ContinuousClock.Instant?>(nil)

    public init(
        pipeline: Pipeline, exporters: [any BatchExporter], workers: Int, drainTimeout: Duration, logger: Logger
    ) {
        self.pipeline = pipeline
        self.exporters = exporters
        self.workers = max(1, workers)
        self.drainTimeout = drainTimeout
        self.logger = logger.component("pipeline")
    }

    /// Marks the start of graceful shutdown (the first call counts): the drain must end `drainTimeout`
    /// after it, however long the sources took to stop.
    public func shutdownBegan(at instant: ContinuousClock.Instant = .now) {
        shutdownStart.withLock { start in
            if start == nil { start = instant }
        }
    }

    public func run() async throws {
        let pipeline = self.pipeline
        enum Role: Sendable {
            case timer, worker, queue
            case deadline(passed: Bool)
        }
        await withTaskGroup(of: Role.self) { group in
            group.addTask {
                // The batch timeout.
                await self.runTimer(pipeline.sealExpired, idle: pipeline.waitForOpenBatch)
                return .timer
            }
            group.addTask {
                await pipeline.queue.run()
                return .queue
            }
            if pipeline.holds {
                group.addTask {
                    // `processors.hold`'s deadlines. They come in arrival order, so sleeping until the first
                    // one never misses a later arrival's.
                    await self.runTimer(pipeline.releaseExpiredHeld, idle: pipeline.waitForHeld)
                    return .timer
                }
            }
            for _ in 0..<workers {
                group.addTask {
                    await self.runWorker()
                    return .worker
                }
            }
            group.addTask {
                // Graceful shutdown: close intake, then bound the drain by the deadline.
                try? await gracefulShutdown()
                pipeline.close()
                let deadline = (self.shutdownStart.withLock { $0 } ?? .now).advanced(by: self.drainTimeout)
                self.logger.info(
                    "Draining the export queue",
                    metadata: [
                        "queue.bytes": "\(pipeline.usedBytes)", "drain.left": "\(deadline - .now)",
                    ])
                try? await Task.sleep(until: deadline, clock: .continuous)
                return .deadline(passed: !Task.isCancelled)
            }
            var workersLeft = workers
            for await role in group {
                switch role {
                case .timer, .queue:
                    break
                case .worker:
                    workersLeft -= 1
                    if workersLeft == 0 { group.cancelAll() }  // closed and drained
                case .deadline(let passed):
                    if passed {
                        self.logger.warning(
                            "Drain deadline passed, giving up on what is left",
                            metadata: ["queue.bytes": "\(pipeline.usedBytes)"])
                    }
                    group.cancelAll()
                }
            }
        }
        for batch in pipeline.takeRemaining() {
            // With a persistent queue what is left stays on disk and is sent after the next start.
            if !pipeline.queue.isPersistent {
                pipeline.metrics[batch.batch.signal].failed.increment(by: Int64(batch.batch.itemCount))
            }
            pipeline.complete(batch, outcome: .failed)
        }
        pipeline.queue.flush()
        for exporter in exporters { await exporter.shutdown() }
        logger.info("Pipeline stopped")
    }

    /// A timer on the pipeline's clock: `due` does what is due now and answers the next deadline; with none,
    /// `idle` waits until there is one (or the pipeline closes).
    private func runTimer(
        _ due: (ContinuousClock.Instant) -> ContinuousClock.Instant?, idle: () async -> Void
    ) async {
        while !Task.isCancelled {
            if pipeline.isClosed { return }
            if let next = due(pipeline.clock.now()) {
                try? await pipeline.clock.sleepUntil(next)
            } else {
                await idle()
            }
        }
    }

    private func runWorker() async {
        while var pending = await pipeline.nextBatch() {
            guard pipeline.loadStored(&pending) else { continue }
            let outcome = await export(pending.batch)
            pipeline.complete(pending, outcome: outcome)
            if outcome == .failed, pipeline.queue.isPersistent, !pipeline.isClosed {
                // The batch went back to the persistent queue: don't spin on an exporter that fails at once.
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Sends one batch to every exporter; the batch's outcome is the worst of theirs.
    private func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        if exporters.count == 1 { return await exporters[0].export(batch) }
        return await withTaskGroup(of: DeliveryOutcome.self) { group in
            for exporter in exporters { group.addTask { await exporter.export(batch) } }
            var worst = DeliveryOutcome.exported
            for await outcome in group where outcome.severity > worst.severity { worst = outcome }
            return worst
        }
    }
}
