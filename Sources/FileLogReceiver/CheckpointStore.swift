import Logging
import Synchronization

/// Loads checkpoints at startup and writes the ledger's state whenever it changed. Writes are
/// serialized; a failing directory is reported once (tailing goes on, offsets stay in memory).
final class CheckpointStore: Sendable {
    let file: CheckpointFile?
    let ledger: AckLedger
    let logger: Logger
    private let written = Mutex<(version: UInt64, failing: Bool)>((0, false))  // version 0: nothing to write yet

    init(file: CheckpointFile?, ledger: AckLedger, logger: Logger) {
        self.file = file
        self.ledger = ledger
        self.logger = logger
    }

    /// The checkpoints on disk, by file; a corrupt file is reported and ignored (files start as if new).
    func load() -> [FileKey: AckLedger.Checkpoint] {
        guard let file else { return [:] }
        do {
            guard let checkpoints = try file.load() else { return [:] }
            return Dictionary(checkpoints.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        } catch {
            logger.error(
                "Ignoring unreadable checkpoint file",
                metadata: ["file.path": "\(file.path)", "error": "\(error)"])
            return [:]
        }
    }

    func persistIfChanged() {
        guard let file else { return }
        written.withLock { written in
            let (version, checkpoints) = ledger.snapshot()
            guard version != written.version else { return }
            do {
                try file.store(checkpoints)
                written.version = version
                if written.failing {
                    written.failing = false
                    logger.info("Writing checkpoints again", metadata: ["file.path": "\(file.path)"])
                }
            } catch {
                if !written.failing {
                    written.failing = true
                    logger.error(
                        "Cannot write checkpoints", metadata: ["file.path": "\(file.path)", "error": "\(error)"])
                }
            }
        }
    }
}

/// Where the ledger reports moved checkpoints: wakes the writer task while the receiver runs, and
/// writes directly once it has stopped (late acknowledgements during the pipeline's drain).
final class CheckpointNotifier: Sendable {
    private let wake: AsyncStream<Void>.Continuation
    private let direct = Mutex<CheckpointStore?>(nil)

    init(wake: AsyncStream<Void>.Continuation) { self.wake = wake }

    func notify() {
        if let store = direct.withLock({ $0 }) { store.persistIfChanged() } else { wake.yield() }
    }

    func writeDirectly(with store: CheckpointStore) {
        direct.withLock { $0 = store }
        wake.finish()
    }
}
