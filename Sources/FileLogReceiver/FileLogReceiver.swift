public import Logging
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

/// What the file log receiver needs to run (mapped from `receivers.filelog` by the agent).
public struct FileLogReceiverSettings: Sendable, Equatable {
    /// Globs of files to tail (`*`, `?`, `**`, `[…]`).
    public var include: [String]
    /// Globs of files never to tail.
    public var exclude: [String]
    /// Start files that have no checkpoint at their beginning (else at their end). Files that appear
    /// after the first poll, rotated generations found next to a rotated file, and a file that took the
    /// path of a checkpointed file while the agent was stopped are always read from their beginning.
    public var startAtBeginning: Bool
    public var format: LineFormat
    /// Where offsets are checkpointed; empty keeps them in memory only.
    public var checkpointDirectory: String
    /// How often globs are re-evaluated and idle files are checked for new lines.
    public var pollInterval: Duration
    /// Longest record after joining partial lines; longer ones are cut and flagged.
    public var maxLogSize: Int
    /// Bytes at the start of a file that identify it (with device and inode).
    public var fingerprintSize: Int
    /// Bytes read from one file at a time (one chunk for the pipeline at most).
    public var readSize: Int
    /// On shutdown, how long to wait for the pipeline to acknowledge what was handed over before the
    /// final checkpoint is written.
    public var shutdownWait: Duration
    /// Most bytes handed to the pipeline and not yet acknowledged; reading pauses beyond it (the file
    /// is the buffer). The agent sets one batch plus up to 1 MiB (`InFlightBudget` says why).
    public var maxInFlightBytes: Int

    public init(
        include: [String], exclude: [String] = [], startAtBeginning: Bool = false, format: LineFormat = .auto,
        checkpointDirectory: String = "", pollInterval: Duration = .seconds(1), maxLogSize: Int = 1 << 20,
        fingerprintSize: Int = 1024, readSize: Int = 256 << 10, shutdownWait: Duration = .seconds(5),
        maxInFlightBytes: Int = 8 << 20
    ) {
        self.include = include
        self.exclude = exclude
        self.startAtBeginning = startAtBeginning
        self.format = format
        self.checkpointDirectory = checkpointDirectory
        self.pollInterval = pollInterval
        self.maxLogSize = max(1, maxLogSize)
        self.fingerprintSize = max(16, fingerprintSize)
        self.readSize = max(4096, readSize)
        self.shutdownWait = shutdownWait
        self.maxInFlightBytes = max(1, maxInFlightBytes)
    }
}

/// Tails the Flux controllers' pod log files into the pipeline (see `Tailer` for how), as a `Service`.
///
/// Graceful shutdown: reading stops, the receiver waits (up to `shutdownWait`) for the pipeline to
/// acknowledge what it already handed over, writes the final checkpoints, and returns. Acknowledgements
/// that arrive after that still move the checkpoint file.
public final class FileLogReceiver: Service, Sendable {
    public let settings: FileLogReceiverSettings
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger

    private let live = FileLogState()

    /// Whether it runs and how many files it tails (for `/status`).
    public var state: (running: Bool, filesTailed: Int) { (live.running, live.filesTailed) }

    public init(settings: FileLogReceiverSettings, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger) {
        self.settings = settings
        self.pipeline = pipeline
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "component"] = "filelog"
        self.logger = logger
    }

    public func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let notifier = CheckpointNotifier(wake: wake)
        let ledger = AckLedger(changed: { notifier.notify() })
        let store = CheckpointStore(
            file: settings.checkpointDirectory.isEmpty ? nil : CheckpointFile(directory: settings.checkpointDirectory),
            ledger: ledger, logger: logger)
        let restored = store.load()
        let tailer = Tailer(
            settings: settings, pipeline: pipeline, ledger: ledger, restored: restored,
            metrics: metrics, logger: logger)
        let live = self.live
        tailer.onOpenFiles = { live.filesTailed = $0 }
        live.running = true
        defer { live.running = false }
        logger.info(
            "Tailing log files",
            metadata: [
                "filelog.include": "\(settings.include)", "filelog.checkpoints": "\(restored.count)",
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
                await tailer.run()
            }
            tailer.closeAll()
            // Let the pipeline deliver what was handed over, then write the final checkpoints.
            let deadline = ContinuousClock.now + settings.shutdownWait
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
}
