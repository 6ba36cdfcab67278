import OTLPWire

/// Which stream of the container a line came from (CRI and docker say; raw files don't).
public enum LogStream: UInt8, Sendable {
    case unknown, stdout, stderr

    var name: String {
        switch self {
        case .unknown: ""
        case .stdout: "stdout"
        case .stderr: "stderr"
        }
    }
}

/// How the lines of a file are framed.
public enum LineFormat: String, Sendable, Hashable {
    /// Decided per file from its first line.
    case auto
    /// `<RFC3339Nano> <stream> <P|F> <content>` (containerd, CRI-O).
    case cri
    /// docker's json-file: `{"log":"…\n","stream":"stderr","time":"…"}`.
    case docker
    /// One record per line.
    case raw
}

/// One log record's content after unwrapping the container runtime's framing and joining partial lines.
struct DecodedRecord {
    /// The application's bytes (Flux's JSON, or any text). Valid only during the `emit` call.
    var content: UnsafeRawBufferPointer
    var stream: LogStream
    /// The runtime's timestamp of the line (nanoseconds since the epoch), 0 when the format has none.
    var time: UInt64
    /// The record was longer than `max_log_size` and was cut.
    var truncated: Bool
    /// The length before truncation.
    var originalSize: Int
}

/// Turns physical lines (without their `\n`) into records: unwraps CRI / docker framing, joins CRI `P`
/// fragments until the `F` record and docker's 16 KiB splits until the line that ends in `\n`, caps
/// joined records at `maxLogSize` (flagging them), and falls back to raw text for lines that are not
/// in the file's format. Nothing is ever dropped.
///
/// Joining is per stream: the runtime writes stdout's and stderr's partial lines independently, so a
/// stderr line between two stdout fragments is a record of its own, not part of the stdout record.
struct LineDecoder {
    private(set) var format: LineFormat
    let maxLogSize: Int

    /// One stream's record being joined from fragments.
    private struct Join {
        /// Fragments joined so far (at most `maxLogSize` bytes).
        var bytes: [UInt8] = []
        var active = false
        var originalSize = 0
        var time: UInt64 = 0
        /// File offset where the record began: checkpoints must not pass it.
        var start: Int64 = 0
    }

    /// Indexed by `LogStream.rawValue` (unknown, stdout, stderr).
    private var joins = [Join(), Join(), Join()]
    /// File offset where the earliest record still being joined began: checkpoints must not pass it.
    private(set) var pendingStart: Int64?
    private var scratch: [UInt8] = []

    init(format: LineFormat, maxLogSize: Int) {
        self.format = format
        self.maxLogSize = max(1, maxLogSize)
    }

    /// Forgets half-joined records (after truncation of the file).
    mutating func reset() {
        joins = [Join(), Join(), Join()]
        pendingStart = nil
    }

