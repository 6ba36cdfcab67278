// encode-bench: Flux-shaped log records and spans -> OTLP protobuf (OTLPWire) -> gzip (Compression),
// with zlib's own speed on the same bytes measured side by side (CZlibRef, plain C).
//
// Usage: encode-bench [FIXTURES_DIR]   (default: benchmarks/fixtures)
// Env:   FLUXTEL_BENCH_RECORDS   records (and spans) per encoded request, default 1024
//        FLUXTEL_BENCH_GZIP_RECORDS  log records in the gzip input, default 8192 (the default batch max_items)
//        FLUXTEL_BENCH_DUMP      if set, write the gzip input bytes there (for other zlib references)
//        FLUXTEL_BENCH_QUICK=1   shorter samples (smoke test)
//        FLUXTEL_BENCH_ONLY=PREFIX  run only the sections whose name starts with PREFIX (for perf/callgrind)
// Prints one JSON object (see BenchSupport.Report) on stdout; progress on stderr.
import BenchSupport
import CMallocCount
import CZlibRef
import Compression
import OTLPWire

#if canImport(Glibc)
import Glibc
#endif

func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

let fixturesDir = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "benchmarks/fixtures"
let perRequest = Int(env("FLUXTEL_BENCH_RECORDS") ?? "") ?? 1024
let gzipRecords = Int(env("FLUXTEL_BENCH_GZIP_RECORDS") ?? "") ?? 8192
let quick = env("FLUXTEL_BENCH_QUICK") == "1"
let samples = quick ? 3 : 7
let sampleSeconds = quick ? 0.03 : 0.12

@MainActor func run(_ body: () -> Void) -> Measurement { measure(samples: samples, sampleSeconds: sampleSeconds, body) }
let only = env("FLUXTEL_BENCH_ONLY") ?? ""
func selected(_ name: String) -> Bool { only.isEmpty || name.hasPrefix(only) }

var report = Report(benchmark: "encode")
precondition(fluxtel_malloc_interposed() != 0, "CMallocCount is not interposing malloc")

// MARK: inputs

let flatLogs = loadLogs(fixturesDir + "/flux-logs.jsonl")
let spanFixture = loadSpans(fixturesDir + "/otel-spans.json")
// Repeating 93 lines verbatim would let gzip find them again in its window and compress 80x, which
// real traffic does not. Vary what varies in real Flux logs/spans: times, reconcile IDs, span IDs.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func hex(_ n: Int) -> String {
        var s = ""
        while s.count < n { s += String(next(), radix: 16) }
        return String(s.prefix(n))
    }
    mutating func uuid() -> String { "\(hex(8))-\(hex(4))-4\(hex(3))-a\(hex(3))-\(hex(12))" }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

@MainActor func varyLogs(_ n: Int) -> [FlatLog] {
    var rng = SplitMix64(state: 42)
    var t = flatLogs[0].timeUnixNano
    return (0..<n).map { i in
        var r = flatLogs[i % flatLogs.count]
        t += 1_000_000 + rng.next() % 50_000_000
        r.timeUnixNano = t
        r.observedTimeUnixNano = t + 200_000 + rng.next() % 5_000_000
        for j in r.attributes.indices where r.attributes[j].0 == "reconcileID" {
            r.attributes[j].1 = .string(rng.uuid())
        }
        return r
    }
}

@MainActor func varySpans(_ n: Int) -> [FlatSpan] {
    var rng = SplitMix64(state: 7)
    return (0..<n).map { i in
        var s = spanFixture.spans[i % spanFixture.spans.count]
        let shift = UInt64(i / spanFixture.spans.count) * 30_000_000_000 + rng.next() % 1_000_000_000
        s.spanID = rng.bytes(8)
        s.start += shift
        s.end += shift
        return s
    }
}

let logBatch = varyLogs(perRequest)
let spanBatch = varySpans(perRequest)
let logModels = logBatch.map(modelLog)
let spanModels = spanBatch.map(modelSpan)
let logsReq = logsRequest(logModels)
let spansReq = spansRequest(spanFixture, spanModels)

// Both paths must produce the same bytes, or the comparison is meaningless.
var check = ProtoWriter()
logsReq.encode(into: &check)
let logsBytes = check.bytes
check.removeAll()
check.writeLogsRequest(logBatch[...])
precondition(check.bytes == logsBytes, "direct-writer logs differ from the model encoding")
check.removeAll()
spansReq.encode(into: &check)
let spansBytes = check.bytes
check.removeAll()
check.writeSpansRequest(spanFixture, spanBatch[...])
precondition(check.bytes == spansBytes, "direct-writer spans differ from the model encoding")
// And what we wrote reads back to the same model.
precondition(try! OTLP.ExportLogsServiceRequest(decoding: logsBytes) == logsReq, "logs do not round-trip")
precondition(try! OTLP.ExportTraceServiceRequest(decoding: spansBytes) == spansReq, "spans do not round-trip")

