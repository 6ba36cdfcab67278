import DequeModule
import Pipeline
import Synchronization

/// What is known, per file, about which offsets are safe: the pipeline acknowledges chunks out of
/// order across batches, so each file keeps its chunks in offset order and the checkpoint advances
/// only over the prefix that was exported (or permanently refused). A chunk that `.failed` (shutdown
/// before delivery, retries exhausted) stops the advance: its lines are read again after a restart.
final class AckLedger: Sendable {
    struct Checkpoint: Equatable, Sendable {
        var key: FileKey
        var offset: Int64
        var fingerprint: Fingerprint
        var path: String
    }

    private enum ChunkState: UInt8 { case pending, done, failed }

    private struct FileState {
        var epoch: UInt64 = 0
        var nextSequence: UInt64 = 0
        /// (sequence, end offset, state) in offset order.
        var chunks: Deque<(sequence: UInt64, end: Int64, state: ChunkState)> = []
        var acknowledged: Int64
        var fingerprint: Fingerprint
        var path: String
        /// The file was let go; the entry goes once nothing is pending.
        var closed = false
    }

    private struct State {
        var files: [FileKey: FileState] = [:]
        var version: UInt64 = 0
        /// Files with a chunk the pipeline gave up on while running (retries exhausted).
        var failed: Set<FileKey> = []
    }

    private let state = Mutex(State())
    private let changed: @Sendable () -> Void

    /// `changed` is called (from any thread) whenever a checkpoint moved.
    init(changed: @escaping @Sendable () -> Void = {}) {
        self.changed = changed
    }

    func register(_ key: FileKey, path: String, offset: Int64, fingerprint: Fingerprint) {
        state.withLock { state in
            state.files[key] = FileState(acknowledged: offset, fingerprint: fingerprint, path: path)
            state.version &+= 1
        }
        changed()
    }

    /// A chunk ending at `end` goes to the pipeline; returns what to pass to `acknowledge`.
    func append(_ key: FileKey, end: Int64) -> (epoch: UInt64, sequence: UInt64) {
        state.withLock { state in
            guard var file = state.files[key] else { return (.max, 0) }
            let sequence = file.nextSequence
            file.nextSequence += 1
            file.chunks.append((sequence, end, .pending))
            state.files[key] = file
            return (file.epoch, sequence)
        }
    }

    /// Lines up to `end` produced no record (blank lines, fragments of a record already cut): safe once
    /// everything before them is.
    func skip(_ key: FileKey, to end: Int64) {
        let token = append(key, end: end)
        acknowledge(key, token, .exported)
    }

    func acknowledge(_ key: FileKey, _ token: (epoch: UInt64, sequence: UInt64), _ outcome: DeliveryOutcome) {
        let moved: Bool = state.withLock { state in
            guard var file = state.files[key], file.epoch == token.epoch, let first = file.chunks.first?.sequence,
                token.sequence >= first
            else { return false }
            let index = Int(token.sequence - first)
            guard index < file.chunks.count else { return false }
            file.chunks[index].state = outcome == .failed ? .failed : .done
            if outcome == .failed && !file.closed { state.failed.insert(key) }
            var moved = false
            while let head = file.chunks.first, head.state == .done {
                file.acknowledged = head.end
                file.chunks.removeFirst()
                moved = true
            }
            if file.closed && file.chunks.isEmpty {
                state.files[key] = nil
            } else {
                state.files[key] = file
            }
            if moved { state.version &+= 1 }
            return moved
        }
        if moved { changed() }
    }

    /// The file was truncated (copy-truncate): offsets start again at 0, acknowledgements of the old
    /// content no longer move anything.
    func reset(_ key: FileKey, fingerprint: Fingerprint) {
        state.withLock { state in
            guard var file = state.files[key] else { return }
            file.epoch &+= 1
            file.chunks.removeAll()
            file.acknowledged = 0
            file.fingerprint = fingerprint
            state.files[key] = file
            state.version &+= 1
        }
        changed()
    }

    func updateFingerprint(_ key: FileKey, _ fingerprint: Fingerprint) {
        state.withLock { state in
            guard state.files[key] != nil, state.files[key]!.fingerprint != fingerprint else { return }
            state.files[key]!.fingerprint = fingerprint
            state.version &+= 1
        }
    }

    /// The file is no longer tailed; its checkpoint is dropped once its chunks are acknowledged (and
    /// kept while any failed, so a restart finds the rotated file and reads the rest).
    func close(_ key: FileKey) {
        state.withLock { state in
            guard var file = state.files[key] else { return }
            if file.chunks.isEmpty {
                state.files[key] = nil
            } else {
                file.closed = true
                state.files[key] = file
            }
            state.version &+= 1
        }
        changed()
    }

    /// Files whose chunks failed since the last call (the tailer reads them again from their checkpoint).
    func takeFailed() -> Set<FileKey> {
        state.withLock { state in
            defer { state.failed.removeAll() }
            return state.failed
        }
    }

    /// Forgets the file's chunks (their acknowledgements no longer count) and returns the checkpoint
    /// to read again from: what failed is sent again, what was in flight may arrive twice.
    func rewind(_ key: FileKey) -> Int64? {
        state.withLock { state in
            guard var file = state.files[key] else { return nil }
            file.epoch &+= 1
            file.chunks.removeAll()
            state.files[key] = file
            return file.acknowledged
        }
    }

    /// Chunks handed to the pipeline and not yet acknowledged (failed ones do not count).
    var pendingChunks: Int {
        state.withLock { state in
            state.files.values.reduce(0) { $0 + $1.chunks.filter { $0.state == .pending }.count }
        }
    }

    func acknowledgedOffset(_ key: FileKey) -> Int64? { state.withLock { $0.files[key]?.acknowledged } }

    /// Every checkpoint, with a version that changes whenever one does.
    func snapshot() -> (version: UInt64, checkpoints: [Checkpoint]) {
        state.withLock { state in
            let checkpoints = state.files.map { key, file in
                Checkpoint(key: key, offset: file.acknowledged, fingerprint: file.fingerprint, path: file.path)
            }.sorted { $0.key < $1.key }
            return (state.version, checkpoints)
        }
    }
}
