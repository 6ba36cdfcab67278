import DequeModule
import Dispatch
public import FluxtelConfig
public import Logging
public import OTLPWire
public import Pipeline
public import SelfTelemetry
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The persistent queue (`processors.queue` with a `directory`), the pipeline's `ChunkQueue` on disk:
/// segment files of CRC-checked records (`SegmentRecord`) in one
/// directory. It appends records (one `pwritev` each, under the lock, so file order is intake order),
/// makes them durable with a group-committing syncer, reads their bodies back for export, and deletes a
/// segment once every record in it was released (exported, refused, dropped or expired).
///
/// Only the records' positions and headers (`StoredRecord`, ~64 bytes each) stay in memory; bodies live on
/// disk only. Which records form which batch is the pipeline's business: it holds `StoredRecord`s in its
/// open batches and ready queue exactly where the memory queue holds bytes.
///
/// - Full (`max_bytes`, or no space on the disk): `backpressure` answers `.full` as the memory queue
///   does; `drop_oldest` drops the oldest queued batches (counted) until the append fits, and answers
///   `.full` only when nothing is left to drop (what remains is in flight). Other write errors answer
///   `.full` (nothing is dropped for an I/O error). A failed write is retried once in a new segment.
/// - Too large for any file (the chunk fails with EFBIG even in an empty one: a file size limit below
///   the chunk): the pipeline holds it in memory instead, in batches of its own, logged and counted in
///   `fluxtel_queue_write_errors_total`; only a crash before delivery loses it.
/// - Export: the bodies are read back (`load`), leaving out expired and corrupt records; exported or
///   refused records are released, and a segment goes when all of its are.
///
/// **Durability and receiver latency (group commit).** A chunk is appended at intake, before batching,
/// so the time to "durable" does not include the batch timeout. With `sync: batch` the syncer task fsyncs
/// as soon as anything was appended; appends that arrive while an fsync runs are covered by the next one,
/// so concurrent requests share fsyncs and each waits about one to two fsync times, never a batch timeout.
/// With `sync: interval` a record is acknowledged once written (it survives `kill -9`), and fsync runs
/// every interval.
public final class DiskQueue: ChunkQueue {
    public typealias WallClock = @Sendable () -> Int64

    /// `processors.queue`, with at least one byte.
    public let configuration: QueueConfiguration
    /// A segment is closed and a new one started once it holds this many bytes.
    public let segmentBytes: Int
    let metrics: AgentMetrics
    let logger: Logger
    let wallClock: WallClock
    let directoryFD: Int32
    let state: Mutex<State>
    /// fsync blocks for milliseconds: it runs on its own thread, never on the cooperative pool (two
    /// threads on a two-core node) that the tailer, scraper and export workers share.
    let syncQueue = DispatchQueue(label: "fluxtel.disk-queue.fsync")
    private let replayedRecords: Mutex<[StoredRecord]>
    /// Whether the "chunk too large for a file" warning was logged (once per run; the counter counts all).
    let reportedTooLarge = Atomic<Bool>(false)

    /// Why an append took nothing.
    enum AppendError: Error {
        /// `maxBytes` reached.
        case full
        /// The disk is full or the file may not grow (ENOSPC, EFBIG, EDQUOT): logged and counted;
        /// the file was cut back and the next append starts a new one.
        case noSpace
        /// Any other write error (EIO, ...), handled the same way.
        case writeFailed
        /// The chunk does not fit even into an empty file (EFBIG there: a file size limit below the
        /// chunk's size); no retry can help.
        case tooLarge
    }

    struct Segment {
        var id: UInt64
        var path: String
        var fd: Int32
        var size: Int64
        /// Records not yet released.
        var live: Int
        /// Written since the last fsync.
        var dirty = false
        /// An fsync of its fd is running (close it afterwards if the segment goes meanwhile).
        var syncing = false
    }

    struct State: ~Copyable {
        var segments: [UInt64: Segment] = [:]
        var active: UInt64?
        var nextSegment: UInt64 = 1
        var diskBytes: Int64 = 0
        var liveRecords = 0
        var appendSeq: UInt64 = 0
        var durableSeq: UInt64 = 0
        var durabilityWaiters: Deque<(seq: UInt64, callback: @Sendable () -> Void)> = []
        var syncerWaiter: CheckedContinuation<Void, Never>?
        var directoryDirty = false
        var closeAfterSync: [Int32] = []
        var failing = false
        var closed = false
    }

