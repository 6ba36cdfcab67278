import Compression
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import HTTPClient
import OTLPWire
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@testable import PrometheusReceiver

private let textContentType = ("Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")

/// The fixture with the `requeue_after` counter set to `value`.
private func fixture(requeueAfter value: Int) throws -> [UInt8] {
    let text = String(decoding: try fixtureBytes(), as: UTF8.self).replacingOccurrences(
        of: "result=\"requeue_after\"} 35", with: "result=\"requeue_after\"} \(value)")
    return Array(text.utf8)
}

@Suite(.serialized) struct ScraperTests {
    /// Acceptance 2: fixture served on 127.0.0.1 → scraper → pipeline → exporter → official Python decoder.
    @Test func fixtureThroughThePipelineDecodesWithTheOfficialDecoder() async throws {
        let bodies = [try fixture(requeueAfter: 35), try fixture(requeueAfter: 40), try fixture(requeueAfter: 3)]
        let sink = try await HTTPSink.start(
            responses: bodies.map { HTTPSink.Response(status: .ok, headers: [textContentType], body: $0) })
        let client = HTTPClient()
        let exporter = RecordingExporter()
        let time = ManualClock()
        let pipeline = makePipeline(clock: time.clock)
        let service = PipelineService(
            pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .seconds(5), logger: quietLogger)
        var scraper = try makeScraper(url: "\(sink.baseURL)/metrics", pipeline: pipeline, client: client)
        try await testGracefulShutdown { trigger in
            async let run: Void = service.run()
            for scrape in 1...3 {
                let converted = await scraper.scrapeOnce()
                #expect(converted.report.up)
                // One batch per scrape: the batch timeout (50 ms on a manual clock) seals this scrape's
                // batch, which is exported before the next scrape opens a new one.
                try await time.waitForSleeps(scrape)
                #expect(exporter.calls == scrape - 1)
                time.advance(by: .milliseconds(50))
                try await exporter.waitForBatches(scrape)
            }
            trigger.triggerGracefulShutdown()
            try await run
        }
        await client.shutdown()
        try await sink.shutdown()
        #expect(sink.requests.first?.header("Accept")?.contains("application/openmetrics-text") == true)
        #expect(sink.requests.first?.header("Accept-Encoding") == "gzip")

        let body = exporter.batches.flatMap(\.body)
        let decoded = try decodeWithPython(body)
        let resources = try #require(decoded["resource_metrics"] as? [[String: Any]])
        #expect(resources.count == 3)
        var counterStarts: [String] = []
        var counterValues: [Double] = []
        for resource in resources {
            let attributes = (resource["resource"] as? [String: Any])?["attributes"] as? [[String: Any]] ?? []
            let keys = attributes.compactMap { $0["key"] as? String }
            #expect(
                keys.starts(with: [
                    "service.name", "service.instance.id", "server.address", "server.port", "url.scheme",
                ]))
            let scope = try #require((resource["scope_metrics"] as? [[String: Any]])?.first)
            let metrics = try #require(scope["metrics"] as? [[String: Any]])
            let histogram = try #require(metrics.first { $0["name"] as? String == "gotk_reconcile_duration_seconds" })
            let h = try #require(histogram["histogram"] as? [String: Any])
            #expect(h["aggregation_temporality"] as? String == "AGGREGATION_TEMPORALITY_CUMULATIVE")
            let points = try #require(h["data_points"] as? [[String: Any]])
            #expect(points.count == 4)
            let apps = try #require(points.first)
            #expect(
                (apps["explicit_bounds"] as? [String])?.map { Double($0)! } == [
                    0.01, 0.038363583488692544, 0.1471764538093883, 0.5646216173286169, 2.166090855590701,
                    8.309900738254731, 31.879757075478317, 122.30217221643493, 469.19495946736544, 1799.9999999999986,
                ])
            // uint64/fixed64 render as strings in proto3 JSON.
            #expect(apps["bucket_counts"] as? [String] == ["0", "0", "0", "0", "12", "0", "1", "1", "0", "0", "0"])
            #expect(apps["count"] as? String == "14")
            #expect((apps["sum"] as? String).flatMap(Double.init) == 72.35523105)

