import Logging
import OTLPWire
import Pipeline
import SelfTelemetry

/// Start-up: the segment files of the directory are scanned in order, damaged ones cut at their last
/// good record (reported and counted), and the records still owed are replayed into the pipeline.
extension DiskQueue {
    static func path(_ directory: String, _ id: UInt64) -> String {
        let hex = String(id, radix: 16)
        return directory + "/" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".seg"
    }

    static func replay(
        _ directory: String, into state: inout State, metrics: AgentMetrics, logger: Logger
    ) throws -> [StoredRecord] {
        let ids = try SegmentIO.list(directory).compactMap { name -> UInt64? in
            guard name.count == 20, name.hasSuffix(".seg") else { return nil }
            return UInt64(name.prefix(16), radix: 16)
        }.sorted()
        var replayed: [StoredRecord] = []
        for id in ids {
            let path = Self.path(directory, id)
            state.nextSegment = max(state.nextSegment, id + 1)
            let fd: Int32
            let scan: SegmentScanner.Result
            do {
                fd = try SegmentIO.openSegment(path, create: false)
                do { scan = try SegmentScanner.scan(fd: fd, segment: id, path: path) } catch {
                    SegmentIO.close(fd)
                    throw error
                }
            } catch {
                // An unreadable segment is reported and left alone; the rest still replays.
                metrics.queueCorruptions(.corruptRecord).increment()
                logger.error(
                    "Cannot read a disk queue segment; skipping it",
                    metadata: ["file.path": "\(path)", "error": "\(error)"])
                continue
            }
            if let damage = scan.damage {
                let dropped = scan.fileBytes - scan.validBytes
                metrics.queueCorruptions(damage).increment()
                metrics.queueCorruptBytes.increment(by: dropped)
                logger.error(
                    damage == .tornTail
                        ? "Disk queue segment has a torn tail; truncated it"
                        : "Disk queue segment has a corrupt record; skipped the rest of it",
                    metadata: [
                        "file.path": "\(path)", "file.offset": "\(scan.validBytes)", "bytes.dropped": "\(dropped)",
                        "records.kept": "\(scan.records.count)",
                    ])
                do { try SegmentIO.truncate(fd, to: scan.validBytes, path: path) } catch {
                    logger.error("Cannot truncate a damaged disk queue segment", metadata: ["error": "\(error)"])
                }
            }
            if scan.records.isEmpty {
                SegmentIO.close(fd)
                SegmentIO.remove(path)
                continue
            }
            state.segments[id] = Segment(id: id, path: path, fd: fd, size: scan.validBytes, live: scan.records.count)
            state.diskBytes += scan.validBytes
            state.liveRecords += scan.records.count
            replayed += scan.records
        }
        if !replayed.isEmpty {
            for signal in Signal.allCases {
                let items = replayed.lazy.filter { $0.signal == signal }.reduce(0) { $0 + $1.items }
                if items > 0 { metrics.queueReplayed(signal).increment(by: Int64(items)) }
            }
            logger.info(
                "Replaying the disk queue",
                metadata: [
                    "queue.records": "\(replayed.count)", "queue.disk_bytes": "\(state.diskBytes)",
                    "queue.segments": "\(state.segments.count)",
                ])
        }
        return replayed
    }
}
