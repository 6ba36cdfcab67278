public import FluxtelConfig
public import Logging
import OTLPWire
public import Pipeline
public import SelfTelemetry
public import ServiceLifecycle
import Synchronization

/// What `/status` shows of the receiver, written by its task.
final class FileLogState: Sendable {
    private let files = Atomic<Int>(0)
    private let active = Atomic<Bool>(false)
    var filesTailed: Int {
        get { files.load(ordering: .relaxed) }
        set { files.store(newValue, ordering: .relaxed) }
    }
    var running: Bool {
        get { active.load(ordering: .relaxed) }
        set { active.store(newValue, ordering: .relaxed) }
    }
}

/// Tails the Flux controllers' pod log files into the pipeline (see `Tailer` for how), as a `Service`.
///
/// Graceful shutdown: reading stops, the receiver waits (up to `shutdownWait`) for the pipeline to
/// acknowledge what it already handed over, writes the final checkpoints, and returns. Acknowledgements
/// that arrive after that still move the checkpoint file.
public final class FileLogReceiver: ServiceLifecycle.Service, Sendable {
    /// `receivers.filelog`.
    public let configuration: FileLogReceiverConfiguration
    /// On shutdown, how long to wait for the pipeline to acknowledge what was handed over before the
    /// final checkpoint is written (the agent passes `service.shutdown_timeout`).
    let shutdownWait: Duration
    /// Most bytes handed to the pipeline and not yet acknowledged; reading pauses beyond it (the file
    /// is the buffer). The agent sets one batch plus up to 1 MiB (`InFlightBudget` says why).
    let maxInFlightBytes: Int
    /// Bytes read from one file at a time (one chunk for the pipeline at most); tests make it smaller.
    let readSize: Int
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger
    /// Trace ids for lines about traced Flux objects (issue 18); nil: lines carry none.
    let traceLookup: FluxTraceLookup?
    /// This agent's node (`NODE_NAME` from the downward API): `k8s.node.name` of the files' resources.
    let nodeName: String

    private let live = FileLogState()
    /// The `flux_*` counters derived from the lines (`FluxLogCounters`), exported every `countersInterval`
    /// and once more on shutdown.
    let counters = FluxLogCounters()
    static let countersInterval: Duration = .seconds(30)

    /// Whether it runs and how many files it tails (for `/status`).
    public var state: (running: Bool, filesTailed: Int) { (live.running, live.filesTailed) }

    public convenience init(
        configuration: FileLogReceiverConfiguration, shutdownWait: Duration, maxInFlightBytes: Int,
        pipeline: Pipeline, metrics: AgentMetrics, nodeName: String = "", logger: Logger,
        traceLookup: FluxTraceLookup? = nil
    ) {
        self.init(
            configuration: configuration, shutdownWait: shutdownWait, maxInFlightBytes: maxInFlightBytes,
            readSize: Tailer.defaultReadSize, pipeline: pipeline, metrics: metrics, nodeName: nodeName,
            logger: logger, traceLookup: traceLookup)
    }

    init(
        configuration: FileLogReceiverConfiguration, shutdownWait: Duration, maxInFlightBytes: Int, readSize: Int,
        pipeline: Pipeline, metrics: AgentMetrics, nodeName: String = "", logger: Logger,
        traceLookup: FluxTraceLookup? = nil
    ) {
        self.nodeName = nodeName
        self.configuration = configuration
        self.traceLookup = traceLookup
        self.shutdownWait = shutdownWait
        self.maxInFlightBytes = max(1, maxInFlightBytes)
        self.readSize = max(4096, readSize)
        self.pipeline = pipeline
        self.metrics = metrics
        self.logger = logger.component("filelog")
    }

    public func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let notifier = CheckpointNotifier(wake: wake)
        let ledger = AckLedger(changed: { notifier.notify() })
        let directory = configuration.checkpointDirectory
        let store = CheckpointStore(
            file: directory.isEmpty ? nil : CheckpointFile(directory: directory),
            ledger: ledger, logger: logger)
        let restored = store.load()
        let tailer = Tailer(
            configuration: configuration, readSize: readSize, maxInFlightBytes: maxInFlightBytes, pipeline: pipeline,
            ledger: ledger, restored: restored,
            metrics: metrics, logger: logger)
        let live = self.live
        tailer.onOpenFiles = { live.filesTailed = $0 }
        tailer.encoder.traceLookup = traceLookup
        tailer.nodeName = nodeName
        tailer.encoder.counters = counters
        live.running = true
        defer { live.running = false }
        logger.info(
            "Tailing log files",
            metadata: [
                "filelog.include": "\(configuration.include)", "filelog.checkpoints": "\(restored.count)",
            ])
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Writes checkpoints shortly after acknowledgements move them (coalescing bursts).
                for await _ in wakeups {
                    try? await Task.sleep(for: .milliseconds(20))
                    store.persistIfChanged()
                }
            }
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { inner in
                    inner.addTask { await tailer.run() }
                    inner.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: Self.countersInterval)
                            if !Task.isCancelled { self.exportCounters() }
                        }
                    }
                    await inner.next()
                    inner.cancelAll()
                }
            }
            tailer.closeAll()
            exportCounters()
            // Let the pipeline deliver what was handed over, then write the final checkpoints.
            let deadline = ContinuousClock.now + shutdownWait
            while ledger.pendingChunks > 0 && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(10))
            }
            store.persistIfChanged()
            notifier.writeDirectly(with: store)
            await group.waitForAll()
            store.persistIfChanged()
        }
        logger.info("Stopped tailing log files")
    }

    /// Hands the derived counters' current values to the pipeline (nothing before the first count).
    func exportCounters() {
        guard let (body, points) = counters.encode(now: Timestamp.now(), version: FluxtelVersion.string) else { return }
        _ = pipeline.offer(TelemetryChunk(signal: .metrics, bytes: body, itemCount: points))
    }
}