report.info = [
    ("fixture_log_lines", "\(flatLogs.count)"), ("fixture_spans", "\(spanFixture.spans.count)"),
    ("records_per_request", "\(perRequest)"), ("gzip_input_records", "\(gzipRecords)"),
    ("zlib_version", String(cString: fluxtel_zref_version())),
]
note("logs: \(perRequest) records/request, \(logsBytes.count) bytes (\(logsBytes.count / perRequest) B/record)")
note("spans: \(perRequest) spans/request, \(spansBytes.count) bytes (\(spansBytes.count / perRequest) B/span)")

@MainActor func addEncode(_ prefix: String, _ m: Measurement, items: Int, bytes: Int, unit: String) {
    let n = Double(items)
    report.add("\(prefix).\(unit)_per_s", n / (m.wallNanosPerIteration / 1e9), "\(unit)/s", better: "higher")
    // The same rate on CPU time: what one core does when it is not shared (wall figures include
    // time the core spent on other processes).
    report.add("\(prefix).\(unit)_per_cpu_s", n / (m.cpuNanosPerIteration / 1e9), "\(unit)/CPU s", better: "higher")
    report.add("\(prefix).cpu_s_per_M_\(unit)", m.cpuNanosPerIteration / n * 1e6 / 1e9, "CPU s/M \(unit)", better: "lower")
    report.add("\(prefix).MB_per_s", Double(bytes) / 1e6 / (m.wallNanosPerIteration / 1e9), "MB/s", better: "higher")
    report.add("\(prefix).allocs_per_\(unit.dropLast())", m.allocationsPerIteration / n, "allocs", better: "lower")
    note(
        "\(prefix): \(Int(n / (m.wallNanosPerIteration / 1e9))) \(unit)/s, "
            + "\(Int(Double(bytes) / 1e6 / (m.wallNanosPerIteration / 1e9))) MB/s, "
            + "\(m.allocationsPerIteration / n) allocs/\(unit.dropLast())")
}

// MARK: encoding (the writer is reused, as a source reuses its buffer)

var w = ProtoWriter(reservingCapacity: max(logsBytes.count, spansBytes.count) * 2)

report.add("logs.bytes_per_record", Double(logsBytes.count) / Double(perRequest), "B", better: "lower")
if selected("logs.encode.model") {
    addEncode(
        "logs.encode.model",
        run {
            w.removeAll()
            logsReq.encode(into: &w)
            blackHole(w.count)
        }, items: perRequest, bytes: logsBytes.count, unit: "records")
}
if selected("logs.encode.writer") {
    addEncode(
        "logs.encode.writer",
        run {
            w.removeAll()
            w.writeLogsRequest(logBatch[...])
            blackHole(w.count)
        }, items: perRequest, bytes: logsBytes.count, unit: "records")
}
// What a source that builds model values first pays: construction + encoding.
if selected("logs.build_and_encode.model") {
    addEncode(
        "logs.build_and_encode.model",
        run {
            w.removeAll()
            logsRequest(logBatch.map(modelLog)).encode(into: &w)
            blackHole(w.count)
        }, items: perRequest, bytes: logsBytes.count, unit: "records")
}

report.add("spans.bytes_per_span", Double(spansBytes.count) / Double(perRequest), "B", better: "lower")
if selected("spans.encode.model") {
    addEncode(
        "spans.encode.model",
        run {
            w.removeAll()
            spansReq.encode(into: &w)
            blackHole(w.count)
        }, items: perRequest, bytes: spansBytes.count, unit: "spans")
}
if selected("spans.encode.writer") {
    addEncode(
        "spans.encode.writer",
        run {
            w.removeAll()
            w.writeSpansRequest(spanFixture, spanBatch[...])
            blackHole(w.count)
        }, items: perRequest, bytes: spansBytes.count, unit: "spans")
}

// MARK: gzip, ours vs zlib's own, on the same bytes

var gz = ProtoWriter()
logsRequest(varyLogs(gzipRecords).map(modelLog)).encode(into: &gz)
let gzipInput = gz.bytes
if let dump = env("FLUXTEL_BENCH_DUMP"), let f = fopen(dump, "w") {
    _ = gzipInput.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}
