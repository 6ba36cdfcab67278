// libFuzzer target: the CRI / docker json-file / raw line decoder with partial-line joining
// (FileLogReceiver's LineDecoder), fed a byte stream the way the tailer reads a growing file: in
// chunks cut at fuzzer-chosen points, lines split on '\n', an over-long line cut and flagged, the rest
// flushed at the end. Each record then goes through the LogRecordEncoder into a chunk.
//
// Input: [format+flags] [max_log_size] [split seed: 2 bytes] then the file's bytes.
//
// Checks, besides "never crash":
//   - every record holds at most max_log_size bytes, and is flagged truncated exactly when its
//     original size is larger than what it holds;
//   - the checkpoint never passes the start of a record being joined (pendingStart ≤ the line's
//     offset), and nothing is left pending after the final flush;
//   - the records do not depend on where the reads cut the stream (when no line is over-long);
//   - the encoded chunk is valid OTLP with one log record per decoded record.
// Build and run: scripts/fuzz logline <seconds>.
import OTLPWire

@testable import FileLogReceiver

struct Record: Equatable {
    var content: [UInt8]
    var stream: LogStream
    var time: UInt64
    var truncated: Bool
    var originalSize: Int
}

/// The tailer's framing (Tailer.decodeBuffered) over an in-memory file read in pieces.
final class Reader {
    var decoder: LineDecoder
    let maxLineBytes: Int
    var storage: [UInt8] = []
    var bufferOffset: Int64 = 0
    var skipping = false
    var records: [Record] = []
    var encoder = LogRecordEncoder()
    var chunk = LogChunkBuilder(path: "/var/log/pods/flux-system_kustomize-controller-5f8d_0f1e/manager/0.log",
                                resolvedPath: "/var/log/pods/flux-system_kustomize-controller-5f8d_0f1e/manager/0.log")

    init(format: LineFormat, maxLogSize: Int) {
        decoder = LineDecoder(format: format, maxLogSize: maxLogSize)
        // The tailer allows max_log_size plus framing and escapes (+4096); a smaller slack reaches the cut path.
        maxLineBytes = maxLogSize + maxLogSize / 4 + 64
        chunk.open(reservingCapacity: 4096)
    }

    func feed(_ bytes: ArraySlice<UInt8>, final: Bool) {
        storage.append(contentsOf: bytes)
        let maxLogSize = decoder.maxLogSize
        var collected: [Record] = []
        let emit: (DecodedRecord) -> Void = { r in
            precondition(r.content.count <= maxLogSize, "record of \(r.content.count) bytes, max_log_size \(maxLogSize)")
            precondition(r.content.count <= r.originalSize, "record larger than its original size")
            precondition(r.truncated == (r.originalSize > r.content.count), "truncated flag \(r.truncated), sizes \(r.originalSize)/\(r.content.count)")
            collected.append(Record(content: Array(r.content), stream: r.stream, time: r.time, truncated: r.truncated,
                                    originalSize: r.originalSize))
            self.chunk.withWriter { w, attributes in
                self.encoder.append(r, fileAttributes: attributes, observedNow: 42, into: &w)
            }
        }
        let consumed = storage.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                if final { decoder.flush(emit: emit) }
                return 0
            }
            let filled = raw.count
            var lineStart = 0
            func decode(_ count: Int, cut: Bool) {
                let offset = bufferOffset + Int64(lineStart)
                decoder.decode(UnsafeRawBufferPointer(start: base + lineStart, count: count), startOffset: offset, cut: cut,
                               emit: emit)
                if let pending = decoder.pendingStart {
                    precondition(pending >= 0 && pending <= offset, "checkpoint \(pending) past the line at \(offset)")
                }
            }
            while lineStart < filled {
                guard let newline = raw[lineStart...].firstIndex(of: 0x0A) else { break }
                if skipping { skipping = false } else { decode(newline - lineStart, cut: false) }
                lineStart = newline + 1
            }
            let rest = filled - lineStart
            if rest > 0 && (final || rest >= maxLineBytes) {
                if !skipping { decode(rest, cut: !final) }
                skipping = !final
                lineStart = filled
            }
            if final { decoder.flush(emit: emit) }
            return lineStart
        }
        storage.removeFirst(consumed)
        bufferOffset += Int64(consumed)
        records += collected
        if final { precondition(decoder.pendingStart == nil, "a record is still pending after the final flush") }
    }

    /// The chunk's bytes, checked with the repo's walker.
    func finishChunk() {
        let expected = chunk.records
        guard let (bytes, count) = chunk.finish() else {
            precondition(records.isEmpty, "records but no chunk")
            return
        }
        precondition(count == records.count && expected == count)
        do {
            let items = try OTLPWalker.countItems(signal: .logs, body: bytes)
            precondition(items == count, "\(items) log records on the wire, \(count) decoded")
        } catch {
            fatalError("encoded chunk is not valid OTLP: \(error)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLogLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 4 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let format: LineFormat = [.auto, .cri, .docker, .raw][Int(input[0] & 3)]
    let maxLogSize = input[0] & 4 != 0 ? 16 * 1024 : 1 + Int(input[1]) * 2
    var seed = UInt32(input[2]) << 8 | UInt32(input[3]) | 1
    let file = input[4...]

    // Reference: the whole file in one read.
    let whole = Reader(format: format, maxLogSize: maxLogSize)
    whole.feed(file, final: true)
    whole.finishChunk()

    // The same file in reads cut at (seeded) points of 1...64 bytes, or 1...1024 when the high bit says so.
    let pieces = Reader(format: format, maxLogSize: maxLogSize)
    let span: UInt32 = input[0] & 0x80 != 0 ? 1024 : 64
    var at = file.startIndex
    while at < file.endIndex {
        seed ^= seed << 13
        seed ^= seed >> 17
        seed ^= seed << 5
        let n = min(Int(seed % span) + 1, file.endIndex - at)
        pieces.feed(file[at..<at + n], final: false)
        at += n
    }
    pieces.feed([], final: true)
    pieces.finishChunk()

    let longest = file.split(separator: 0x0A, omittingEmptySubsequences: false).map(\.count).max() ?? 0
    if longest < pieces.maxLineBytes {
        precondition(pieces.records == whole.records, "records depend on where the reads cut the file")
    }
    return 0
}
