// libFuzzer target: the Flux JSON log line parser and LogRecord encoder (FileLogReceiver's
// JSONScanner, LogRecordEncoder, Timestamp) on one record's content: arbitrary bytes, as the line
// decoder hands them over. Checks, besides "never crash":
//   - the chunk holding the record is valid OTLP for the repo's walker (default depth limit, UTF-8 of
//     every string) with exactly one log record, and the model decodes it;
//   - a content that is not a JSON object keeps its text as the body (repaired to valid UTF-8);
//   - a content that is a valid JSON object (RFC 8259, checked with OTLPJSON's strict reader) is parsed,
//     not exported as raw text;
//   - observed time is always set; the runtime's time is the record time unless `ts` gave one;
//     severity numbers are the ones Flux's levels map to; a truncated record says so (and keeps the
//     level, ts and msg of the members before the cut).
// The stream, runtime time and truncation flag come from the input's length (no header: the seeds
// are plain log lines). Build and run: scripts/fuzz fluxjson <seconds>.
import OTLPWire

@testable import FileLogReceiver
@testable import OTLPJSON

let path = "/var/log/pods/flux-system_source-controller-7d9c_3a2b/manager/0.log"

/// Whether the bytes are one JSON object (strict), nested no deeper than the encoder parses.
func isStrictJSONObject(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
    var reader = JSONReader(p, maxDepth: LogRecordEncoder.maxDepth, budget: .max)
    guard reader.peek() == UInt8(ascii: "{") else { return false }
    do {
        try reader.skipValue()
        try reader.finish()
        return true
    } catch {
        return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFluxJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let content = UnsafeRawBufferPointer(start: data, count: size)
    let stream: LogStream = [.unknown, .stdout, .stderr][size % 3]
    let runtimeTime: UInt64 = size & 4 != 0 ? 1_786_525_201_102_000_000 : 0
    let truncated = size & 8 != 0
    let record = DecodedRecord(content: content, stream: stream, time: runtimeTime, truncated: truncated,
                               originalSize: truncated ? size + 1 : size)
    var encoder = LogRecordEncoder()
    var chunk = LogChunkBuilder(path: path, resolvedPath: path)
    chunk.open(reservingCapacity: 1024)
    chunk.withWriter { w, attributes in encoder.append(record, fileAttributes: attributes, observedNow: 7, into: &w) }
    guard let (bytes, count) = chunk.finish() else { fatalError("no chunk") }
    precondition(count == 1)
    do {
        let items = try OTLPWalker.countItems(signal: .logs, body: bytes)
        precondition(items == 1, "\(items) log records on the wire")
    } catch {
        fatalError("encoded record is not valid OTLP: \(error)")
    }
    let request: OTLP.ExportLogsServiceRequest
    do {
        request = try OTLP.ExportLogsServiceRequest(decoding: bytes)
    } catch {
        fatalError("the model does not decode the encoded record: \(error)")
    }
    guard let log = request.resourceLogs.first?.scopeLogs.first?.logRecords.first else { fatalError("no log record") }

    let rawBody = OTLP.AnyValue.string(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self))
    let isRaw = log.body == rawBody
    var first = 0
    while first < size, [0x20, 0x09, 0x0D, 0x0A].contains(data[first]) { first += 1 }
    if size < 2 || first == size || data[first] != UInt8(ascii: "{") {
        precondition(isRaw, "a line that is not a JSON object lost its text")
    }
    if isStrictJSONObject(UnsafeBufferPointer(start: data, count: size)) {
        precondition(!isRaw, "a valid JSON object was exported as raw text")
    }
    precondition(log.observedTimeUnixNano == (runtimeTime != 0 ? runtimeTime : 7), "observed time")
    precondition([0, 1, 5, 9, 13, 17, 21].contains(log.severityNumber.rawValue), "severity \(log.severityNumber)")
    // File and stream attributes follow the line's own; the truncation attributes come last.
    let streamValue = log.attributes.last { $0.key == "log.iostream" }?.value
    let flagged = log.attributes.last?.key == "fluxtel.log.original_size"
    if isRaw && !truncated {  // a cut record keeps its text as the body and may still have recovered `ts`
        precondition(log.timeUnixNano == runtimeTime, "record time of a raw line")
        precondition(streamValue == (stream == .unknown ? nil : .string(stream.name)), "log.iostream")
    } else if stream != .unknown {
        precondition(streamValue == .string(stream.name), "log.iostream")
    }
    if truncated {
        precondition(flagged && log.attributes.last?.value == .int(Int64(size + 1)), "truncation not flagged")
    } else if isRaw {
        precondition(!flagged, "flagged truncated")
    }
    return 0
}
