import DequeModule
import Dispatch
public import Logging
import OTLPWire
public import SelfTelemetry
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The persistent queue's store: segment files of CRC-checked records (`SegmentRecord`) in one
/// directory. It appends records (one `pwritev` each, under the lock, so file order is intake order),
/// makes them durable with a group-committing syncer, reads their bodies back for export, and deletes a
/// segment once every record in it was released (exported, refused, dropped or expired).
///
/// Only the records' positions and headers (`DiskRecord`, ~64 bytes each) stay in memory; bodies live on
/// disk only. Which records form which batch is the pipeline's business: it holds `DiskRecord`s in its
/// open batches and ready queue exactly where the memory queue holds bytes.
///
/// **Durability and receiver latency (group commit).** A chunk is appended at intake, before batching,
/// so the time to "durable" does not include the batch timeout. With `sync: batch` the syncer task fsyncs
/// as soon as anything was appended; appends that arrive while an fsync runs are covered by the next one,
/// so concurrent requests share fsyncs and each waits about one to two fsync times, never a batch timeout.
/// With `sync: interval` a record is acknowledged once written (it survives `kill -9`), and fsync runs
/// every interval.
public final class DiskQueue: Sendable {
    public typealias WallClock = @Sendable () -> Int64

    public let configuration: DiskQueueConfiguration
    let metrics: AgentMetrics
    let logger: Logger
    let wallClock: WallClock
    private let directoryFD: Int32
    private let state: Mutex<State>
    /// fsync blocks for milliseconds: it runs on its own thread, never on the cooperative pool (two
    /// threads on a two-core node) that the tailer, scraper and export workers share.
    private let syncQueue = DispatchQueue(label: "fluxtel.disk-queue.fsync")
    private let replayedRecords: Mutex<[DiskRecord]>
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

    /// A record ready to write: its 21-byte prefix computed (CRC over the body) outside any lock.
    struct Prepared {
        var prefix: [UInt8]
        var body: [UInt8]
        var items: Int
        var enqueuedAt: Int64
        var crc: UInt32
        var fileBytes: Int { prefix.count + body.count }
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

