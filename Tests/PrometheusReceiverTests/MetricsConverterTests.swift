import OTLPWire
import Testing

@testable import PrometheusReceiver

let testTarget = TargetInfo(
    job: "kustomize-controller", instance: "10.0.0.7:8080", scheme: "http", host: "10.0.0.7", port: 8080,
    labels: [("controller", "kustomize-controller")])

/// Parses, converts and decodes one scrape with the project's OTLP model.
func convert(
    _ text: String, format: ExpositionFormat = .prometheusText, tracker: inout SeriesTracker,
    time: UInt64 = 1_000_000_000_000,
    rules: ConversionRules = ConversionRules(), target: TargetInfo = testTarget
) throws -> (OTLP.ResourceMetrics, ConvertedScrape) {
    let exposition = try ExpositionParser.parse(Array(text.utf8), format: format)
    let converted = MetricsConverter.convert(
        exposition, target: target, rules: rules, tracker: &tracker, scrapeTimeNanos: time, durationSeconds: 0.01)
    let request = try OTLP.ExportMetricsServiceRequest(decoding: converted.bytes)
    return (try #require(request.resourceMetrics.first), converted)
}

extension OTLP.ResourceMetrics {
    var metrics: [OTLP.Metric] { scopeMetrics.flatMap(\.metrics) }
    func metric(_ name: String) -> OTLP.Metric? { metrics.first { $0.name == name } }
}

extension Array where Element == OTLP.KeyValue {
    subscript(key: String) -> String? {
        for kv in self where kv.key == key {
            switch kv.value {
            case .string(let s): return s
            case .int(let i): return String(i)
            default: return "?"
            }
        }
        return nil
    }
}

@Suite struct MetricsConverterTests {
    @Test func fixtureHistogramCountersGaugesSummary() throws {
        var tracker = SeriesTracker()
        let text = String(decoding: try fixtureBytes(), as: UTF8.self)
        let (resource, converted) = try convert(text, tracker: &tracker)
        #expect(resource.resource?.attributes["service.name"] == "kustomize-controller")
        #expect(resource.resource?.attributes["service.instance.id"] == "10.0.0.7:8080")
        #expect(resource.resource?.attributes["server.address"] == "10.0.0.7")
        #expect(resource.resource?.attributes["server.port"] == "8080")
        #expect(resource.resource?.attributes["url.scheme"] == "http")

        let histogram = try #require(resource.metric("gotk_reconcile_duration_seconds"))
        #expect(histogram.description == "The duration in seconds of a GitOps Toolkit resource reconciliation.")
        guard case .histogram(let h) = histogram.data else {
            Issue.record("not a histogram")
            return
        }
        #expect(h.aggregationTemporality == .cumulative)
        #expect(h.dataPoints.count == 4)
        let apps = try #require(h.dataPoints.first { $0.attributes["name"] == "apps" })
        #expect(
            apps.explicitBounds == [
                0.01, 0.038363583488692544, 0.1471764538093883, 0.5646216173286169, 2.166090855590701,
                8.309900738254731, 31.879757075478317, 122.30217221643493, 469.19495946736544, 1799.9999999999986,
            ])
        // Served cumulative: 0 0 0 0 12 12 13 14 14 14 14(+Inf).
        #expect(apps.bucketCounts == [0, 0, 0, 0, 12, 0, 1, 1, 0, 0, 0])
        #expect(apps.count == 14)
        #expect(apps.sum == 72.35523105)
        #expect(
            apps.attributes.map(\.key) == [
                "kind", "name", "namespace", "controller", "flux.object.kind", "flux.object.name",
                "flux.object.namespace",
            ])
        // The fixture serves process_start_time_seconds 1.78651920041e+09: the start of its cumulative series.
        #expect(apps.startTimeUnixNano == 1_786_519_200_410_000_000)
        #expect(apps.timeUnixNano == 1_000_000_000_000)

        guard case .sum(let counter) = resource.metric("controller_runtime_reconcile_total")?.data else {
            Issue.record("counter is not a Sum")
            return
        }
        #expect(counter.isMonotonic && counter.aggregationTemporality == .cumulative)
        guard case .gauge(let gauge) = resource.metric("go_gc_gomemlimit_bytes")?.data else {
            Issue.record("gauge is not a Gauge")
            return
        }
        #expect(gauge.dataPoints.first?.value == .double(1_073_741_824))
        #expect(gauge.dataPoints.first?.startTimeUnixNano == 0)
        guard case .summary(let summary) = resource.metric("go_gc_duration_seconds")?.data else {
            Issue.record("summary is not a Summary")
            return
        }
        #expect(summary.dataPoints.first?.quantileValues.map(\.quantile) == [0, 0.25, 0.5, 0.75, 1])
        #expect(summary.dataPoints.first?.count == 187)
        #expect(summary.dataPoints.first?.sum == 0.018305772)
        #expect(resource.metric("up") != nil)
        #expect(converted.report.samplesScraped == converted.report.samplesPostRelabeling)
        #expect(converted.report.seriesAdded == tracker.trackedSeries)
    }

    @Test func startTimeStaysFixedAndMovesOnReset() throws {
        var tracker = SeriesTracker()
        let t0: UInt64 = 1_000_000_000_000
        func counterPoint(_ value: Int, at time: UInt64) throws -> OTLP.NumberDataPoint? {
            let (resource, _) = try convert(
                "# TYPE c_total counter\nc_total{a=\"b\"} \(value)\n", tracker: &tracker, time: time)
            guard case .sum(let sum) = resource.metric("c_total")?.data else { return nil }
            return sum.dataPoints.first
        }
        #expect(try counterPoint(5, at: t0)?.startTimeUnixNano == t0)
        #expect(try counterPoint(9, at: t0 + 30_000_000_000)?.startTimeUnixNano == t0)
        let afterReset = try counterPoint(2, at: t0 + 60_000_000_000)
        #expect(afterReset?.startTimeUnixNano == t0 + 60_000_000_000 - 1_000_000)
        #expect(try counterPoint(4, at: t0 + 90_000_000_000)?.startTimeUnixNano == t0 + 60_000_000_000 - 1_000_000)
    }

    @Test func createdGivesTheStartTime() throws {
        var tracker = SeriesTracker()
        let (resource, _) = try convert(
            """
            # TYPE requests counter
            requests_total 10
            requests_created 1712340000.25
            # TYPE h histogram
            h_bucket{le="+Inf"} 1
            h_count 1
            h_sum 0.5
            h_created 1712340001
            # EOF
            """, format: .openMetrics, tracker: &tracker)
        guard case .sum(let sum) = resource.metric("requests_total")?.data,
            case .histogram(let h) = resource.metric("h")?.data
        else {
            Issue.record("missing metrics")
            return
        }
        #expect(sum.dataPoints.first?.startTimeUnixNano == 1_712_340_000_250_000_000)
        #expect(h.dataPoints.first?.startTimeUnixNano == 1_712_340_001_000_000_000)
        #expect(h.dataPoints.first?.bucketCounts == [1])
        #expect(h.dataPoints.first?.explicitBounds == [])
    }

    @Test func disappearingSeriesGetsOneStalePoint() throws {
        var tracker = SeriesTracker()
        _ = try convert(
            "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 2\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n",
            tracker: &tracker)
        let (resource, converted) = try convert(
            "# TYPE g gauge\ng{a=\"1\"} 1\n", tracker: &tracker, time: 2_000_000_000_000)
        #expect(converted.staleSeries == 2)
        let stale = resource.metrics.filter { $0.name == "g" || $0.name == "h" }
        var flagged = 0
        for metric in stale {
            switch metric.data {
            case .gauge(let g):
                for point in g.dataPoints where point.flags == 1 {
                    flagged += 1
                    #expect(point.attributes["a"] == "2")
                    #expect(point.value == nil)
                }
            case .histogram(let h):
                #expect(h.dataPoints.allSatisfy { $0.flags == 1 && $0.bucketCounts.isEmpty })
                flagged += h.dataPoints.count
            default: break
            }
        }
        #expect(flagged == 2)
        // Only once: the next scrape has nothing stale.
        let (_, third) = try convert("# TYPE g gauge\ng{a=\"1\"} 1\n", tracker: &tracker, time: 3_000_000_000_000)
        #expect(third.staleSeries == 0)
    }

    @Test func failedScrapeMarksEverythingStaleAndReportsDown() throws {
        var tracker = SeriesTracker()
        _ = try convert("a 1\nb 2\n", tracker: &tracker)
        let converted = MetricsConverter.convert(
            nil, target: testTarget, rules: ConversionRules(), tracker: &tracker, scrapeTimeNanos: 5,
            durationSeconds: 0.5)
        #expect(converted.staleSeries == 2)
        #expect(converted.report.up == false)
        let resource = try #require(
            try OTLP.ExportMetricsServiceRequest(decoding: converted.bytes).resourceMetrics.first)
        guard case .gauge(let up) = resource.metric("up")?.data else {
            Issue.record("no up")
            return
        }
        #expect(up.dataPoints.first?.value == .double(0))
        #expect(up.dataPoints.first?.attributes["controller"] == "kustomize-controller")
    }

    @Test func filterIsPerFamily() throws {
        var tracker = SeriesTracker()
        let options = ConversionRules(
            filter: MetricFilter(include: ["gotk_*", "workqueue_*"], exclude: ["workqueue_depth"]))
        let text = String(decoding: try fixtureBytes(), as: UTF8.self)
        let (resource, converted) = try convert(text, tracker: &tracker, rules: options)
        let names = Set(resource.metrics.map(\.name))
        #expect(names.contains("gotk_reconcile_duration_seconds"))
        #expect(names.contains("workqueue_adds_total"))
        #expect(!names.contains("workqueue_depth"))
        #expect(!names.contains("go_goroutines"))
        #expect(converted.report.samplesPostRelabeling < converted.report.samplesScraped)
    }

    @Test func histogramWithoutBucketsAndUnsortedBuckets() throws {
        var tracker = SeriesTracker()
        let (resource, _) = try convert(
            """
            # TYPE e histogram
            e_sum 3
            e_count 2
            # TYPE u histogram
            u_bucket{le="+Inf"} 5
            u_bucket{le="2"} 4
            u_bucket{le="1"} 1
            u_count 5
            # TYPE nocount histogram
            nocount_bucket{le="+Inf"} 5
            """, tracker: &tracker)
        #expect(resource.metric("nocount") == nil)
        guard case .histogram(let e) = resource.metric("e")?.data, case .histogram(let u) = resource.metric("u")?.data
        else {
            Issue.record("missing")
            return
        }
        #expect(resource.metric("e")?.metadata["prometheus.type"] == "histogram")
        #expect(e.dataPoints.first?.count == 2)
        #expect(e.dataPoints.first?.sum == 3)
        #expect(e.dataPoints.first?.bucketCounts == [])
        #expect(u.dataPoints.first?.explicitBounds == [1, 2])
        #expect(u.dataPoints.first?.bucketCounts == [1, 3, 1])
    }

    @Test func honorLabels() throws {
        var tracker = SeriesTracker()
        let text = "m{controller=\"scraped\",job=\"x\"} 1\n"
        let (renamed, _) = try convert(text, tracker: &tracker)
        guard case .gauge(let g1) = renamed.metric("m")?.data else { return }
        #expect(g1.dataPoints[0].attributes["exported_controller"] == "scraped")
        #expect(g1.dataPoints[0].attributes["exported_job"] == "x")
        #expect(g1.dataPoints[0].attributes["controller"] == "kustomize-controller")
        var tracker2 = SeriesTracker()
        let (honored, _) = try convert(text, tracker: &tracker2, rules: ConversionRules(honorLabels: true))
        guard case .gauge(let g2) = honored.metric("m")?.data else { return }
        #expect(g2.dataPoints[0].attributes["controller"] == "scraped")
        #expect(g2.dataPoints[0].attributes["job"] == "x")
        #expect(g2.dataPoints[0].attributes.count == 2)
    }

    @Test func relabelActions() throws {
        var tracker = SeriesTracker()
        let rules = [
            try RelabelRule(action: .drop, sourceLabels: ["__name__"], regex: "go_.*"),
            try RelabelRule(action: .keep, sourceLabels: ["kind"], regex: "Kustomization|"),
            try RelabelRule(
                action: .replace, sourceLabels: ["namespace", "name"], regex: "(.*);(.*)", targetLabel: "object",
                replacement: "$1/${2}"),
            try RelabelRule(action: .labeldrop, regex: "namespace"),
            try RelabelRule(action: .labelkeep, regex: "kind|object|controller|result"),
        ]
        let text = String(decoding: try fixtureBytes(), as: UTF8.self)
        let (resource, converted) = try convert(text, tracker: &tracker, rules: ConversionRules(relabel: rules))
        #expect(resource.metric("go_goroutines") == nil)
        guard case .histogram(let h) = resource.metric("gotk_reconcile_duration_seconds")?.data else {
            Issue.record("histogram dropped")
            return
        }
        #expect(
            h.dataPoints.map { $0.attributes["object"] } == [
                "flux-system/apps", "flux-system/flux-system", "flux-system/infra-configs",
                "flux-system/infra-controllers",
            ])
        #expect(h.dataPoints[0].attributes["namespace"] == nil)
        #expect(h.dataPoints[0].attributes["name"] == nil)
        #expect(converted.report.samplesPostRelabeling < converted.report.samplesScraped)
    }

    @Test func exemplarsAndOpenMetricsTypes() throws {
        var tracker = SeriesTracker()
        let (resource, _) = try convert(
            """
            # TYPE requests counter
            requests_total{path="/"} 10 # {trace_id="0123456789abcdef0123456789abcdef",user="u"} 1 1712345678.5
            # TYPE build info
            build_info{version="1.2"} 1
            # TYPE s stateset
            s{s="a"} 1
            # TYPE target info
            target_info{env="prod",cluster="c1"} 1
            # TYPE gh gaugehistogram
            gh_bucket{le="+Inf"} 1
            gh_gcount 1
            # EOF
            """, format: .openMetrics, tracker: &tracker)
        #expect(resource.resource?.attributes["env"] == "prod")
        #expect(resource.metric("target_info") == nil)
        #expect(resource.metric("gh") == nil)
        #expect(resource.metric("requests_total")?.metadata["prometheus.type"] == "counter")
        guard case .sum(let sum) = resource.metric("requests_total")?.data else {
            Issue.record("no counter")
            return
        }
        let exemplar = try #require(sum.dataPoints.first?.exemplars.first)
        #expect(exemplar.traceID.count == 16)
        #expect(exemplar.filteredAttributes["user"] == "u")
        #expect(exemplar.timeUnixNano == 1_712_345_678_500_000_000)
        guard case .sum(let info) = resource.metric("build_info")?.data else {
            Issue.record("no info")
            return
        }
        #expect(!info.isMonotonic)
        #expect(resource.metric("s") != nil)
    }
}
