/// Remembers which occurrence of each Event was sent (uid → count), so a re-list or a repeated watch
/// event sends nothing twice, while a new occurrence (`count` 15 → 16) is sent once. Bounded: beyond
/// `capacity` Events the oldest remembered is forgotten (Events expire after an hour anyway).
public struct EventDeduplicator: Sendable {
    private var sent: [String: Int] = [:]
    private var order: [String] = []
    private var head = 0
    public let capacity: Int

    public init(capacity: Int = 65_536) { self.capacity = max(1, capacity) }

    public var count: Int { sent.count }

    /// True (and remembered) when this occurrence of the Event was not sent yet.
    public mutating func shouldSend(uid: String, count: Int) -> Bool {
        if let last = sent[uid] {
            guard count > last else { return false }
            sent[uid] = count
            return true
        }
        sent[uid] = count
        order.append(uid)
        if sent.count > capacity { evictOldest() }
        return true
    }

    /// A DELETED Event (its TTL ran out): it cannot come back, forget it.
    public mutating func forget(uid: String) { sent[uid] = nil }

    private mutating func evictOldest() {
        while sent.count > capacity, head < order.count {
            sent[order[head]] = nil
            head += 1
        }
        if head > order.count / 2 {
            order.removeFirst(head)
            head = 0
        }
    }
}
