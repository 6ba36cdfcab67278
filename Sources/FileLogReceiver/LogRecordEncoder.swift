import OTLPWire

#if canImport(Glibc)
import Glibc
#endif

/// Encodes decoded records as OTLP `LogRecord`s straight into protobuf, parsing Flux's JSON on the
/// way in one pass over the bytes (no intermediate model, no Foundation):
///
/// - `ts` (ISO 8601 / RFC 3339 string, or epoch seconds) → `time_unix_nano`; the runtime's line time → `observed_time_unix_nano`
/// - `level` → `severity_number` (trace 1, debug 5, info 9, warn 13, error 17, dpanic/panic/fatal 21) and `severity_text`
/// - `msg` → body; `error` → attribute `exception.message`
/// - every other key → an attribute: objects as key-value lists, arrays as arrays, numbers and booleans typed.
///   Duplicate keys keep their first value (Flux writes `event` twice).
/// - the Flux object the line is about → `flux.object.*` and `flux.revision` (`FluxObjectFields`), and the
///   derived `flux_*` counters (`FluxLogCounters`); with `movesFluxFields` the members they repeat are left out
///
/// A line that is not a JSON object is exported with its raw text as the body. Strings are always
/// written as valid UTF-8 (invalid sequences become U+FFFD), so the official decoders accept them.
struct LogRecordEncoder {
    private var scratch: [UInt8] = []
    private var keys: [(start: Int, count: Int)] = []
    /// Sets `trace_id` (field 9) on lines about a traced Flux object (issue 18); nil: never.
    var traceLookup: FluxTraceLookup?
    /// The Flux object the line is about (`flux.object.*`, `flux.revision`; see `FluxObjectFields`).
    private var flux = FluxObjectFields()
    /// Where the derived `flux_*` counters are counted (nil: not counted), and the metric resource of the
    /// file being encoded (`LogChunkBuilder.metricResourceField`).
    var counters: FluxLogCounters?
    var countersResource: [UInt8] = []
    private var observedNow: UInt64 = 0
    /// `flux_fields: move`: a top-level member that only repeats the line's `flux.*` attributes is left out
    /// (`FluxObjectFields.isRepeated`); `copy` (false) keeps every original key next to them.
    var movesFluxFields = false
    /// The members written that may repeat the identity: where they were written and their raw value.
    private var repeatCandidates: [(written: Range<Int>, key: JSONScanner.RawString, valueStart: Int, valueEnd: Int)] =
        []
    /// Largest nesting depth parsed as structure; deeper lines are exported raw. Each JSON object level
    /// costs 3 protobuf levels (AnyValue > KeyValueList > KeyValue), under 5 for the record's attribute:
    /// 20 keeps every record within `ProtoReader.defaultMaxDepth` (64), which the pipeline's splitter uses.
    static let maxDepth = 20

    /// Attribute `log.iostream` as encoded `KeyValue` fields (field 6 of `LogRecord`), per stream.
    private static let streamAttributes: [[UInt8]] = [LogStream.unknown, .stdout, .stderr].map { stream in
        guard stream != .unknown else { return [] }
        var w = ProtoWriter()
        w.message(6, OTLP.KeyValue("log.iostream", stream.name))
        return w.bytes
    }

