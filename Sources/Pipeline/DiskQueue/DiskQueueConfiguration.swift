/// `processors.queue` when `directory` is set: a persistent queue of segment files.
public struct DiskQueueConfiguration: Sendable, Equatable {
    /// When appended records count as durable (and sources are told so).
    public enum Sync: Sendable, Equatable {
        /// Every group of appends is fsynced before any of it is acknowledged (group commit): survives
        /// power loss. The default.
        case batch
        /// fsync every interval; appends are acknowledged once written to the file, so they survive
        /// `kill -9` and crashes, but a power loss can take the last interval.
        case interval(Duration)
    }

    /// What happens when `maxBytes` (or the disk) is full.
    public enum FullPolicy: String, Sendable, Equatable, CaseIterable {
        /// Sources are pushed back, exactly as with the memory queue.
        case backpressure
        /// The oldest queued records are dropped (counted) to make room.
        case dropOldest = "drop_oldest"
    }

    public var directory: String
    /// Disk bytes of all segment files together.
    public var maxBytes: Int
    public var sync: Sync
    public var fullPolicy: FullPolicy
    /// Records older than this are dropped (counted) instead of being sent.
    public var maxAge: Duration
    /// A segment is closed and a new one started once it holds this many bytes.
    public var segmentBytes: Int

    public init(
        directory: String, maxBytes: Int = 64 << 20, sync: Sync = .batch, fullPolicy: FullPolicy = .backpressure,
        maxAge: Duration = .seconds(6 * 3600), segmentBytes: Int? = nil
    ) {
        self.directory = directory
        self.maxBytes = max(1, maxBytes)
        self.sync = sync
        self.fullPolicy = fullPolicy
        self.maxAge = maxAge
        // Small enough that dropping or exporting whole segments frees space in steps of ~1/8 of the cap.
        self.segmentBytes = max(1, segmentBytes ?? min(16 << 20, max(64 << 10, maxBytes / 8)))
    }
}
