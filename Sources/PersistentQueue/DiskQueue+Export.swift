public import OTLPWire
public import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// The export side of the persistent queue: reading a batch's bodies back (checking every CRC again,
/// leaving out what expired) and releasing records once they left the pipeline.
extension DiskQueue {
    /// Reads one batch's bodies back; expired records (`max_age`) and damaged ones are left out, counted
    /// and released.
    public func load(_ records: [StoredRecord], signal: Signal) -> LoadedRecords {
        let loaded = read(records)
        let expired = loaded.expired.reduce(0) { $0 + $1.items }
        let lost = loaded.lost.reduce(0) { $0 + $1.items }
        if expired > 0 {
            metrics.queueDropped(signal, reason: "expired").increment(by: Int64(expired))
            logger.warning(
                "Dropped queued items older than max_age",
                metadata: [
                    "signal": "\(signal)", "items.dropped": "\(expired)",
                ])
        }
        if lost > 0 { metrics.queueDropped(signal, reason: "corrupt").increment(by: Int64(lost)) }
        release(loaded.expired + loaded.lost)
        return LoadedRecords(body: loaded.body, items: loaded.items, sent: loaded.sent)
    }

    /// What `read` found for a batch of records.
    struct Loaded {
        var body: [UInt8] = []
        var items = 0
        /// Records whose bodies are in `body`.
        var sent: [StoredRecord] = []
        /// Records past `maxAge` (dropped, counted by the caller).
        var expired: [StoredRecord] = []
        /// Records that failed their CRC or could not be read.
        var lost: [StoredRecord] = []
    }

    /// Reads the bodies of `records` (one pipeline batch) back from disk, checking each CRC again and
    /// leaving out what has expired.
    func read(_ records: [StoredRecord]) -> Loaded {
        var loaded = Loaded()
        let oldest = wallClock() - Int64(configuration.maxAge.components.seconds) * 1_000_000_000
        let files = state.withLock { state in records.map { state.segments[$0.segment].map { ($0.fd, $0.path) } } }
        loaded.body.reserveCapacity(records.reduce(0) { $0 + $1.bodyBytes })
        for (record, file) in zip(records, files) {
            if record.enqueuedAt < oldest {
                loaded.expired.append(record)
                continue
            }
            guard let (fd, path) = file else {
                loaded.lost.append(record)
                continue
            }
            let start = loaded.body.count
            do {
                guard
                    try SegmentIO.read(
                        fd, count: record.bodyBytes, at: record.bodyOffset, into: &loaded.body, path: path)
                else {
                    throw SegmentIOError(operation: "read", path: path, errno: EIO)
                }
                let header = SegmentRecord.header(
                    signal: record.signal, items: record.items, enqueuedAt: record.enqueuedAt)
                let crc = loaded.body.withUnsafeBytes {
                    SegmentRecord.crc(header: header, body: UnsafeRawBufferPointer(rebasing: $0[start...]))
                }
                guard crc == record.crc else {
                    loaded.body.removeSubrange(start...)
                    metrics.queueCorruptions(.corruptRecord).increment()
                    metrics.queueCorruptBytes.increment(by: Int64(record.fileBytes))
                    logger.error(
                        "Disk queue record changed on disk since it was written; dropping it",
                        metadata: [
                            "file.path": "\(path)", "file.offset": "\(record.offset)",
                            "bytes.dropped": "\(record.fileBytes)",
                        ])
                    loaded.lost.append(record)
                    continue
                }
            } catch {
                loaded.body.removeSubrange(start...)
                metrics.queueCorruptions(.corruptRecord).increment()
                logger.error("Cannot read a disk queue record; dropping it", metadata: ["error": "\(error)"])
                loaded.lost.append(record)
                continue
            }
            loaded.items += record.items
            loaded.sent.append(record)
        }
        return loaded
    }

    /// The records left the queue (exported, refused, dropped, expired): a segment goes once all its
    /// records have, unless it is the one being appended to; until then each record is marked released
    /// in place (one byte, no fsync: it survives `kill -9`; a power loss can only cause a duplicate).
    public func release(_ records: [StoredRecord]) {
        guard !records.isEmpty else { return }
        state.withLock { state in
            for record in records {
                guard var segment = state.segments[record.segment] else { continue }
                segment.live -= 1
                state.liveRecords -= 1
                state.segments[record.segment] = segment
                if segment.live == 0 && state.active != record.segment {
                    delete(record.segment, state: &state)
                } else {
                    var mark = SegmentRecord.released
                    _ = pwrite(segment.fd, &mark, 1, off_t(record.stateOffset))
                }
            }
        }
        metrics.queueDiskBytes.set(Int64(diskBytes))
    }
}