            let counter = try #require(metrics.first { $0["name"] as? String == "controller_runtime_reconcile_total" })
            let sum = try #require(counter["sum"] as? [String: Any])
            #expect(sum["is_monotonic"] as? Bool == true)
            #expect(sum["aggregation_temporality"] as? String == "AGGREGATION_TEMPORALITY_CUMULATIVE")
            let requeue = try #require(
                (sum["data_points"] as? [[String: Any]])?.first { point in
                    (point["attributes"] as? [[String: Any]])?.contains {
                        ($0["value"] as? [String: Any])?["string_value"] as? String == "requeue_after"
                    } == true
                })
            counterStarts.append(try #require(requeue["start_time_unix_nano"] as? String))
            counterValues.append(try #require((requeue["as_double"] as? String).flatMap(Double.init)))
        }
        #expect(counterValues == [35, 40, 3])
        // Fixed across scrapes, moved after the reset.
        #expect(counterStarts[0] == counterStarts[1])
        #expect(counterStarts[2] != counterStarts[1])
        #expect(UInt64(counterStarts[2])! > UInt64(counterStarts[1])!)
    }

    @Test func gzipResponsesAreInflated() async throws {
        let sink = try await HTTPSink.start(
            fallback: .init(
                status: .ok, headers: [textContentType, ("Content-Encoding", "gzip")],
                body: Gzip.compress(try fixtureBytes())))
        let client = HTTPClient()
        var scraper = try makeScraper(url: "\(sink.baseURL)/metrics", pipeline: makePipeline(), client: client)
        let converted = await scraper.scrapeOnce()
        await client.shutdown()
        try await sink.shutdown()
        #expect(converted.report.up)
        #expect(converted.report.samplesScraped == (try ExpositionParser.parse(try fixtureBytes())).samples.count)
    }

    @Test func deadTargetIsDown() async throws {
        // A port that was just free: bind a sink, note its port, close it.
        let sink = try await HTTPSink.start()
        let url = "\(sink.baseURL)/metrics"
        try await sink.shutdown()
        let client = HTTPClient()
        var scraper = try makeScraper(
            url: url, configuration: scrapeConfig(timeout: .seconds(1)), pipeline: makePipeline(), client: client)
        let converted = await scraper.scrapeOnce()
        await client.shutdown()
        #expect(!converted.report.up)
        #expect(scraper.lastFailure?.contains("refused") == true, "\(scraper.lastFailure ?? "")")
        #expect(gaugeValue(try decodedResource(converted), "up") == 0)
        #expect(scraper.lastFailure != nil)
    }

    @Test func slowTargetTimesOut() async throws {
        let sink = try await HTTPSink.start(
            fallback: .init(status: .ok, headers: [textContentType], body: Array("m 1\n".utf8), delay: .seconds(3)))
        let client = HTTPClient()
        var scraper = try makeScraper(
            url: "\(sink.baseURL)/metrics", configuration: scrapeConfig(timeout: .milliseconds(300)),
            pipeline: makePipeline(),
            client: client)
        let converted = await scraper.scrapeOnce()
        await client.shutdown()
        try await sink.shutdown()
        // Down, and for the timeout (not for the answer, which would have come after 3 s and made it up).
        #expect(!converted.report.up)
        #expect(scraper.lastFailure?.contains("timeout") == true, "\(scraper.lastFailure ?? "")")
        #expect(sink.requests.first?.header("X-Prometheus-Scrape-Timeout-Seconds") == "0.3")
    }

    @Test func oversizeBodyIsRefused() async throws {
        let sink = try await HTTPSink.start(
            responses: [
                .init(status: .ok, headers: [textContentType], body: try fixtureBytes()),
                // A gzip bomb: 4 MiB of zeros-ish text in a few KiB.
                .init(
                    status: .ok, headers: [textContentType, ("Content-Encoding", "gzip")],
                    body: Gzip.compress(Array(repeating: UInt8(ascii: "#"), count: 4 << 20))),
            ])
        let client = HTTPClient()
        var scraper = try makeScraper(
            url: "\(sink.baseURL)/metrics", configuration: scrapeConfig(bodySizeLimit: 16 << 10),
            pipeline: makePipeline(),
            client: client)
        let plain = await scraper.scrapeOnce()
        #expect(!plain.report.up)
        #expect(scraper.lastFailure?.contains("body_size_limit") == true, "\(scraper.lastFailure ?? "")")
        let bomb = await scraper.scrapeOnce()
        #expect(!bomb.report.up)
        #expect(scraper.lastFailure?.contains("gzip") == true, "\(scraper.lastFailure ?? "")")
        await client.shutdown()
        try await sink.shutdown()
    }

    @Test func malformedBodyFailsTheWholeScrapeWithItsLine() async throws {
        let sink = try await HTTPSink.start(
            fallback: .init(status: .ok, headers: [textContentType], body: Array("good 1\nalso_good 2\nbad{ 3\n".utf8)))
        let client = HTTPClient()
        var scraper = try makeScraper(url: "\(sink.baseURL)/metrics", pipeline: makePipeline(), client: client)
        let converted = await scraper.scrapeOnce()
        await client.shutdown()
        try await sink.shutdown()
        #expect(!converted.report.up)
        #expect(scraper.lastFailure?.contains("line 3") == true, "\(scraper.lastFailure ?? "")")
        // Never half-applied: only the five up/scrape_* series.
        let resource = try decodedResource(converted)
        #expect(
            resource.metrics.map(\.name).sorted() == [
                "scrape_duration_seconds", "scrape_samples_post_metric_relabeling", "scrape_samples_scraped",
                "scrape_series_added", "up",
            ])
    }

    @Test func seriesThatDisappearGoStaleThroughTheScraper() async throws {
        let sink = try await HTTPSink.start(
            responses: [
                .init(status: .ok, headers: [textContentType], body: Array("a{x=\"1\"} 1\na{x=\"2\"} 2\n".utf8)),
                .init(status: .ok, headers: [textContentType], body: Array("a{x=\"1\"} 1\n".utf8)),
            ])
        let client = HTTPClient()
        var scraper = try makeScraper(url: "\(sink.baseURL)/metrics", pipeline: makePipeline(), client: client)
        let first = await scraper.scrapeOnce()
        let second = await scraper.scrapeOnce()
        await client.shutdown()
        try await sink.shutdown()
        #expect(first.report.seriesAdded == 2)
        #expect(second.staleSeries == 1)
        let resource = try decodedResource(second)
        let stale = resource.metrics.filter { $0.name == "a" }.flatMap { metric -> [OTLP.NumberDataPoint] in
            if case .gauge(let g) = metric.data { return g.dataPoints.filter { $0.flags == 1 } }
            return []
        }
        #expect(stale.count == 1)
        #expect(stale.first?.attributes["x"] == "2")
    }

    @Test func openMetricsIsNegotiatedByContentType() async throws {
        let body = "# TYPE c counter\nc_total 3\nc_created 1712340000\n# EOF\n"
        let sink = try await HTTPSink.start(
            fallback: .init(
                status: .ok, headers: [("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")],
                body: Array(body.utf8)))
        let client = HTTPClient()
        var scraper = try makeScraper(url: "\(sink.baseURL)/metrics", pipeline: makePipeline(), client: client)
        let converted = await scraper.scrapeOnce()
        await client.shutdown()
        try await sink.shutdown()
        guard case .sum(let sum) = try decodedResource(converted).metric("c_total")?.data else {
            Issue.record("no c_total")
            return
        }
        #expect(sum.dataPoints.first?.startTimeUnixNano == 1_712_340_000_000_000_000)
    }

    @Test func fullQueueDropsTheScrapeAndCountsIt() async throws {
        let sink = try await HTTPSink.start(
            fallback: .init(status: .ok, headers: [textContentType], body: try fixtureBytes()))
        let client = HTTPClient()
        let metrics = AgentMetrics()
        let pipeline = Pipeline(queue: QueueConfiguration(maxBytes: 1024), metrics: metrics)
        var scraper = try makeScraper(
            url: "\(sink.baseURL)/metrics", pipeline: pipeline, client: client, metrics: metrics)
        // The first scrape fits an empty queue (an oversize chunk is taken when nothing else is held);
        // the second meets a full one.
        _ = await scraper.scrapeOnce()
        _ = await scraper.scrapeOnce()
        await client.shutdown()
        try await sink.shutdown()
        let rendered = String(decoding: metrics.render(), as: UTF8.self)
        #expect(rendered.contains("fluxtel_scrapes_dropped_total{target=\"\(sink.baseURL)/metrics\"} 1"))
    }

    @Test func receiverServiceScrapesStaticTargetsOnItsInterval() async throws {
        let sink = try await HTTPSink.start(
            fallback: .init(status: .ok, headers: [textContentType], body: try fixtureBytes()))
        let exporter = RecordingExporter()
        let pipeline = makePipeline()
        let service = PipelineService(
            pipeline: pipeline, exporters: [exporter], workers: 1, drainTimeout: .seconds(5), logger: quietLogger)
        let receiver = try PrometheusReceiver(
            configuration: scrapeConfig(
                targets: ["\(sink.baseURL)/metrics"], interval: .milliseconds(200), timeout: .milliseconds(150)),
            pipeline: pipeline, metrics: AgentMetrics(), logger: quietLogger)
        try await testGracefulShutdown { trigger in
            async let pipelineRun: Void = service.run()
            async let receiverRun: Void = receiver.run()
            #expect(await eventually { sink.requests.count >= 3 })
            trigger.triggerGracefulShutdown()
            try await receiverRun
            try await pipelineRun
        }
        try await sink.shutdown()
        #expect(exporter.batches.count >= 1)
    }
}
