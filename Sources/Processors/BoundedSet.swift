/// A set of byte keys that forgets its oldest entries beyond `capacity`.
struct BoundedSet: Sendable {
    private var members: Set<[UInt8]> = []
    private var order: [[UInt8]] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int = 4096) { self.capacity = max(1, capacity) }

    func contains(_ key: [UInt8]) -> Bool { members.contains(key) }

    mutating func insert(_ key: [UInt8]) {
        guard members.insert(key).inserted else { return }
        if order.count < capacity {
            order.append(key)
        } else {
            members.remove(order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
    }
}
