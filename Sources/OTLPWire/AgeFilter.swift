/// Drops items whose own timestamp is older than a cutoff from an encoded request body (the
/// `processors.max_age` intake filter): spans by end time (start time when the end is 0), log records by
/// `time_unix_nano` (`observed_time_unix_nano` when 0), metric data points by `time_unix_nano`. A
/// timestamp of 0 is unknown: the item is kept.
///
/// Two passes over the bytes: the first only reads timestamps (no allocation), and only when something
/// is too old does the second write the body again without those items. A scope, metric or resource
/// left without items is dropped with them; everything else is copied verbatim.
public enum AgeFilter {
    /// The body without the items older than `cutoff` (nanoseconds since the epoch) and how many were
    /// dropped; nil when none is (the common case: the caller keeps its bytes). Throws on malformed input.
    public static func dropOlder(
        than cutoff: UInt64, signal: Signal, body: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth
    ) throws(ProtoDecodingError) -> (bytes: [UInt8], dropped: Int)? {
        let shape = Shape(signal)
        var reader = ProtoReader(body, maxDepth: maxDepth)
        guard try shape.anyOlder(than: cutoff, &reader, level: 0) else { return nil }
        var w = ProtoWriter(reservingCapacity: body.count)
        reader = ProtoReader(body, maxDepth: maxDepth)
        let (_, dropped) = try shape.copy(&reader, into: &w, level: 0, cutoff: cutoff)
        return (w.finish(), dropped)
    }

    /// Where items sit in a request of one signal: the child field numbers at each level (request,
    /// resource, scope, and for metrics metric and its data message); children of the last are items.
    struct Shape {
        let signal: Signal
        let levels: Int

        init(_ signal: Signal) {
            self.signal = signal
            self.levels = signal == .metrics ? 5 : 3
        }

        func isChild(_ number: UInt32, level: Int) -> Bool {
            switch (signal, level) {
            case (_, 0): number == 1  // Export*ServiceRequest.resource_*
            case (.metrics, 3): number == 5 || number == 7 || number == 9 || number == 10 || number == 11  // data
            case (.metrics, 4): number == 1  // data_points
            default: number == 2  // scope_*, spans / log_records / metrics
            }
        }

        /// The item's own time (0: unknown).
        func timestamp(_ item: inout ProtoReader) throws(ProtoDecodingError) -> UInt64 {
            var primary: UInt64 = 0
            var fallback: UInt64 = 0
            let (primaryField, fallbackField): (UInt32, UInt32) =
                switch signal {
                case .traces: (8, 7)  // end_time_unix_nano, start_time_unix_nano
                case .logs: (1, 11)  // time_unix_nano, observed_time_unix_nano
                case .metrics: (3, 0)  // time_unix_nano
                }
            while let key = try item.nextField() {
                if key.number == primaryField, key.wireType == .fixed64 {
                    primary = try item.fixed64(key)
                } else if key.number == fallbackField, key.wireType == .fixed64 {
                    fallback = try item.fixed64(key)
                } else {
                    try item.skip(key)
                }
            }
            return primary != 0 ? primary : fallback
        }

        func isOld(_ item: inout ProtoReader, cutoff: UInt64) throws(ProtoDecodingError) -> Bool {
            let time = try timestamp(&item)
            return time != 0 && time < cutoff
        }

        /// First pass: is any item older than `cutoff`?
        func anyOlder(
            than cutoff: UInt64, _ reader: inout ProtoReader, level: Int
        ) throws(ProtoDecodingError)
            -> Bool
        {
            while let key = try reader.nextField() {
                guard isChild(key.number, level: level), key.wireType == .lengthDelimited else {
                    try reader.skip(key)
                    continue
                }
                var child = try reader.nested(key)
                if level + 1 == levels {
                    if try isOld(&child, cutoff: cutoff) { return true }
                } else if try anyOlder(than: cutoff, &child, level: level + 1) {
                    return true
                }
            }
            return false
        }

        /// Second pass: copies the message's fields, children filtered. Returns the items kept and
        /// dropped below it.
        func copy(
            _ reader: inout ProtoReader, into w: inout ProtoWriter, level: Int, cutoff: UInt64
        ) throws(ProtoDecodingError) -> (kept: Int, dropped: Int) {
            var kept = 0
            var dropped = 0
            while let key = try reader.nextField() {
                guard isChild(key.number, level: level), key.wireType == .lengthDelimited else {
                    try reader.skip(key)
                    copyRaw(reader.buffer, key.offset..<reader.position, into: &w)
                    continue
                }
                let fieldStart = key.offset
                var child = try reader.nested(key)
                if level + 1 == levels {
                    var probe = child
                    if try isOld(&probe, cutoff: cutoff) {
                        dropped += 1
                    } else {
                        kept += 1
                        copyRaw(reader.buffer, fieldStart..<child.end, into: &w)
                    }
                    continue
                }
                let mark = w.count
                let message = w.beginMessage(key.number)
                let inner = try copy(&child, into: &w, level: level + 1, cutoff: cutoff)
                w.endMessage(message)
                kept += inner.kept
                dropped += inner.dropped
                // A container whose items were all dropped goes with them; one that never had any stays.
                if inner.kept == 0 && inner.dropped > 0 { w.truncate(to: mark) }
            }
            return (kept, dropped)
        }

        func copyRaw(_ buffer: [UInt8], _ range: Range<Int>, into w: inout ProtoWriter) {
            buffer.withUnsafeBytes { w.writeRawBytes(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }
}
