/// A byte range in the body (offset ≥ 0) or in the arena (offset = -(arena offset) - 1).
public struct ByteRange: Sendable, Hashable {
    public var offset: Int32
    public var count: Int32
    @inlinable init(offset: Int32, count: Int32) {
        self.offset = offset
        self.count = count
    }
    static let empty = ByteRange(offset: 0, count: 0)
}
