public import OTLPWire

/// Where the pipeline keeps the bodies of what it holds between intake and export: in memory
/// (`MemoryQueue`, the default) or in segment files (`DiskQueue` of the PersistentQueue module, with
/// `processors.queue.directory`). The pipeline keeps batching, the in-flight budget and the
/// acknowledgements; the queue decides where a chunk's bytes go, when they are durable, and reads them
/// back for export. A queue that stores a chunk answers with `StoredRecord`s, which the pipeline batches
/// exactly where it would batch bytes.
///
/// Every call is per chunk or per batch, never per item.
public protocol ChunkQueue: AnyObject, Sendable {
    /// `processors.queue.max_bytes`: shown as `fluxtel_queue_capacity_bytes`.
    var capacityBytes: Int { get }
    /// Whether what it stores outlives the process: then `offer` cannot tell `.full` ahead (`isFull` is
    /// false), a batch that failed goes back to the queue instead of being counted as failed, and what is
    /// left at shutdown stays for the next start.
    var isPersistent: Bool { get }

    /// The records found at start-up, in append order, to queue before any source starts (once; later
    /// calls return nothing).
    func takeReplayed() -> [StoredRecord]
    /// Prepares one chunk's parts for `admit`, outside the pipeline's lock (a persistent queue computes
    /// the records' headers and checksums here).
    func stage(_ parts: some Collection<(bytes: [UInt8], items: Int)>, signal: Signal) -> [StagedRecord]
    /// Takes one staged chunk, all of it or nothing. Called with the pipeline's lock held, so the queue's
    /// order is intake order. `evictOldest` drops the pipeline's oldest queued batch to make room and returns
    /// its records (already uncounted by the pipeline), or nil when there is nothing left to drop.
    func admit(
        _ staged: [StagedRecord], signal: Signal, evictOldest: () -> [StoredRecord]?
    ) -> QueueAdmission
    /// After `admit` dropped batches through `evictOldest` (called outside the pipeline's lock).
    func evicted(batches: Int, items: Int)
    /// Calls `callback` once what `admit` stored under `ticket` is durable: returns true when it already
    /// is (the caller calls it), else the queue calls it later.
    func whenDurable(_ ticket: UInt64, _ callback: @escaping @Sendable () -> Void) -> Bool
    /// Reads the bodies of one batch's records back, in order. Records that expired or were damaged are
    /// left out, counted and released here.
    func load(_ records: [StoredRecord], signal: Signal) -> LoadedRecords
    /// The records left the pipeline (exported, refused, dropped): the queue may forget them.
    func release(_ records: [StoredRecord])
    /// The queue's background work (a persistent queue's group commit), run by `PipelineService` until
    /// `close()`.
    func run() async
    /// No more intake: `run()` makes its last pass and returns.
    func close()
    /// Makes everything stored so far durable, now (at the end of shutdown).
    func flush()
}

/// What `ChunkQueue.admit` did with a chunk.
public enum QueueAdmission: Sendable, Equatable {
    /// Stored as these records (one per part); durable once `whenDurable(ticket)` says so, and then the
    /// chunk's source hears `.persisted`.
    case stored([StoredRecord], ticket: UInt64)
    /// Not stored: the pipeline holds the bytes in memory within `max_bytes` (or answers `.full`), and
    /// acknowledges them on export. `alone`: in batches of their own (a batch's body is either read back
    /// from the queue or held, never both).
    case inMemory(alone: Bool)
    /// No room: nothing was taken.
    case full
}

/// A part of a chunk as a persistent queue prepared it, outside any lock: the record's bytes in front of
/// the body (frame, state, header) and its checksum.
public struct StagedRecord: Sendable {
    public var prefix: [UInt8]
    public var body: [UInt8]
    public var items: Int
    /// Wall-clock enqueue time, nanoseconds since the epoch.
    public var enqueuedAt: Int64
    public var crc: UInt32
    public var fileBytes: Int { prefix.count + body.count }

    public init(prefix: [UInt8], body: [UInt8], items: Int, enqueuedAt: Int64, crc: UInt32) {
        self.prefix = prefix
        self.body = body
        self.items = items
        self.enqueuedAt = enqueuedAt
        self.crc = crc
    }
}

/// A part stored by a persistent queue: where it is and what its header says. The body stays there;
/// the pipeline holds these (about 64 bytes each) in its batches instead of bytes.
public struct StoredRecord: Sendable, Equatable {
    public var segment: UInt64
    /// Offset of the record's frame in the segment file.
    public var offset: Int64
    public var signal: Signal
    public var items: Int
    /// Body bytes (the framed Resource* fields).
    public var bodyBytes: Int
    /// Wall-clock enqueue time, nanoseconds since the epoch.
    public var enqueuedAt: Int64
    /// CRC-32 of header and body, checked again when the body is read back.
    public var crc: UInt32

    public init(
        segment: UInt64, offset: Int64, signal: Signal, items: Int, bodyBytes: Int, enqueuedAt: Int64, crc: UInt32
    ) {
        self.segment = segment
        self.offset = offset
        self.signal = signal
        self.items = items
        self.bodyBytes = bodyBytes
        self.enqueuedAt = enqueuedAt
        self.crc = crc
    }
}

/// What `ChunkQueue.load` read back for one batch.
public struct LoadedRecords: Sendable {
    /// The bodies of `sent`, concatenated: the batch's request body.
    public var body: [UInt8]
    public var items: Int
    /// The records whose bodies are in `body`.
    public var sent: [StoredRecord]

    public init(body: [UInt8] = [], items: Int = 0, sent: [StoredRecord] = []) {
        self.body = body
        self.items = items
        self.sent = sent
    }
}
