// Prometheus receiver benchmark.
//
// 1. parse / parse+convert throughput over the kustomize-controller fixture repeated to ~10 MB
//    (each copy's families renamed so the body stays a valid exposition), one core;
// 2. CPU time per scrape of a ~2,000-series exposition end to end over loopback: HTTP (fluxtel's HTTPClient),
//    parse, convert, protobuf encode, hand-off to the pipeline. CPU is getrusage(RUSAGE_SELF) of the whole
//    process, so it also includes the in-process NIO server that answers the scrapes (a conservative figure).
//
// Prints a table on stderr and one JSON report (benchmarks/run format) on stdout.
import BenchSupport
import FluxtelConfig
import Foundation
import HTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Pipeline
import PrometheusReceiver
import SelfTelemetry

let fixturePath = CommandLine.arguments.dropFirst().first
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../fixtures/kustomize-controller.prom").standardized.path
let fixture = try String(contentsOfFile: fixturePath, encoding: .utf8)

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

// MARK: 1. throughput

var big = ""
var copy = 0
while big.utf8.count < 10_000_000 {
    // Prefix every metric name so families stay unique (a repeated TYPE line would be an error).
    let renamed = fixture.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        if line.hasPrefix("# HELP ") { return "# HELP c\(copy)_" + line.dropFirst(7) }
        if line.hasPrefix("# TYPE ") { return "# TYPE c\(copy)_" + line.dropFirst(7) }
        if line.hasPrefix("#") || line.isEmpty { return String(line) }
        return "c\(copy)_" + line
    }.joined(separator: "\n")
    big += renamed
    copy += 1
}
let bigBytes = Array(big.utf8)
let megabytes = Double(bigBytes.count) / 1e6

func best(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<runs {
        let start = threadCPUSeconds()
        try body()
        best = min(best, threadCPUSeconds() - start)
    }
    return best
}

var samples = 0
let parseSeconds = try best(7) {
    let exposition = try ExpositionParser.parse(bigBytes)
    samples = exposition.samples.count
}
let target = TargetInfo(job: "kustomize-controller", instance: "10.0.0.7:8080", scheme: "http", host: "10.0.0.7", port: 8080,
                        labels: [("controller", "kustomize-controller")])
var tracker = SeriesTracker()
var outputBytes = 0
// Warm the tracker (steady state: every series already known, as on every scrape but the first).
_ = MetricsConverter.convert(
    try ExpositionParser.parse(bigBytes), target: target, rules: ConversionRules(), tracker: &tracker,
    scrapeTimeNanos: 1, durationSeconds: 0)
let convertSeconds = try best(7) {
    let exposition = try ExpositionParser.parse(bigBytes)
    let converted = MetricsConverter.convert(
        exposition, target: target, rules: ConversionRules(), tracker: &tracker, scrapeTimeNanos: 2,
        durationSeconds: 0)
    outputBytes = converted.bytes.count
}

// MARK: 2. end-to-end scrape CPU

var exposition2k = fixture
for object in 0..<150 {
    // 150 more gotk_reconcile_duration_seconds series of 13 samples each, in Flux's exact format.
    let labels = "kind=\"Kustomization\",name=\"app-\(object)\",namespace=\"team-\(object % 7)\""
    var lines = ""
    var cumulative = 0
    for le in ["0.01", "0.038363583488692544", "0.1471764538093883", "0.5646216173286169", "2.166090855590701",
               "8.309900738254731", "31.879757075478317", "122.30217221643493", "469.19495946736544", "1799.9999999999986", "+Inf"] {
        cumulative += (object + le.count) % 5
        lines += "gotk_reconcile_duration_seconds_bucket{\(labels),le=\"\(le)\"} \(cumulative)\n"
    }
    lines += "gotk_reconcile_duration_seconds_sum{\(labels)} \(Double(object) * 1.234567)\n"
    lines += "gotk_reconcile_duration_seconds_count{\(labels)} \(cumulative)\n"
    exposition2k = exposition2k.replacingOccurrences(
        of: "# HELP gotk_token_cache_evictions_total", with: lines + "# HELP gotk_token_cache_evictions_total")
}
let body2k = Array(exposition2k.utf8)
let series2k = try ExpositionParser.parse(body2k).samples.count

