import DequeModule
import OTLPWire

/// What the pipeline holds: open batches per signal, sealed batches ready for the workers, the bytes
/// counted against `max_bytes`, and who waits for what. All of it behind the pipeline's one lock.
struct PendingBatch: Sendable {
    var batch: ExportBatch
    var acknowledgements: [AckGroup]
    /// Bytes counted against the queue (the body's, also while it is still on disk).
    var bytes: Int
    /// With a persistent queue: the records whose bodies make up `batch.body` once loaded.
    var records: [StoredRecord] = []
}

struct Part {
    var bytes: [UInt8]
    var items: Int
    var ack: AckGroup?
    /// With a persistent queue: where the bytes are (then `bytes` is empty).
    var record: StoredRecord? = nil
    var size: Int { record?.bodyBytes ?? bytes.count }
}

struct OpenBatch {
    var body: [UInt8] = []
    var records: [StoredRecord] = []
    var bytes = 0
    var items = 0
    var acks: [AckGroup] = []
    var openedAt: ContinuousClock.Instant
}

struct SpaceWaiter {
    var id: UInt64
    var bytes: Int
    var continuation: CheckedContinuation<Void, any Error>
}

extension Pipeline {
    struct State: ~Copyable {
        var open: [Signal: OpenBatch] = [:]
        var ready: Deque<PendingBatch> = []
        var usedBytes = 0
        var bytesBySignal: [Signal: Int] = [:]
        var spaceWaiters: Deque<SpaceWaiter> = []
        var workerWaiters: Deque<CheckedContinuation<PendingBatch?, Never>> = []
        var timerWaiter: CheckedContinuation<Void, Never>?
        /// Chunks waiting before intake (`processors.hold`), and the hold timer when nothing is held.
        var held = SpanHoldState<TelemetryChunk>(hold: .zero)
        var holdWaiter: CheckedContinuation<Void, Never>?
        var closed = false
        var nextID: UInt64 = 0
        var nextWaiterID: UInt64 = 0
        /// An exported batch's emptied buffer, for the next batch to open (see `complete`).
        var spare: [UInt8] = []

        mutating func takeSpare() -> [UInt8] {
            defer { spare = [] }
            return spare
        }

        /// A chunk fits when it stays within capacity, or when the pipeline is empty (a chunk larger
        /// than the whole queue must still be able to pass, alone).
        func hasSpace(for bytes: Int, capacity: Int) -> Bool {
            usedBytes == 0 || usedBytes + bytes <= capacity
        }

        /// Pushed-back sources that now fit, first come first served.
        mutating func takeSatisfiedWaiters(capacity: Int) -> [SpaceWaiter] {
            var woken: [SpaceWaiter] = []
            var projected = usedBytes
            while let first = spaceWaiters.first, projected == 0 || projected + first.bytes <= capacity {
                projected += first.bytes
                woken.append(spaceWaiters.removeFirst())
            }
            return woken
        }

        /// Pairs waiting workers with ready batches.
        mutating func matchWorkers() -> [(CheckedContinuation<PendingBatch?, Never>, PendingBatch)] {
            var pairs: [(CheckedContinuation<PendingBatch?, Never>, PendingBatch)] = []
            while !workerWaiters.isEmpty, let batch = ready.popFirst() {
                pairs.append((workerWaiters.removeFirst(), batch))
            }
            return pairs
        }
    }
}
