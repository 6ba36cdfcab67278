public import OTLPWire

/// The queue without `processors.queue.directory`: bodies stay in the pipeline's memory, within
/// `max_bytes` (the pipeline's in-flight budget), and a chunk is acknowledged when its batch is exported.
/// Nothing is staged, stored or read back.
public final class MemoryQueue: ChunkQueue {
    public let capacityBytes: Int
    public var isPersistent: Bool { false }

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    public func takeReplayed() -> [StoredRecord] { [] }
    public func stage(_ parts: some Collection<(bytes: [UInt8], items: Int)>, signal: Signal) -> [StagedRecord] { [] }
    public func admit(
        _ staged: [StagedRecord], signal: Signal, evictOldest: () -> [StoredRecord]?
    ) -> QueueAdmission {
        .inMemory(alone: false)
    }
    public func evicted(batches: Int, items: Int) {}
    public func whenDurable(_ ticket: UInt64, _ callback: @escaping @Sendable () -> Void) -> Bool { true }
    public func load(_ records: [StoredRecord], signal: Signal) -> LoadedRecords { LoadedRecords() }
    public func release(_ records: [StoredRecord]) {}
    public func run() async {}
    public func close() {}
    public func flush() {}
}
