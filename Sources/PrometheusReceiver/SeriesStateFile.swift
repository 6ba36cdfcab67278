/// The format of one target's series state file: what keeps first-observation start times across agent
/// restarts for targets without `process_start_time_seconds`. Binary, little-endian:
///
/// ```
/// "fxseries" (8 bytes) | version u32 = 1 | target id length u32 | target id (UTF-8)
/// entry count u32 | entries: series hash u64, start time ns u64, last value (IEEE 754 bits) u64
/// FNV-1a 64 of everything before it u64
/// ```
///
/// The target id guards against a hash collision of file names; the checksum against a torn or
/// edited file. Anything that does not decode is "corrupt": the target starts fresh.
enum SeriesStateFile {
    struct Entry: Sendable, Equatable {
        var hash: UInt64
        var start: UInt64
        var last: Double
    }

    struct CorruptError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    static let magic: [UInt8] = Array("fxseries".utf8)
    static let version: UInt32 = 1
    static let entryBytes = 24

    static func encode(target: String, entries: [Entry]) -> [UInt8] {
        let id = Array(target.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(magic.count + 12 + id.count + entries.count * entryBytes + 8)
        out += magic
        append(&out, UInt64(version), bytes: 4)
        append(&out, UInt64(id.count), bytes: 4)
        out += id
        append(&out, UInt64(entries.count), bytes: 4)
        for entry in entries {
            append(&out, entry.hash, bytes: 8)
            append(&out, entry.start, bytes: 8)
            append(&out, entry.last.bitPattern, bytes: 8)
        }
        append(&out, fnv1a(out), bytes: 8)
        return out
    }

    static func decode(_ bytes: [UInt8], target: String) throws(CorruptError) -> [Entry] {
        var reader = Reader(bytes: bytes)
        guard bytes.count >= magic.count + 20, bytes.starts(with: magic) else {
            throw CorruptError(reason: "not a series state file")
        }
        let body = Array(bytes[..<(bytes.count - 8)])
        reader.offset = bytes.count - 8
        guard reader.next(8) == fnv1a(body) else { throw CorruptError(reason: "checksum mismatch (cut short?)") }
        reader = Reader(bytes: body)
        reader.offset = magic.count
        guard reader.next(4) == UInt64(version) else { throw CorruptError(reason: "unknown version") }
        let idLength = Int(reader.next(4) ?? .max)
        guard idLength <= body.count - reader.offset else { throw CorruptError(reason: "malformed target id") }
        let id = Array(body[reader.offset..<reader.offset + idLength])
        reader.offset += idLength
        guard id == Array(target.utf8) else { throw CorruptError(reason: "written for another target") }
        guard let count = reader.next(4), Int(count) * entryBytes == body.count - reader.offset else {
            throw CorruptError(reason: "wrong entry count")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let hash = reader.next(8), let start = reader.next(8), let last = reader.next(8) else {
                throw CorruptError(reason: "truncated entry")
            }
            entries.append(Entry(hash: hash, start: start, last: Double(bitPattern: last)))
        }
        return entries
    }

    private static func append(_ out: inout [UInt8], _ value: UInt64, bytes: Int) {
        for k in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> (8 * k))) }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func next(_ count: Int) -> UInt64? {
            guard offset + count <= bytes.count else { return nil }
            var value: UInt64 = 0
            for k in 0..<count { value |= UInt64(bytes[offset + k]) << (8 * k) }
            offset += count
            return value
        }
    }
}
