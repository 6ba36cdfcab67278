import FluxtelConfig
import FluxtelTestSupport
import Foundation
import HTTPClient
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycleTestKit
import Synchronization
import Testing

@testable import PrometheusReceiver

/// Start times of targets without `process_start_time_seconds` across agent restarts (`state_dir`) and
/// across a target's short absence (issue 16, point 1).
@Suite struct SeriesStateTests {
    static let contentType = ("Content-Type", "text/plain; version=0.0.4")

    /// A counter without `process_start_time_seconds` (most non-Go exporters).
    static func body(_ count: Int) -> HTTPSink.Response {
        let text = """
            # TYPE jobs_total counter
            jobs_total{queue="a"} \(count)

            """
        return HTTPSink.Response(status: .ok, headers: [contentType], body: Array(text.utf8))
    }

    /// The counter's start time in one scrape (nil when it is not there or is a staleness marker).
    static func counterStart(_ bytes: [UInt8]) throws -> UInt64? { try counterPoint(bytes)?.start }

    static func counterPoint(_ bytes: [UInt8]) throws -> (start: UInt64, time: UInt64)? {
        for resource in try OTLP.ExportMetricsServiceRequest(decoding: bytes).resourceMetrics {
            if case .sum(let sum)? = resource.metric("jobs_total")?.data, let point = sum.dataPoints.first,
                point.flags & OTLP.DataPointFlags.noRecordedValue == 0
            {
                return (point.startTimeUnixNano, point.timeUnixNano)
            }
        }
        return nil
    }

    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// One agent's life: a scraper over `directory`, `scrapes` scrapes, then the end of its loop.
    static func run(
        url: String, directory: String, scrapes: Int
    ) async throws -> [ConvertedScrape] {
        let client = HTTPClient()
        // A generous timeout: these scrapes must succeed, also on a loaded machine.
        var scraper = try makeScraper(
            url: url,
            configuration: scrapeConfig(interval: .seconds(120), timeout: .seconds(120), stateDirectory: directory),
            pipeline: makePipeline(), client: client)
        var converted: [ConvertedScrape] = []
        for _ in 0..<scrapes { converted.append(await scraper.scrapeOnce()) }
        scraper.saveState()  // the loop's end (shutdown)
        await client.shutdown()
        return converted
    }

    /// Two agent lives over one state directory against a target serving `counts` in turn (the last
    /// one from then on): `before` scrapes, a restart, `after` scrapes.
    static func restart(
        serving counts: [Int], before: Int, after: Int
    ) async throws -> (before: [ConvertedScrape], after: [ConvertedScrape]) {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = try await HTTPSink.start(responses: counts.dropLast().map(body), fallback: body(counts.last!))
        let url = "\(sink.baseURL)/metrics"
        let first = try await run(url: url, directory: directory, scrapes: before)
        let second = try await run(url: url, directory: directory, scrapes: after)
        try await sink.shutdown()
        return (first, second)
    }

    @Test func anAgentRestartKeepsTheFirstObservationStartTime() async throws {
        let (before, after) = try await Self.restart(serving: [5, 7, 9], before: 1, after: 2)
        let start = try #require(try Self.counterStart(before[0].bytes))
        #expect(try Self.counterStart(after[0].bytes) == start)
        #expect(try Self.counterStart(after[1].bytes) == start)
    }

    @Test func aValueThatWentDownWhileTheAgentWasAwayMovesTheStartTime() async throws {
        // The target restarted while the agent was down: 2 < 60, a reset.
        let (before, after) = try await Self.restart(serving: [50, 60, 2], before: 2, after: 1)
        let start = try #require(try Self.counterStart(before[0].bytes))
        let moved = try #require(try Self.counterPoint(after[0].bytes))
        #expect(moved.start > start)
        // Seen as a reset (placed just before the point, as a reset seen live), not as a new series.
        #expect(moved.start == moved.time - 1_000_000)
    }