    /// Opens (creating) `configuration.directory` and scans every segment, truncating damaged ones; the
    /// records found wait in `takeReplayed()`. Fails only when the directory itself cannot be used.
    /// - Parameter segmentBytes: the size at which a segment is closed; by default small enough that
    ///   dropping or exporting whole segments frees space in steps of about 1/8 of `max_bytes`.
    public init(
        configuration: QueueConfiguration, segmentBytes: Int? = nil, metrics: AgentMetrics, logger: Logger,
        wallClock: @escaping WallClock = DiskQueue.systemWallClock
    ) throws {
        var configuration = configuration
        configuration.maxBytes = max(1, configuration.maxBytes)
        self.configuration = configuration
        self.segmentBytes = max(1, segmentBytes ?? min(16 << 20, max(64 << 10, configuration.maxBytes / 8)))
        self.metrics = metrics
        self.logger = logger.component("disk-queue")
        self.wallClock = wallClock
        do {
            try SegmentIO.makeDirectories(configuration.directory)
            self.directoryFD = try SegmentIO.openDirectory(configuration.directory)
        } catch {
            throw DiskQueueError(message: "processors.queue.directory: \(error)")
        }
        var state = State()
        let replayed: [StoredRecord]
        do {
            replayed = try Self.replay(configuration.directory, into: &state, metrics: metrics, logger: self.logger)
        } catch {
            throw DiskQueueError(message: "processors.queue.directory: \(error)")
        }
        metrics.queueDiskBytes.set(Int64(state.diskBytes))
        self.state = Mutex(state)
        self.replayedRecords = Mutex(replayed)
    }

    deinit {
        state.withLock { state in
            for segment in state.segments.values { SegmentIO.close(segment.fd) }
            for fd in state.closeAfterSync { SegmentIO.close(fd) }
        }
        SegmentIO.close(directoryFD)
    }

    public static let systemWallClock: WallClock = { Int64(clamping: Timestamp.now()) }

    public var capacityBytes: Int { configuration.maxBytes }
    public var isPersistent: Bool { true }

    /// The records found at start-up, in append order (once; later calls return nothing).
    public func takeReplayed() -> [StoredRecord] {
        replayedRecords.withLock { records in
            defer { records = [] }
            return records
        }
    }

    /// Bytes of all segment files.
    public var diskBytes: Int { state.withLock { Int($0.diskBytes) } }
    /// Segment files on disk.
    public var segmentCount: Int { state.withLock { $0.segments.count } }
    /// Records appended and not yet released.
    public var liveRecords: Int { state.withLock { $0.liveRecords } }

    // MARK: append

    /// Each part's 21-byte prefix (CRC over the body), computed outside any lock.
    public func stage(_ parts: some Collection<(bytes: [UInt8], items: Int)>, signal: Signal) -> [StagedRecord] {
        let now = wallClock()
        return parts.map { part in
            let (prefix, crc) = SegmentRecord.prefix(
                signal: signal, items: part.items, enqueuedAt: now, body: part.bytes)
            return StagedRecord(prefix: prefix, body: part.bytes, items: part.items, enqueuedAt: now, crc: crc)
        }
    }

    /// Whether `bytes` more fit under `maxBytes` (anything fits into an empty queue, alone).
    func hasSpace(for bytes: Int) -> Bool {
        state.withLock { $0.liveRecords == 0 || Int($0.diskBytes) + bytes <= configuration.maxBytes }
    }

    /// Appends one chunk's records, applying the full policy: a failed write is tried once more in a
    /// fresh segment (a file size limit is per file); only running out of room makes `drop_oldest` drop
    /// anything. Called with the pipeline's lock held, so file order is intake order.
    public func admit(
        _ staged: [StagedRecord], signal: Signal, evictOldest: () -> [StoredRecord]?
    ) -> QueueAdmission {
        var retried = false
        while true {
            switch append(staged, signal: signal) {
            case .success(let (records, seq)):
                return .stored(records, ticket: seq)
            case .failure(.tooLarge):
                if !reportedTooLarge.exchange(true, ordering: .relaxed) {
                    logger.warning(
                        "A chunk is larger than the disk queue may write into one file; queued in memory instead",
                        metadata: [
                            "signal": "\(signal)", "chunk.bytes": "\(staged.reduce(0) { $0 + $1.body.count })",
                            "items": "\(staged.reduce(0) { $0 + $1.items })",
                            "hint":
                                "raise the file size limit (ulimit -f) above the largest chunk; counted in fluxtel_queue_write_errors_total",
                        ])
                }
                return .inMemory(alone: true)
            case .failure(let error):
                if error != .full && !retried {
                    retried = true
                    continue
                }
                guard error != .writeFailed, configuration.fullPolicy == .dropOldest, let victims = evictOldest()
                else {
                    return .full
                }
                release(victims)
            }
        }
    }