    /// Opens (creating) the directory and scans every segment, truncating damaged ones; the records
    /// found wait in `takeReplayed()`. Fails only when the directory itself cannot be used.
    public init(
        configuration: DiskQueueConfiguration, metrics: AgentMetrics, logger: Logger,
        wallClock: @escaping WallClock = DiskQueue.systemWallClock
    ) throws {
        self.configuration = configuration
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "component"] = "disk-queue"
        self.logger = logger
        self.wallClock = wallClock
        do {
            try SegmentIO.makeDirectories(configuration.directory)
            self.directoryFD = try SegmentIO.openDirectory(configuration.directory)
        } catch {
            throw DiskQueueError(message: "processors.queue.directory: \(error)")
        }
        var state = State()
        let replayed: [DiskRecord]
        do {
            replayed = try Self.replay(configuration.directory, into: &state, metrics: metrics, logger: logger)
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

    public static let systemWallClock: WallClock = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// The records found at start-up, in append order (once; later calls return nothing).
    func takeReplayed() -> [DiskRecord] {
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

    func prepare(_ parts: [(bytes: [UInt8], items: Int)], signal: Signal) -> [Prepared] {
        let now = wallClock()
        return parts.map { part in
            let (prefix, crc) = SegmentRecord.prefix(
                signal: signal, items: part.items, enqueuedAt: now, body: part.bytes)
            return Prepared(prefix: prefix, body: part.bytes, items: part.items, enqueuedAt: now, crc: crc)
        }
    }

    /// Whether `bytes` more fit under `maxBytes` (anything fits into an empty queue, alone).
    func hasSpace(for bytes: Int) -> Bool {
        state.withLock { $0.liveRecords == 0 || Int($0.diskBytes) + bytes <= configuration.maxBytes }
    }

    /// Appends one chunk's records (all or none) and returns them with the sequence number to wait on
    /// for durability. Called with the pipeline's lock held, so file order is intake order.
    func append(_ prepared: [Prepared], signal: Signal) -> Result<(records: [DiskRecord], seq: UInt64), AppendError> {
        let total = prepared.reduce(0) { $0 + $1.fileBytes }
        let outcome: Result<(records: [DiskRecord], seq: UInt64), AppendError> = state.withLock { state in
            guard state.liveRecords == 0 || Int(state.diskBytes) + total <= configuration.maxBytes else {
                return .failure(.full)
            }
            var fresh = false
            do {
                let id = try activeSegment(for: total, state: &state)
                var segment = state.segments[id]!
                let start = segment.size
                fresh = start == 0
                var records: [DiskRecord] = []
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
                        DiskRecord(
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
            segment.size == 0 || segment.size + Int64(bytes) <= Int64(configuration.segmentBytes)
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

    // MARK: durability

    /// Calls `callback` once the append with sequence `seq` is durable per the sync policy: returns
    /// true when it already is (the caller calls it, outside its own lock), else it is called later by
    /// the syncer (or at close).
    func whenDurable(_ seq: UInt64, _ callback: @escaping @Sendable () -> Void) -> Bool {
        if case .interval = configuration.sync { return true }
        let now: Bool? = state.withLock { state in
            if seq <= state.durableSeq { return true }
            if state.closed { return nil }  // the syncer may be gone: sync here
            state.durabilityWaiters.append((seq, callback))
            return false
        }
        guard let now else {
            syncOnce()
            return true
        }
        return now
    }

    /// The group-commit loop: fsyncs what was appended (and the directory after a new segment), then
    /// tells the waiting sources. Runs until `close()`, with a final sync on the way out.
    func runSyncer() async {
        while true {
            switch configuration.sync {
            case .batch:
                await waitForAppends()
            case .interval(let interval):
                try? await Task.sleep(for: interval)
            }
            let finished = state.withLock { $0.closed } || Task.isCancelled
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                syncQueue.async {
                    self.syncOnce()
                    done.resume()
                }
            }
            if finished { return }
        }
    }

    private func waitForAppends() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.closed || state.appendSeq != state.durableSeq || Task.isCancelled { return true }
                    state.syncerWaiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.syncerWaiter = nil }
                return state.syncerWaiter
            }
            waiter?.resume()
        }
    }

    /// One fsync pass over every segment written since the last one.
    func syncOnce() {
        let (targets, syncDirectory, seq) = state.withLock { state -> ([(UInt64, Int32, String)], Bool, UInt64) in
            var targets: [(UInt64, Int32, String)] = []
            for (id, var segment) in state.segments where segment.dirty {
                segment.dirty = false
                segment.syncing = true
                state.segments[id] = segment
                targets.append((id, segment.fd, segment.path))
            }
            defer { state.directoryDirty = false }
            return (targets, state.directoryDirty, state.appendSeq)
        }
        for (_, fd, path) in targets {
            do { try SegmentIO.sync(fd, path: path) } catch {
                metrics.queueWriteErrors.increment()
                logger.error("Disk queue fsync failed", metadata: ["error": "\(error)"])
            }
        }
        if syncDirectory { _ = fsync(directoryFD) }
        let waiters = state.withLock { state -> [@Sendable () -> Void] in
            for (id, _, _) in targets { state.segments[id]?.syncing = false }
            for fd in state.closeAfterSync { SegmentIO.close(fd) }
            state.closeAfterSync.removeAll()
            state.durableSeq = max(state.durableSeq, seq)
            var ready: [@Sendable () -> Void] = []
            while let first = state.durabilityWaiters.first, first.seq <= state.durableSeq || state.closed {
                ready.append(state.durabilityWaiters.removeFirst().callback)
            }
            return ready
        }
        for waiter in waiters { waiter() }
    }

    /// No more appends: the syncer makes one last pass and returns.
    func close() {
        let syncer = state.withLock { state in
            state.closed = true
            defer { state.syncerWaiter = nil }
            return state.syncerWaiter
        }
        syncer?.resume()
    }

    // MARK: export side

    /// What `load` found for a batch of records.
    struct Loaded {
        var body: [UInt8] = []
        var items = 0
        /// Records whose bodies are in `body`.
        var sent: [DiskRecord] = []
        /// Records past `maxAge` (dropped, counted by the caller).
        var expired: [DiskRecord] = []
        /// Records that failed their CRC or could not be read.
        var lost: [DiskRecord] = []
    }

    /// Reads the bodies of `records` (one pipeline batch) back from disk, checking each CRC again and
    /// leaving out what has expired.
    func load(_ records: [DiskRecord]) -> Loaded {
        var loaded = Loaded()
        let oldest = wallClock() - Int64(configuration.maxAge.components.seconds) * 1_000_000_000
        let files = state.withLock { state in records.map { state.segments[$0.segment].map { ($0.fd, $0.path) } } }
        loaded.body.reserveCapacity(records.reduce(0) { $0 + $1.bodyBytes })
        for (record, file) in zip(records, files) {
            if record.enqueuedAt < oldest {
                loaded.expired.append(record)
                continue
            }
            guard let (fd, path) = file else {
                loaded.lost.append(record)
                continue
            }
            let start = loaded.body.count
            do {
                guard
                    try SegmentIO.read(
                        fd, count: record.bodyBytes, at: record.bodyOffset, into: &loaded.body, path: path)
                else {
                    throw SegmentIOError(operation: "read", path: path, errno: EIO)
                }
                let header = SegmentRecord.header(
                    signal: record.signal, items: record.items, enqueuedAt: record.enqueuedAt)
                let crc = loaded.body.withUnsafeBytes {
                    SegmentRecord.crc(header: header, body: UnsafeRawBufferPointer(rebasing: $0[start...]))
                }
                guard crc == record.crc else {
                    loaded.body.removeSubrange(start...)
                    metrics.queueCorruptions(.corruptRecord).increment()
                    metrics.queueCorruptBytes.increment(by: Int64(record.fileBytes))
                    logger.error(
                        "Disk queue record changed on disk since it was written; dropping it",
                        metadata: [
                            "file.path": "\(path)", "file.offset": "\(record.offset)",
                            "bytes.dropped": "\(record.fileBytes)",
                        ])
                    loaded.lost.append(record)
                    continue
                }
            } catch {
                loaded.body.removeSubrange(start...)
                metrics.queueCorruptions(.corruptRecord).increment()
                logger.error("Cannot read a disk queue record; dropping it", metadata: ["error": "\(error)"])
                loaded.lost.append(record)
                continue
            }
            loaded.items += record.items
            loaded.sent.append(record)
        }
        return loaded
    }

    /// The records left the queue (exported, refused, dropped, expired): a segment goes once all its
    /// records have, unless it is the one being appended to; until then each record is marked released
    /// in place (one byte, no fsync: it survives `kill -9`; a power loss can only cause a duplicate).
    func release(_ records: [DiskRecord]) {
        guard !records.isEmpty else { return }
        state.withLock { state in
            for record in records {
                guard var segment = state.segments[record.segment] else { continue }
                segment.live -= 1
                state.liveRecords -= 1
                state.segments[record.segment] = segment
                if segment.live == 0 && state.active != record.segment {
                    delete(record.segment, state: &state)
                } else {
                    var mark = SegmentRecord.released
                    _ = pwrite(segment.fd, &mark, 1, off_t(record.stateOffset))
                }
            }
        }
        metrics.queueDiskBytes.set(Int64(diskBytes))
    }

    private func delete(_ id: UInt64, state: inout State) {
        guard let segment = state.segments.removeValue(forKey: id) else { return }
        SegmentIO.remove(segment.path)
        if segment.syncing { state.closeAfterSync.append(segment.fd) } else { SegmentIO.close(segment.fd) }
        state.diskBytes -= segment.size
    }

    // MARK: start-up

    static func path(_ directory: String, _ id: UInt64) -> String {
        let hex = String(id, radix: 16)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".seg"
    }

    private static func replay(
        _ directory: String, into state: inout State, metrics: AgentMetrics, logger: Logger
    ) throws -> [DiskRecord] {
        let ids = try SegmentIO.list(directory).compactMap { name -> UInt64? in
            guard name.count == 20, name.hasSuffix(".seg") else { return nil }
            return UInt64(name.prefix(16), radix: 16)
        }.sorted()
        var replayed: [DiskRecord] = []
        for id in ids {
            let path = Self.path(directory, id)
            state.nextSegment = max(state.nextSegment, id + 1)
            let fd: Int32
            let scan: SegmentScanner.Result
            do {
                fd = try SegmentIO.openSegment(path, create: false)
                do { scan = try SegmentScanner.scan(fd: fd, segment: id, path: path) } catch {
                    SegmentIO.close(fd)
                    throw error
                }
            } catch {
                // An unreadable segment is reported and left alone; the rest still replays.
                metrics.queueCorruptions(.corruptRecord).increment()
                logger.error(
                    "Cannot read a disk queue segment; skipping it",
                    metadata: ["file.path": "\(path)", "error": "\(error)"])
                continue
            }
            if let damage = scan.damage {
                let dropped = scan.fileBytes - scan.validBytes
                metrics.queueCorruptions(damage).increment()
                metrics.queueCorruptBytes.increment(by: dropped)
                logger.error(
                    damage == .tornTail
                        ? "Disk queue segment has a torn tail; truncated it"
                        : "Disk queue segment has a corrupt record; skipped the rest of it",
                    metadata: [
                        "file.path": "\(path)", "file.offset": "\(scan.validBytes)", "bytes.dropped": "\(dropped)",
                        "records.kept": "\(scan.records.count)",
                    ])
                do { try SegmentIO.truncate(fd, to: scan.validBytes, path: path) } catch {
                    logger.error("Cannot truncate a damaged disk queue segment", metadata: ["error": "\(error)"])
                }
            }
            if scan.records.isEmpty {
                SegmentIO.close(fd)
                SegmentIO.remove(path)
                continue
            }
            state.segments[id] = Segment(id: id, path: path, fd: fd, size: scan.validBytes, live: scan.records.count)
            state.diskBytes += scan.validBytes
            state.liveRecords += scan.records.count
            replayed += scan.records
        }
        if !replayed.isEmpty {
            for signal in Signal.allCases {
                let items = replayed.lazy.filter { $0.signal == signal }.reduce(0) { $0 + $1.items }
                if items > 0 { metrics.queueReplayed(signal).increment(by: Int64(items)) }
            }
            logger.info(
                "Replaying the disk queue",
                metadata: [
                    "queue.records": "\(replayed.count)", "queue.disk_bytes": "\(state.diskBytes)",
                    "queue.segments": "\(state.segments.count)",
                ])
        }
        return replayed
    }
}

public struct DiskQueueError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