    /// Decodes one physical line. `cut` says the line itself was cut by the reader (longer than it buffers).
    mutating func decode(
        _ line: UnsafeRawBufferPointer, startOffset: Int64, cut: Bool = false, emit: (DecodedRecord) -> Void
    ) {
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self), line.count > 0 else {
            if format == .raw || format == .auto { return }  // an empty line carries nothing
            return
        }
        if format == .auto { format = Self.detect(base, line.count) }
        switch format {
        case .cri:
            if decodeCRI(base, line.count, startOffset: startOffset, cut: cut, emit: emit) { return }
        case .docker:
            if decodeDocker(base, line.count, startOffset: startOffset, cut: cut, emit: emit) { return }
        case .raw, .auto:
            break
        }
        // Not in the file's format (or raw): the whole line is the record.
        var n = line.count
        if base[n - 1] == 0x0D { n -= 1 }
        emitCapped(base, n, stream: .unknown, time: 0, cut: cut, originalSize: n, emit: emit)
    }

    /// Emits half-joined records as they are, earliest first (the file ended or was rotated away mid-record).
    mutating func flush(emit: (DecodedRecord) -> Void) {
        let active = [LogStream.unknown, .stdout, .stderr].filter { joins[Int($0.rawValue)].active }
        for stream in active.sorted(by: { joins[Int($0.rawValue)].start < joins[Int($1.rawValue)].start }) {
            emitJoined(stream, emit: emit)
        }
    }

    private func isJoining(_ stream: LogStream) -> Bool { joins[Int(stream.rawValue)].active }

    // MARK: formats

    static func detect(_ p: UnsafePointer<UInt8>, _ n: Int) -> LineFormat {
        if n > 8, p[0] == UInt8(ascii: "{") {
            var s = JSONScanner(p, count: n)
            s.i = 1
            if let key = s.scanString(), key.count == 3, p[key.start] == UInt8(ascii: "l"),
                p[key.start + 1] == UInt8(ascii: "o"), p[key.start + 2] == UInt8(ascii: "g")
            {
                return .docker
            }
            return .raw
        }
        return parseCRI(p, n) != nil ? .cri : .raw
    }

    struct CRIFields {
        var time: UInt64
        var stream: LogStream
        var partial: Bool
        var contentStart: Int
    }

    /// `<time> <stream> <tag> <content>`; the tag is `P` or `F` (possibly followed by more `:`-separated tags).
    static func parseCRI(_ p: UnsafePointer<UInt8>, _ n: Int) -> CRIFields? {
        var i = 0
        while i < n && p[i] != 0x20 { i += 1 }
        guard i < n, let time = Timestamp.parseISO8601(p, i) else { return nil }
        i += 1
        let streamStart = i
        while i < n && p[i] != 0x20 { i += 1 }
        let streamLength = i - streamStart
        var stream = LogStream.unknown
        if streamLength == 6 {
            if p[streamStart + 3] == UInt8(ascii: "e") {
                stream = .stderr
            } else if p[streamStart + 3] == UInt8(ascii: "o") {
                stream = .stdout
            }
        }
        guard stream != .unknown, i < n else { return nil }
        i += 1
        guard i < n else { return nil }
        let tag = p[i]
        guard tag == UInt8(ascii: "P") || tag == UInt8(ascii: "F") else { return nil }
        while i < n && p[i] != 0x20 { i += 1 }
        let contentStart = i < n ? i + 1 : n
        return CRIFields(time: time, stream: stream, partial: tag == UInt8(ascii: "P"), contentStart: contentStart)
    }

    private mutating func decodeCRI(
        _ p: UnsafePointer<UInt8>, _ n: Int, startOffset: Int64, cut: Bool, emit: (DecodedRecord) -> Void
    ) -> Bool {
        guard let fields = Self.parseCRI(p, n) else { return false }
        let content = p + fields.contentStart
        let length = n - fields.contentStart
        if fields.partial || isJoining(fields.stream) {
            append(content, length, stream: fields.stream, time: fields.time, startOffset: startOffset)
            // The reader cut this fragment: flag the record.
            if cut { joins[Int(fields.stream.rawValue)].originalSize += 1 }
            if !fields.partial { emitJoined(fields.stream, emit: emit) }
            return true
        }
        emitCapped(
            content, length, stream: fields.stream, time: fields.time, cut: cut, originalSize: length, emit: emit)
        return true
    }

    private mutating func decodeDocker(
        _ p: UnsafePointer<UInt8>, _ n: Int, startOffset: Int64, cut: Bool, emit: (DecodedRecord) -> Void
    ) -> Bool {
        var s = JSONScanner(p, count: n)
        guard s.consume(UInt8(ascii: "{")) else { return false }
        var log: JSONScanner.RawString?
        var stream = LogStream.unknown
        var time: UInt64 = 0
        repeat {
            guard let key = s.scanString(), s.consume(UInt8(ascii: ":")) else { return false }
            let k = UnsafeRawBufferPointer(start: p + key.start, count: key.count)
            if k.elementsEqual("log".utf8) {
                guard let value = s.scanString() else { return false }
                log = value
            } else if k.elementsEqual("stream".utf8) {
                guard let value = s.scanString() else { return false }
                if value.count == 6 { stream = p[value.start + 3] == UInt8(ascii: "e") ? .stderr : .stdout }
            } else if k.elementsEqual("time".utf8) {
                guard let value = s.scanString() else { return false }
                time = Timestamp.parseISO8601(p + value.start, value.count) ?? 0
            } else {
                guard s.skipValue() else { return false }
            }
        } while s.consume(UInt8(ascii: ","))
        guard s.consume(UInt8(ascii: "}")), let log else { return false }
        var text = scratch
        scratch = []
        defer { scratch = text }
        if log.escaped {
            s.unescape(log, into: &text)
        } else {
            text.removeAll(keepingCapacity: true)
            text.append(contentsOf: UnsafeRawBufferPointer(start: p + log.start, count: log.count))
        }
        // docker ends every complete line with "\n"; a 16 KiB split has none.
        let complete = text.last == 0x0A
        if complete { text.removeLast() }
        text.withUnsafeBufferPointer { buffer in
            let content = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
            if !complete || isJoining(stream) {
                append(content, buffer.count, stream: stream, time: time, startOffset: startOffset)
                if cut { joins[Int(stream.rawValue)].originalSize += 1 }
                if complete { emitJoined(stream, emit: emit) }
            } else {
                emitCapped(
                    content, buffer.count, stream: stream, time: time, cut: cut, originalSize: buffer.count, emit: emit)
            }
        }
        return true
    }

    // MARK: joining and capping

    private mutating func append(
        _ p: UnsafePointer<UInt8>, _ n: Int, stream: LogStream, time: UInt64, startOffset: Int64
    ) {
        let index = Int(stream.rawValue)
        if !joins[index].active {
            joins[index].active = true
            joins[index].bytes.removeAll(keepingCapacity: true)
            joins[index].originalSize = 0
            joins[index].time = time
            joins[index].start = startOffset
            pendingStart = min(pendingStart ?? startOffset, startOffset)
        }
        joins[index].originalSize += n
        let room = maxLogSize - joins[index].bytes.count
        if room > 0 { joins[index].bytes.append(contentsOf: UnsafeRawBufferPointer(start: p, count: min(room, n))) }
    }

    private mutating func emitJoined(_ stream: LogStream, emit: (DecodedRecord) -> Void) {
        let index = Int(stream.rawValue)
        let (time, originalSize) = (joins[index].time, joins[index].originalSize)
        let truncated = originalSize > joins[index].bytes.count
        joins[index].bytes.withUnsafeBytes { bytes in
            emit(
                DecodedRecord(
                    content: bytes, stream: stream, time: time, truncated: truncated,
                    originalSize: originalSize))
        }
        joins[index].active = false
        if joins[index].bytes.capacity > 1 << 20 {
            joins[index].bytes = []
        } else {
            joins[index].bytes.removeAll(keepingCapacity: true)
        }
        pendingStart = nil
        for join in joins where join.active { pendingStart = min(pendingStart ?? join.start, join.start) }
    }

    private func emitCapped(
        _ p: UnsafePointer<UInt8>, _ n: Int, stream: LogStream, time: UInt64, cut: Bool, originalSize: Int,
        emit: (DecodedRecord) -> Void
    ) {
        let kept = min(n, maxLogSize)
        emit(
            DecodedRecord(
                content: UnsafeRawBufferPointer(start: p, count: kept), stream: stream, time: time,
                truncated: cut || kept < n, originalSize: cut ? max(originalSize, n + 1) : originalSize))
    }
}