final class StaticHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let body: ByteBuffer
    init(body: ByteBuffer) { self.body = body }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

let group = MultiThreadedEventLoopGroup.singleton
let buffer = ByteBuffer(bytes: body2k)
let server = try await ServerBootstrap(group: group)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(StaticHandler(body: buffer))
        }
    }
    .bind(host: "127.0.0.1", port: 0).get()
let port = server.localAddress!.port!
let client = HTTPClient()
let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let metrics = AgentMetrics()
let pipeline = Pipeline(queue: QueueConfiguration(maxBytes: 1 << 30), metrics: metrics)
let scrapes = 300
func measureScrapes(_ endpoint: ScrapeEndpoint) async -> (cpu: Double, wall: Duration, points: Int) {
    var configuration = PrometheusReceiverConfiguration()
    configuration.includeMetrics = []
    var scraper = TargetScraper(
        endpoint: endpoint, configuration: configuration, rules: ConversionRules(), client: client,
        pipeline: pipeline, registry: metrics.registry, logger: logger, version: "bench")
    for _ in 0..<20 { await scraper.scrapeOnce() }  // warm-up: connections, series state
    let cpuStart = cpuSeconds()
    let wallStart = ContinuousClock.now
    var points = 0
    for _ in 0..<scrapes {
        let converted = await scraper.scrapeOnce()
        precondition(converted.report.up)
        points = converted.dataPoints
    }
    return ((cpuSeconds() - cpuStart) / Double(scrapes), ContinuousClock.now - wallStart, points)
}
let (cpuPerScrape, wall, points) = await measureScrapes(
    try ScrapeEndpoint(url: "http://127.0.0.1:\(port)/metrics", labels: [KeyValuePair("controller", "kustomize-controller")]))
pipeline.close()
await client.shutdown()
try await server.close().get()

// MARK: report

let parseMBs = megabytes / parseSeconds
let convertMBs = megabytes / convertSeconds
let wallPerScrapeMs = (Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18) / Double(scrapes) * 1000
note("""
    | measurement | value |
    | --- | --- |
    | input | \(String(format: "%.1f", megabytes)) MB, \(samples) samples (fixture x \(copy)) |
    | parse only | \(String(format: "%.0f", parseMBs)) MB/s (\(String(format: "%.1f", parseSeconds * 1000)) ms CPU) |
    | parse + convert + encode | \(String(format: "%.0f", convertMBs)) MB/s (\(String(format: "%.1f", convertSeconds * 1000)) ms CPU, \(outputBytes) bytes OTLP) |
    | end-to-end scrape (\(series2k) series, \(body2k.count) bytes, \(points) points) | \(String(format: "%.3f", cpuPerScrape * 1000)) ms CPU / scrape, \(String(format: "%.3f", wallPerScrapeMs)) ms wall |
    """)
var report = Report(benchmark: "prometheus")
report.add("parse.mb_per_cpu_s", parseMBs, "MB/CPU s", better: "higher")
report.add("parse.cpu_s_per_M_samples", parseSeconds / Double(samples) * 1e6, "CPU s/M samples", better: "lower")
report.add("parse_convert_encode.mb_per_cpu_s", convertMBs, "MB/CPU s", better: "higher")
report.add("parse_convert_encode.cpu_s_per_M_samples", convertSeconds / Double(samples) * 1e6, "CPU s/M samples", better: "lower")
report.add("scrape.cpu_ms_per_scrape", cpuPerScrape * 1000, "ms CPU", better: "lower")
report.add("scrape.cpu_s_per_M_series", cpuPerScrape / Double(series2k) * 1e6, "CPU s/M series", better: "lower")
report.add("scrape.wall_ms_per_scrape", wallPerScrapeMs, "ms", better: "lower")
report.info = [("input_mb", String(format: "%.2f", megabytes)), ("input_samples", "\(samples)"),
               ("scrape_series", "\(series2k)"), ("scrape_body_bytes", "\(body2k.count)"), ("scrapes", "\(scrapes)"),
               ("note", "throughput: thread CPU, best of 7; scrape CPU: whole process incl. the in-process server")]
report.printJSON()
