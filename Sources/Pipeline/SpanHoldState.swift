import DequeModule

/// The hold's policy (`processors.hold`, issue 18 part 3) as a value, tested without sockets: chunks that
/// wait for something (a Flux span for its reconcile duration) before intake, each at most `hold`.
///
/// - **Admitted** only while the hold is open (not after `close`), `hold` is positive, and the queue, this
///   chunk included, is at most half full (`used + bytes ≤ capacity / 2`): near a full queue nothing waits,
///   it passes straight through. So held bytes never take more than half of `processors.queue.max_bytes`.
/// - **Released** at its deadline (`takeExpired`), early when it no longer waits (`take(where:)`), and all
///   at once at `close` (shutdown: held chunks go in before the queue is sealed, nothing is lost).
/// - Deadlines are arrival plus one fixed `hold`, so entries are in deadline order: the earliest is first,
///   and a new one never has an earlier deadline than those already held (a timer sleeping until the first
///   deadline never needs to be woken for a later arrival).
public struct SpanHoldState<Item: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var item: Item
        /// Bytes counted against the queue while it waits.
        public var bytes: Int
        /// Items (spans) in it.
        public var items: Int
        public var deadline: ContinuousClock.Instant
    }

    public let hold: Duration
    public private(set) var entries: Deque<Entry> = []
    public private(set) var bytes = 0
    public private(set) var items = 0
    public private(set) var isClosed = false

    public init(hold: Duration) { self.hold = hold }

    /// Whether a chunk of `bytes` may wait, with `used` of `capacity` bytes already counted (held included).
    public func admits(bytes: Int, used: Int, capacity: Int) -> Bool {
        !isClosed && hold > .zero && used + bytes <= capacity / 2
    }

    /// Holds `item` until `now + hold` (the caller asked `admits` first).
    public mutating func hold(_ item: Item, bytes: Int, items: Int, now: ContinuousClock.Instant) {
        entries.append(Entry(item: item, bytes: bytes, items: items, deadline: now.advanced(by: hold)))
        self.bytes += bytes
        self.items += items
    }

    /// The first deadline, when something is held.
    public var nextDeadline: ContinuousClock.Instant? { entries.first?.deadline }

    /// The entries whose deadline has come, in arrival order.
    public mutating func takeExpired(now: ContinuousClock.Instant) -> [Entry] {
        var taken: [Entry] = []
        while let first = entries.first, first.deadline <= now { taken.append(remove(entries.removeFirst())) }
        return taken
    }

    /// The entries that stop waiting (`released` says so), in arrival order; the others keep their place.
    public mutating func take(where released: (Item) -> Bool) -> [Entry] {
        var taken: [Entry] = []
        var kept: Deque<Entry> = []
        for entry in entries {
            if released(entry.item) { taken.append(remove(entry)) } else { kept.append(entry) }
        }
        entries = kept
        return taken
    }

    /// Shutdown: everything held, in arrival order; nothing is admitted afterwards.
    public mutating func close() -> [Entry] {
        isClosed = true
        let all = Array(entries)
        entries.removeAll()
        bytes = 0
        items = 0
        return all
    }

    private mutating func remove(_ entry: Entry) -> Entry {
        bytes -= entry.bytes
        items -= entry.items
        return entry
    }
}