note("gzip input: \(gzipRecords) log records, \(gzipInput.count) bytes")
report.add("gzip.input_bytes", Double(gzipInput.count), "B", better: "lower")

for level in [6, 1] where selected("gzip.l\(level)") {
    let ours = GzipCompressor(level: level)
    guard let zref = fluxtel_zref_new(Int32(level)) else { fatalError("deflateInit2 failed") }
    defer { fluxtel_zref_free(zref) }
    let cap = fluxtel_zref_bound(zref, gzipInput.count)
    let outBuf = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
    defer { outBuf.deallocate() }

    var oursSize = 0
    var zlibSize = 0
    // Same bytes out of both, or they are not doing the same work.
    let a = ours.compress(gzipInput)
    let bSize = gzipInput.withUnsafeBufferPointer { fluxtel_zref_gzip(zref, $0.baseAddress, $0.count, outBuf, cap) }
    precondition(a.count == bSize && a.elementsEqual(UnsafeBufferPointer(start: outBuf, count: bSize)),
        "GzipCompressor and zlib produced different bytes at level \(level)")

    // Interleave ours and zlib's rounds so machine noise hits both alike.
    var oursCPU: [Double] = [], zlibCPU: [Double] = [], oursWall: [Double] = [], zlibWall: [Double] = []
    var oursAllocs = 0.0
    for _ in 0..<3 {
        let mo = run {
            let out = ours.compress(gzipInput)
            oursSize = out.count
            blackHole(out.count)
        }
        let mz = run {
            zlibSize = gzipInput.withUnsafeBufferPointer {
                fluxtel_zref_gzip(zref, $0.baseAddress, $0.count, outBuf, cap)
            }
            blackHole(zlibSize)
        }
        oursCPU.append(mo.cpuNanosPerIteration)
        zlibCPU.append(mz.cpuNanosPerIteration)
        oursWall.append(mo.wallNanosPerIteration)
        zlibWall.append(mz.wallNanosPerIteration)
        oursAllocs = mo.allocationsPerIteration
    }
    func med(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
    let mb = Double(gzipInput.count) / 1e6
    report.add("gzip.l\(level).fluxtel.MB_per_s", mb / (med(oursWall) / 1e9), "MB/s", better: "higher")
    report.add("gzip.l\(level).zlib.MB_per_s", mb / (med(zlibWall) / 1e9), "MB/s", better: "higher")
    report.add("gzip.l\(level).fluxtel.MB_per_cpu_s", mb / (med(oursCPU) / 1e9), "MB/CPU s", better: "higher")
    report.add("gzip.l\(level).zlib.MB_per_cpu_s", mb / (med(zlibCPU) / 1e9), "MB/CPU s", better: "higher")
    // CPU time of ours / zlib's: 1.00 = as fast as zlib; target <= 1.10.
    report.add("gzip.l\(level).time_vs_zlib", med(oursCPU) / med(zlibCPU), "x", better: "lower")
    report.add("gzip.l\(level).ratio", Double(gzipInput.count) / Double(oursSize), "x", better: "higher")
    report.add("gzip.l\(level).allocs_per_call", oursAllocs, "allocs", better: "lower")
    note(
        "gzip l\(level): ours \(Int(mb / (med(oursWall) / 1e9))) MB/s, zlib \(Int(mb / (med(zlibWall) / 1e9))) MB/s, "
            + "time ours/zlib \(med(oursCPU) / med(zlibCPU)), ratio \(Double(gzipInput.count) / Double(oursSize)), zlib size \(zlibSize)"
    )
}

// MARK: the whole export-side cost per record: encode (model) + gzip level 6

if selected("logs.encode_gzip6") {
let gzipModels = logsRequest(varyLogs(gzipRecords).map(modelLog))
let pipeCompressor = GzipCompressor(level: 6)
var pw = ProtoWriter(reservingCapacity: gzipInput.count * 2)
let pipe = run {
    pw.removeAll()
    gzipModels.encode(into: &pw)
    blackHole(pipeCompressor.compress(pw.bytes).count)
}
report.add("logs.encode_gzip6.records_per_s", Double(gzipRecords) / (pipe.wallNanosPerIteration / 1e9), "records/s", better: "higher")
report.add("logs.encode_gzip6.cpu_s_per_M_records", pipe.cpuNanosPerIteration / Double(gzipRecords) * 1e6 / 1e9, "CPU s/M records", better: "lower")
}

report.printJSON()
