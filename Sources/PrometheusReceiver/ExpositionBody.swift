import NIOCore

/// Where a scrape body's bytes live while its `Exposition` points into them: the HTTP client's buffer
/// as received (a plain body: parsed without copying it into an array first, which cost a 217 KB copy
/// and its fresh pages at every scrape of a 2,120-sample target), or an array (a gunzipped body, tests).
enum ExpositionBody: Sendable {
    case bytes([UInt8])
    case buffer(ByteBuffer)

    var count: Int {
        switch self {
        case .bytes(let bytes): bytes.count
        case .buffer(let buffer): buffer.readableBytes
        }
    }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch self {
        case .bytes(let bytes):
            return try bytes.withUnsafeBufferPointer(body)
        case .buffer(let buffer):
            return try buffer.withUnsafeReadableBytes { try body($0.assumingMemoryBound(to: UInt8.self)) }
        }
    }
}