    @Test func aCorruptStateFileStartsFresh() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = try await HTTPSink.start(fallback: Self.body(5))
        let url = "\(sink.baseURL)/metrics"
        let store = SeriesStateStore(directory: directory)
        let id = try ScrapeEndpoint(url: url, labels: [KeyValuePair("controller", "kustomize-controller")]).id
        try Data("fxseries but then garbage".utf8).write(to: URL(fileURLWithPath: store.path(forTarget: id)))
        #expect(store.load(target: id).problem != nil)
        let scrapes = try await Self.run(url: url, directory: directory, scrapes: 1)
        try await sink.shutdown()
        #expect(scrapes[0].report.up)
        #expect(try Self.counterStart(scrapes[0].bytes) != nil)
        // Replaced by a good file.
        #expect(store.load(target: id).problem == nil)
        #expect(store.load(target: id).entries.count == 1)
    }

    @Test func theFileFormatRoundTripsAndRejectsDamage() throws {
        let entries = (0..<3).map {
            SeriesStateFile.Entry(hash: UInt64($0) &* 7919, start: 1_000 + UInt64($0), last: 2.5)
        }
        let bytes = SeriesStateFile.encode(target: "a/b", entries: entries)
        #expect(try SeriesStateFile.decode(bytes, target: "a/b") == entries)
        #expect(throws: SeriesStateFile.CorruptError.self) { try SeriesStateFile.decode(bytes, target: "a/c") }
        #expect(throws: SeriesStateFile.CorruptError.self) {
            try SeriesStateFile.decode(Array(bytes.dropLast(9)), target: "a/b")
        }
        var flipped = bytes
        flipped[30] ^= 0x40
        #expect(throws: SeriesStateFile.CorruptError.self) { try SeriesStateFile.decode(flipped, target: "a/b") }
        for cut in 0..<bytes.count {
            _ = try? SeriesStateFile.decode(Array(bytes[..<cut]), target: "a/b")  // never crashes
        }
    }

    @Test func theFileIsBoundedAndWrittenOnlyWhenDue() {
        var tracker = SeriesTracker()
        tracker.restore(
            (0..<50).map { SeriesStateFile.Entry(hash: UInt64($0) + 1, start: 10, last: 1) }, at: 1)
        #expect(tracker.persistentSeries(limit: 20).count == 20)
        let second: UInt64 = 1_000_000_000
        #expect(SeriesStateStore.isDue(now: 5 * second, lastWrite: 0, changed: true))
        #expect(!SeriesStateStore.isDue(now: 5 * second, lastWrite: 0, changed: false))
        #expect(!SeriesStateStore.isDue(now: 10 * second, lastWrite: 5 * second, changed: true))
        #expect(SeriesStateStore.isDue(now: 40 * second, lastWrite: 5 * second, changed: true))
        #expect(!SeriesStateStore.isDue(now: 40 * second, lastWrite: 5 * second, changed: false))
        #expect(SeriesStateStore.isDue(now: 400 * second, lastWrite: 5 * second, changed: false))
    }

    /// Discovery that the test drives: each `set` is the full target set.
    final class ManualDiscovery: TargetDiscovery {
        let updates: AsyncStream<[ScrapeEndpoint]>
        let continuation: AsyncStream<[ScrapeEndpoint]>.Continuation
        init() { (updates, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded) }
        func set(_ targets: [ScrapeEndpoint]) { continuation.yield(targets) }
        func run(update: @escaping @Sendable ([ScrapeEndpoint]) -> Void) async throws {
            for await targets in updates { update(targets) }
        }
    }

    /// A target that discovery drops and brings back within the staleness window (a pod briefly not
    /// Ready, an API hiccup) keeps its series' start times: the receiver parks their tracker.
    @Test func aTargetRemovedAndReaddedKeepsItsStartTime() async throws {
        let sink = try await HTTPSink.start(fallback: Self.body(5))
        let target = try ScrapeEndpoint(url: "\(sink.baseURL)/metrics")
        let exporter = RecordingExporter()
        let pipeline = makePipeline()
        let service = PipelineService(
            pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .seconds(5), logger: quietLogger)
        let discovery = ManualDiscovery()
        let receiver = try PrometheusReceiver(
            configuration: scrapeConfig(interval: .milliseconds(100), timeout: .milliseconds(90)),
            discovery: discovery, pipeline: pipeline, metrics: AgentMetrics(), logger: quietLogger)
        func starts() -> [UInt64] { exporter.batches.compactMap { try? Self.counterStart($0.body) } }
        try await testGracefulShutdown { trigger in
            async let pipelineRun: Void = service.run()
            async let receiverRun: Void = receiver.run()
            discovery.set([target])
            #expect(await eventually { !starts().isEmpty })
            discovery.set([])
            #expect(await eventually { receiver.activeTargets.isEmpty })
            let before = starts().count
            let scrapesBefore = sink.requests.count
            discovery.set([target])
            #expect(await eventually { sink.requests.count >= scrapesBefore + 2 && starts().count > before })
            trigger.triggerGracefulShutdown()
            try await receiverRun
            try await pipelineRun
        }
        try await sink.shutdown()
        let all = starts()
        #expect(all.count >= 2)
        #expect(Set(all).count == 1, "start times \(all)")
    }
}
