import CZlib
import OTLPWire

/// One record of a disk-queue segment file, little-endian:
///
/// ```
/// [u32 length of state+header+body][u32 CRC-32 (zlib) of header+body][u8 state][header][body]
/// header: [u8 signal][u32 item count][i64 enqueue wall time, ns since the epoch]
/// body:   the chunk's framed Resource* fields (the same bytes a batch concatenates)
/// ```
///
/// The length comes first so a reader can skip a record without parsing it; the CRC covers header and
/// body, so a torn write (power loss mid-record) or a flipped bit is detected. `state` is outside the
/// CRC because it is rewritten in place: `0` when appended, `released` (0xA5) once the record left the
/// queue (exported, refused, dropped, expired), so a restart replays only what is still owed even when
/// its segment could not be deleted yet. Any other value reads as live: damage there can only cause a
/// duplicate, never a loss.
enum SegmentRecord {
    static let frameBytes = 8
    static let stateBytes = 1
    static let headerBytes = 13
    /// Bytes in front of the body.
    static let overhead = frameBytes + stateBytes + headerBytes
    static let released: UInt8 = 0xA5
    /// Largest state+header+body accepted when reading (a larger length is corruption, not a record).
    static let maxPayload = (1 << 30) + stateBytes + headerBytes

    static func signalCode(_ signal: Signal) -> UInt8 {
        switch signal {
        case .traces: 1
        case .metrics: 2
        case .logs: 3
        }
    }

    static func signal(code: UInt8) -> Signal? {
        switch code {
        case 1: .traces
        case 2: .metrics
        case 3: .logs
        default: nil
        }
    }

    /// The CRC-covered header.
    static func header(signal: Signal, items: Int, enqueuedAt: Int64) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: headerBytes)
        header[0] = signalCode(signal)
        putLE(UInt32(truncatingIfNeeded: items), into: &header, at: 1)
        putLE(UInt64(bitPattern: enqueuedAt), into: &header, at: 5)
        return header
    }

    /// CRC-32 of header and body.
    static func crc(header: [UInt8], body: UnsafeRawBufferPointer) -> UInt32 {
        crc32Update(header.withUnsafeBytes { crc32Update(0, $0) }, body)
    }

    /// The bytes in front of `body` (frame, state, header).
    static func prefix(signal: Signal, items: Int, enqueuedAt: Int64, body: [UInt8]) -> (bytes: [UInt8], crc: UInt32) {
        let header = self.header(signal: signal, items: items, enqueuedAt: enqueuedAt)
        let crc = body.withUnsafeBytes { self.crc(header: header, body: $0) }
        var prefix = [UInt8](repeating: 0, count: frameBytes + stateBytes)
        putLE(UInt32(stateBytes + headerBytes + body.count), into: &prefix, at: 0)
        putLE(crc, into: &prefix, at: 4)
        prefix.append(contentsOf: header)
        return (prefix, crc)
    }

    static func crc32Update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return UInt32(
            truncatingIfNeeded: CZlib.crc32(UInt(crc), base.assumingMemoryBound(to: Bytef.self), UInt32(bytes.count)))
    }

    static func putLE<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        for i in 0..<(T.bitWidth / 8) { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    static func readLE<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<(T.bitWidth / 8) { value |= T(bytes[offset + i]) << (8 * i) }
        return value
    }
}
