import OTLPWire
public import Pipeline
import Prometheus
import SelfTelemetry

extension StoredRecord {
    /// Bytes the record takes in the file.
    public var fileBytes: Int { SegmentRecord.overhead + bodyBytes }
    var bodyOffset: Int64 { offset + Int64(SegmentRecord.overhead) }
    var stateOffset: Int64 { offset + Int64(SegmentRecord.frameBytes) }
}

/// Why a segment was cut short at start-up.
public enum SegmentDamage: String, Sendable {
    /// The last record is incomplete or its CRC fails and nothing follows (a write torn by a crash or power loss).
    case tornTail = "torn_tail"
    /// A record in the middle fails its CRC or has an impossible length: the rest of the segment is skipped.
    case corruptRecord = "corrupt_record"
}

/// Reads a segment front to back, checking every record's length and CRC.
struct SegmentScanner {
    struct Result {
        /// Records still owed (not marked released), in file order.
        var records: [StoredRecord]
        /// Where the valid records end (the file is truncated there when `damage` is set).
        var validBytes: Int64
        var fileBytes: Int64
        var damage: SegmentDamage?
    }

    static func scan(fd: Int32, segment: UInt64, path: String) throws(SegmentIOError) -> Result {
        let size = try SegmentIO.size(fd, path: path)
        var records: [StoredRecord] = []
        var offset: Int64 = 0
        var buffer: [UInt8] = []
        while offset < size {
            let remaining = size - offset
            if remaining < Int64(SegmentRecord.overhead) {
                return Result(records: records, validBytes: offset, fileBytes: size, damage: .tornTail)
            }
            buffer.removeAll(keepingCapacity: true)
            guard try SegmentIO.read(fd, count: SegmentRecord.frameBytes, at: offset, into: &buffer, path: path) else {
                return Result(records: records, validBytes: offset, fileBytes: size, damage: .tornTail)
            }
            let (length, crc) = buffer.withUnsafeBytes {
                (Int(SegmentRecord.readLE(UInt32.self, $0, at: 0)), SegmentRecord.readLE(UInt32.self, $0, at: 4))
            }
            let end = offset + Int64(SegmentRecord.frameBytes) + Int64(length)
            if length < SegmentRecord.stateBytes + SegmentRecord.headerBytes || length > SegmentRecord.maxPayload {
                return Result(
                    records: records, validBytes: offset, fileBytes: size,
                    damage: end >= size ? .tornTail : .corruptRecord)
            }
            if end > size {
                return Result(records: records, validBytes: offset, fileBytes: size, damage: .tornTail)
            }
            buffer.removeAll(keepingCapacity: true)
            guard
                try SegmentIO.read(
                    fd, count: length, at: offset + Int64(SegmentRecord.frameBytes), into: &buffer, path: path)
            else {
                return Result(records: records, validBytes: offset, fileBytes: size, damage: .tornTail)
            }
            let record: (StoredRecord, released: Bool)? = buffer.withUnsafeBytes { payload in
                let checked = UnsafeRawBufferPointer(rebasing: payload[SegmentRecord.stateBytes...])
                guard SegmentRecord.crc32Update(0, checked) == crc, let signal = SegmentRecord.signal(code: checked[0])
                else {
                    return nil
                }
                let record = StoredRecord(
                    segment: segment, offset: offset, signal: signal,
                    items: Int(SegmentRecord.readLE(UInt32.self, checked, at: 1)),
                    bodyBytes: length - SegmentRecord.stateBytes - SegmentRecord.headerBytes,
                    enqueuedAt: Int64(bitPattern: SegmentRecord.readLE(UInt64.self, checked, at: 5)), crc: crc)
                return (record, payload[0] == SegmentRecord.released)
            }
            guard let record else {
                return Result(
                    records: records, validBytes: offset, fileBytes: size,
                    damage: end == size ? .tornTail : .corruptRecord)
            }
            if !record.released { records.append(record.0) }
            offset = end
        }
        return Result(records: records, validBytes: size, fileBytes: size, damage: nil)
    }
}

extension AgentMetrics {
    func queueCorruptions(_ damage: SegmentDamage) -> Counter { queueCorruptions(reason: damage.rawValue) }
}
