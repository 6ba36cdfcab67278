/// A fingerprint of a file's first bytes (FNV-1a over up to `fingerprint_size` bytes): with device and
/// inode it tells a file from a new one that reuses the inode, and a truncated-and-rewritten file from itself.
struct Fingerprint: Hashable, Sendable {
    var length: Int
    var hash: UInt64

    static let empty = Fingerprint(length: 0, hash: 0xcbf2_9ce4_8422_2325)

    static func of(_ bytes: UnsafeRawBufferPointer) -> Fingerprint {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x100_0000_01b3
        }
        return Fingerprint(length: bytes.count, hash: h)
    }
}