    /// Appends one `LogRecord` as field 2 of a `ScopeLogs` body. `fileAttributes` are encoded `KeyValue`
    /// fields (field 6) appended to every record of the file.
    mutating func append(
        _ record: DecodedRecord, fileAttributes: [UInt8], observedNow: UInt64, into w: inout ProtoWriter
    ) {
        let mark = w.beginMessage(2)
        let start = w.count
        self.observedNow = observedNow
        var parsed = false
        var hasTime = false
        var hasBody = false
        if let base = record.content.baseAddress?.assumingMemoryBound(to: UInt8.self), record.content.count > 1,
            Self.startsWithObject(base, record.content.count)
        {
            // A record cut at max_log_size is a JSON object without its end: keep the members before the cut
            // (zap writes level, ts and msg first), so it keeps its severity, time and message.
            switch encodeJSON(base, record.content.count, prefixOnly: record.truncated, into: &w) {
            case .some(let found):
                parsed = true
                hasTime = found.time
                hasBody = found.body
            case .none:
                w.truncate(to: start)
            }
        }
        if parsed && !hasBody, let base = record.content.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            // The cut fell inside `msg` (or before it): the kept text is the body.
            let body = w.beginMessage(5)
            writeString(1, base, record.content.count, into: &w)
            w.endMessage(body)
        }
        if !parsed {
            let body = w.beginMessage(5)
            var severity: (Int32, String)?
            if let base = record.content.baseAddress?.assumingMemoryBound(to: UInt8.self) {
                writeString(1, base, record.content.count, into: &w)
                severity = Self.plainTextSeverity(base, record.content.count)
            } else {
                w.writeStringAlways(1, "")
            }
            w.endMessage(body)
            if let (number, text) = severity {
                w.int32(2, number)
                w.writeStringAlways(3, text)
            }
        }
        if parsed, let lookup = traceLookup, let base = record.content.baseAddress?.assumingMemoryBound(to: UInt8.self),
            let traceID = flux.traceID(base, lookup: lookup)
        {
            w.bytes(9, traceID)
        }
        if !hasTime && record.time != 0 { w.fixed64(1, record.time) }
        w.fixed64(11, record.time != 0 ? record.time : observedNow)
        w.writeRawBytes(fileAttributes)
        w.writeRawBytes(Self.streamAttributes[Int(record.stream.rawValue)])
        if record.truncated {
            w.message(6, OTLP.KeyValue(key: "fluxtel.log.truncated", value: .bool(true)))
            w.message(6, OTLP.KeyValue(key: "fluxtel.log.original_size", value: .int(Int64(record.originalSize))))
        }
        w.endMessage(mark)
    }

    /// Severity of the plain-text lines that share Flux's stream: klog (`I0915 14:58:21.046324 …`,
    /// with `I`/`W`/`E`/`F`) and Go panics (`panic: …`, `fatal error: …`).
    static func plainTextSeverity(_ p: UnsafePointer<UInt8>, _ n: Int) -> (Int32, String)? {
        if n >= 22, p[5] == 0x20, p[8] == UInt8(ascii: ":"), p[11] == UInt8(ascii: ":"), p[14] == UInt8(ascii: "."),
            (1...4).allSatisfy({ p[$0] &- 0x30 < 10 })
        {
            switch p[0] {
            case UInt8(ascii: "I"): return (9, "info")
            case UInt8(ascii: "W"): return (13, "warn")
            case UInt8(ascii: "E"): return (17, "error")
            case UInt8(ascii: "F"): return (21, "fatal")
            default: return nil
            }
        }
        if n >= 7 && memcmp(p, "panic: ", 7) == 0 { return (21, "panic") }
        if n >= 13 && memcmp(p, "fatal error: ", 13) == 0 { return (21, "fatal") }
        return nil
    }

    // MARK: JSON

    /// Whether the first byte after JSON whitespace is `{` (a line such as `\r{"level":…}` is JSON too).
    @inline(__always) static func startsWithObject(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        var i = 0
        while i < n, p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D || p[i] == 0x0A { i += 1 }
        return i < n && p[i] == UInt8(ascii: "{")
    }

    /// Encodes a JSON object's members as `LogRecord` fields. `nil` when the bytes are not one JSON object
    /// (the caller then rolls back and writes the raw text); otherwise whether a timestamp and a body were
    /// written. With `prefixOnly` (a record cut short) the object may end anywhere: the members before the
    /// first incomplete one are kept, if there is at least one.
    private mutating func encodeJSON(
        _ p: UnsafePointer<UInt8>, _ n: Int, prefixOnly: Bool = false, into w: inout ProtoWriter
    ) -> (time: Bool, body: Bool)? {
        var s = JSONScanner(p, count: n)
        guard s.consume(UInt8(ascii: "{")) else { return nil }
        keys.removeAll(keepingCapacity: true)
        repeatCandidates.removeAll(keepingCapacity: true)
        flux.reset()
        var hasTime = false
        var hasBody = false
        let objectStart = w.count
        var memberStart = objectStart
        /// The object ended early: a cut record keeps the members before the cut (if any wrote something),
        /// anything else is not JSON.
        func incomplete(_ w: inout ProtoWriter) -> (time: Bool, body: Bool)? {
            guard prefixOnly, memberStart > objectStart else { return nil }
            w.truncate(to: memberStart)
            finishFlux(p, into: &w)
            return (hasTime, hasBody)
        }
        if !s.consume(UInt8(ascii: "}")) {
            repeat {
                memberStart = w.count
                guard let key = s.scanString(), s.consume(UInt8(ascii: ":")) else { return incomplete(&w) }
                s.skipWhitespace()
                if isDuplicate(key, p) {
                    guard s.skipValue() else { return incomplete(&w) }
                    continue
                }
                keys.append((key.start, key.count))
                let k = p + key.start
                let valueStart = s.i
                switch key.count {
                case 2 where k[0] == UInt8(ascii: "t") && k[1] == UInt8(ascii: "s"):
                    let save = s.i
                    if let time = timestamp(&s) {
                        w.fixed64(1, time)
                        hasTime = true
                        continue
                    }
                    s.i = save
                case 5 where matches(k, "level"):
                    let save = s.i
                    if s.peek == UInt8(ascii: "\""), let value = s.scanString(), !value.escaped {
                        let v = p + value.start
                        w.int32(2, Self.severity(v, value.count))
                        writeString(3, v, value.count, into: &w)
                        continue
                    }
                    s.i = save
                case 3 where matches(k, "msg"):
                    let body = w.beginMessage(5)
                    guard writeValue(&s, into: &w, depth: 0) else { return incomplete(&w) }
                    w.endMessage(body)
                    hasBody = true
                    flux.observe(key: key, valueStart: valueStart, valueEnd: s.i, p)
                    continue
                case 5 where matches(k, "error"):
                    let kv = w.beginMessage(6)
                    w.writeStringAlways(1, "exception.message")
                    let value = w.beginMessage(2)
                    guard writeValue(&s, into: &w, depth: 0) else { return incomplete(&w) }
                    w.endMessage(value)
                    w.endMessage(kv)
                    continue
                default:
                    break
                }
                let kv = w.beginMessage(6)
                writeString(1, key, p, into: &w)
                let value = w.beginMessage(2)
                guard writeValue(&s, into: &w, depth: 0) else { return incomplete(&w) }
                w.endMessage(value)
                w.endMessage(kv)
                flux.observe(key: key, valueStart: valueStart, valueEnd: s.i, p)
                if movesFluxFields, FluxObjectFields.mayRepeat(key: key, valueStart: valueStart, p) {
                    repeatCandidates.append((memberStart..<w.count, key, valueStart, s.i))
                }
            } while s.consume(UInt8(ascii: ","))
            memberStart = w.count
            guard s.consume(UInt8(ascii: "}")) else { return incomplete(&w) }
        }
        s.skipWhitespace()
        guard s.atEnd else { return nil }
        finishFlux(p, into: &w)
        return (hasTime, hasBody)
    }

    /// The line's Flux object identity as record attributes.
    private mutating func finishFlux(_ p: UnsafePointer<UInt8>, into w: inout ProtoWriter) {
        flux.finish(p)
        for candidate in repeatCandidates.reversed()
        where flux.isRepeated(key: candidate.key, valueStart: candidate.valueStart, valueEnd: candidate.valueEnd, p) {
            w.remove(candidate.written)
        }
        flux.write(field: 6, into: &w, p)
        counters?.count(flux, p, resource: countersResource, now: observedNow)
    }

    private func isDuplicate(_ key: JSONScanner.RawString, _ p: UnsafePointer<UInt8>) -> Bool {
        for seen in keys where seen.count == key.count {
            if memcmp(p + seen.start, p + key.start, key.count) == 0 { return true }
        }
        return false
    }

    @inline(__always)
    private func matches(_ p: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        memcmp(p, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    /// `ts` as an ISO 8601 / RFC 3339 string or as epoch seconds.
    private func timestamp(_ s: inout JSONScanner) -> UInt64? {
        if s.peek == UInt8(ascii: "\"") {
            guard let value = s.scanString(), !value.escaped else { return nil }
            return Timestamp.parseISO8601(s.base + value.start, value.count)
        }
        guard let range = s.scanScalar(), let seconds = parseDouble(s.base, range) else { return nil }
        return Timestamp.fromEpochSeconds(seconds)
    }

    static func severity(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        guard n >= 4 else { return 0 }
        switch p[0] | 0x20 {
        case UInt8(ascii: "t"): return 1
        case UInt8(ascii: "d"): return p[1] | 0x20 == UInt8(ascii: "p") ? 21 : 5  // dpanic / debug
        case UInt8(ascii: "i"): return 9
        case UInt8(ascii: "w"): return 13
        case UInt8(ascii: "e"): return 17
        case UInt8(ascii: "p"), UInt8(ascii: "f"), UInt8(ascii: "c"): return 21  // panic, fatal, critical
        default: return 0
        }
    }

    /// Writes the fields of an `AnyValue` for the JSON value at the cursor.
    private mutating func writeValue(_ s: inout JSONScanner, into w: inout ProtoWriter, depth: Int) -> Bool {
        guard depth < Self.maxDepth else { return false }
        s.skipWhitespace()
        guard !s.atEnd else { return false }
        switch s.base[s.i] {
        case UInt8(ascii: "\""):
            guard let value = s.scanString() else { return false }
            writeString(1, value, s.base, into: &w)
            return true
        case UInt8(ascii: "{"):
            s.i += 1
            let list = w.beginMessage(6)
            if !s.consume(UInt8(ascii: "}")) {
                repeat {
                    guard let key = s.scanString(), s.consume(UInt8(ascii: ":")) else { return false }
                    let kv = w.beginMessage(1)
                    writeString(1, key, s.base, into: &w)
                    let value = w.beginMessage(2)
                    guard writeValue(&s, into: &w, depth: depth + 1) else { return false }
                    w.endMessage(value)
                    w.endMessage(kv)
                } while s.consume(UInt8(ascii: ","))
                guard s.consume(UInt8(ascii: "}")) else { return false }
            }
            w.endMessage(list)
            return true
        case UInt8(ascii: "["):
            s.i += 1
            let array = w.beginMessage(5)
            if !s.consume(UInt8(ascii: "]")) {
                repeat {
                    let value = w.beginMessage(1)
                    guard writeValue(&s, into: &w, depth: depth + 1) else { return false }
                    w.endMessage(value)
                } while s.consume(UInt8(ascii: ","))
                guard s.consume(UInt8(ascii: "]")) else { return false }
            }
            w.endMessage(array)
            return true
        default:
            guard let range = s.scanScalar() else { return false }
            let p = s.base + range.lowerBound
            let n = range.count
            if n == 4 && matches(p, "true") {
                w.writeTag(2, .varint)
                w.writeVarint(1)
            } else if n == 5 && matches(p, "false") {
                w.writeTag(2, .varint)
                w.writeVarint(0)
            } else if n == 4 && matches(p, "null") {
                // an empty AnyValue
            } else if let int = parseInt(p, n) {
                w.writeTag(3, .varint)
                w.writeVarint(UInt64(bitPattern: int))
            } else if let double = parseDouble(s.base, range) {
                if double.isFinite {
                    w.doubleAlways(4, double)
                } else {
                    writeString(1, p, n, into: &w)  // a valid JSON number beyond Double (1e400): keep its text
                }
            } else {
                return false
            }
            return true
        }
    }

    private func parseInt(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int64? {
        var i = 0
        let negative = p[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        guard i < n, n - i <= 18 else { return nil }
        var v: Int64 = 0
        while i < n {
            let d = p[i] &- 0x30
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        return negative ? -v : v
    }

    private func parseDouble(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) -> Double? {
        // No length limit: a valid JSON number of any length (bounded by max_log_size) parses, or its line went raw.
        for i in range {
            switch base[i] {
            case 0x30...0x39, UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"),
                UInt8(ascii: "E"):
                continue
            default: return nil
            }
        }
        let text = String(
            decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
        return Double(text)  // ±infinity for a number beyond Double's range (the characters rule out "inf", "nan")
    }

    // MARK: strings

    /// A JSON string (raw, between quotes) as a protobuf string field.
    private mutating func writeString(
        _ field: UInt32, _ raw: JSONScanner.RawString, _ base: UnsafePointer<UInt8>, into w: inout ProtoWriter
    ) {
        if !raw.escaped {
            if raw.ascii {
                w.writeTag(field, .lengthDelimited)
                w.writeVarint(UInt64(raw.count))
                w.writeRawBytes(UnsafeRawBufferPointer(start: base + raw.start, count: raw.count))
            } else {
                writeString(field, base + raw.start, raw.count, into: &w)
            }
            return
        }
        var text = scratch
        scratch = []
        JSONScanner(base, count: raw.start + raw.count).unescape(raw, into: &text)
        text.withUnsafeBufferPointer { buffer in
            writeString(field, buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, buffer.count, into: &w)
        }
        scratch = text
    }

    /// Arbitrary bytes as a protobuf string field (repaired to valid UTF-8 when needed).
    private func writeString(_ field: UInt32, _ p: UnsafePointer<UInt8>, _ n: Int, into w: inout ProtoWriter) {
        withValidUTF8(p, n) { bytes in
            w.writeTag(field, .lengthDelimited)
            w.writeVarint(UInt64(bytes.count))
            w.writeRawBytes(bytes)
        }
    }
}