    public func evicted(batches: Int, items: Int) {
        guard batches > 0 else { return }
        logger.warning(
            "Disk queue full: dropped the oldest batches",
            metadata: ["batches.dropped": "\(batches)", "items.dropped": "\(items)"])
    }

    /// Appends one chunk's records (all or none) and returns them with the sequence number to wait on
    /// for durability.
    func append(
        _ prepared: [StagedRecord], signal: Signal
    ) -> Result<(records: [StoredRecord], seq: UInt64), AppendError> {
        let total = prepared.reduce(0) { $0 + $1.fileBytes }
        let outcome: Result<(records: [StoredRecord], seq: UInt64), AppendError> = state.withLock { state in
            guard state.liveRecords == 0 || Int(state.diskBytes) + total <= configuration.maxBytes else {
                return .failure(.full)
            }
            var fresh = false
            do {
                let id = try activeSegment(for: total, state: &state)
                var segment = state.segments[id]!
                let start = segment.size
                fresh = start == 0
                var records: [StoredRecord] = []
                records.reserveCapacity(prepared.count)
                for record in prepared {
                    do {
                        try SegmentIO.append(
                            segment.fd, prefix: record.prefix, body: record.body, at: segment.size, path: segment.path)
                    } catch {
                        try? SegmentIO.truncate(segment.fd, to: start, path: segment.path)  // all or none
                        state.active = nil  // a new file next time (a size limit is per file)
                        if segment.live == 0 { delete(id, state: &state) }
                        throw error
                    }
                    records.append(
                        StoredRecord(
                            segment: id, offset: segment.size, signal: signal, items: record.items,
                            bodyBytes: record.body.count, enqueuedAt: record.enqueuedAt, crc: record.crc))
                    segment.size += Int64(record.fileBytes)
                }
                segment.live += records.count
                segment.dirty = true
                state.segments[id] = segment
                state.diskBytes += Int64(total)
                state.liveRecords += records.count
                state.appendSeq &+= 1
                return .success((records, state.appendSeq))
            } catch {
                let ioError = error as? SegmentIOError
                if fresh && ioError?.errno == EFBIG {  // not a full disk: the caller keeps it elsewhere
                    metrics.queueWriteErrors.increment()
                    return .failure(.tooLarge)
                }
                reportWriteError(error, state: &state)
                return .failure(ioError?.isNoSpace == true ? .noSpace : .writeFailed)
            }
        }
        if case .success = outcome {
            let (syncer, recovered): (CheckedContinuation<Void, Never>?, Bool) = state.withLock { state in
                defer {
                    state.syncerWaiter = nil
                    state.failing = false
                }
                return (state.syncerWaiter, state.failing)
            }
            if recovered { logger.info("Disk queue writes again") }
            syncer?.resume()
            metrics.queueDiskBytes.set(Int64(diskBytes))
        }
        return outcome
    }

    /// The segment to append `bytes` to: the active one, or a new one once it reached `segmentBytes`.
    private func activeSegment(for bytes: Int, state: inout State) throws -> UInt64 {
        if let id = state.active, let segment = state.segments[id],
            segment.size == 0 || segment.size + Int64(bytes) <= Int64(segmentBytes)
        {
            return id
        }
        if let old = state.active {
            state.active = nil
            if state.segments[old]?.live == 0 { delete(old, state: &state) }
        }
        let id = state.nextSegment
        state.nextSegment += 1
        let path = Self.path(configuration.directory, id)
        let fd = try SegmentIO.openSegment(path, create: true)
        state.segments[id] = Segment(id: id, path: path, fd: fd, size: 0, live: 0)
        state.active = id
        state.directoryDirty = true
        return id
    }

    private func reportWriteError(_ error: any Error, state: inout State) {
        metrics.queueWriteErrors.increment()
        if !state.failing {
            state.failing = true
            let noSpace = (error as? SegmentIOError)?.isNoSpace ?? false
            logger.error(
                noSpace
                    ? "Disk queue is out of space; applying the full policy"
                    : "Disk queue write failed; applying the full policy",
                metadata: ["error": "\(error)", "queue.full_policy": "\(configuration.fullPolicy.rawValue)"])
        }
    }

    func delete(_ id: UInt64, state: inout State) {
        guard let segment = state.segments.removeValue(forKey: id) else { return }
        SegmentIO.remove(segment.path)
        if segment.syncing { state.closeAfterSync.append(segment.fd) } else { SegmentIO.close(segment.fd) }
        state.diskBytes -= segment.size
    }

}

public struct DiskQueueError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
