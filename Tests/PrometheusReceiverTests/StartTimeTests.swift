import OTLPWire
import Testing

@testable import PrometheusReceiver

/// Start times of cumulative series (issue 16, point 1). A move of `start_time_unix_nano` with unchanged
/// values reads as a counter reset in the backend, so `rate()` lies: it must move only on a real reset.
@Suite struct StartTimeTests {
    static let processStart = 1_786_520_000.5
    static let processStartNanos: UInt64 = 1_786_520_000_500_000_000
    static let t0: UInt64 = 1_786_525_000_000_000_000
    static let second: UInt64 = 1_000_000_000

    /// A Flux controller's exposition: a counter, a histogram, and `process_start_time_seconds`.
    static func exposition(count: Int, processStart: Double = processStart) -> String {
        """
        # TYPE controller_runtime_reconcile_total counter
        controller_runtime_reconcile_total{controller="kustomization",result="success"} \(count)
        # TYPE gotk_reconcile_duration_seconds histogram
        gotk_reconcile_duration_seconds_bucket{kind="Kustomization",le="1"} \(count)
        gotk_reconcile_duration_seconds_bucket{kind="Kustomization",le="+Inf"} \(count)
        gotk_reconcile_duration_seconds_sum{kind="Kustomization"} \(count)
        gotk_reconcile_duration_seconds_count{kind="Kustomization"} \(count)
        # TYPE process_start_time_seconds gauge
        process_start_time_seconds \(processStart)

        """
    }

    /// Only `gotk_*` kept, as the default config does: `process_start_time_seconds` is read all the same.
    static let gotkOnly = ConversionRules(
        filter: MetricFilter(include: ["gotk_*", "controller_runtime_*"], exclude: []))

    /// Start times of the counter and the histogram after one scrape (nil: not in the scrape).
    func starts(_ text: String?, tracker: inout SeriesTracker, at time: UInt64) throws -> [UInt64?] {
        let exposition = try text.map { try ExpositionParser.parse(Array($0.utf8), format: .prometheusText) }
        let converted = MetricsConverter.convert(
            exposition, target: testTarget, rules: Self.gotkOnly, tracker: &tracker, scrapeTimeNanos: time,
            durationSeconds: 0.01)
        let resource = try #require(
            try OTLP.ExportMetricsServiceRequest(decoding: converted.bytes).resourceMetrics.first)
        #expect(resource.metric("process_start_time_seconds") == nil, "filtered out, yet read")
        var counter: UInt64?
        var histogram: UInt64?
        if case .sum(let sum)? = resource.metric("controller_runtime_reconcile_total")?.data,
            let point = sum.dataPoints.first, point.flags & OTLP.DataPointFlags.noRecordedValue == 0
        {
            counter = point.startTimeUnixNano
        }
        if case .histogram(let h)? = resource.metric("gotk_reconcile_duration_seconds")?.data,
            let point = h.dataPoints.first, point.flags & OTLP.DataPointFlags.noRecordedValue == 0
        {
            histogram = point.startTimeUnixNano
        }
        return [counter, histogram]
    }

    @Test func processStartTimeIsTheStartTime() throws {
        var tracker = SeriesTracker()
        #expect(
            try starts(Self.exposition(count: 5), tracker: &tracker, at: Self.t0) == [
                Self.processStartNanos, Self.processStartNanos,
            ])
        #expect(
            try starts(Self.exposition(count: 9), tracker: &tracker, at: Self.t0 + 30 * Self.second)
                == [Self.processStartNanos, Self.processStartNanos])
    }

    /// An agent restart (a DaemonSet rollout) is a new, empty tracker: the start time stays.
    @Test func anAgentRestartKeepsTheStartTime() throws {
        var before = SeriesTracker()
        let first = try starts(Self.exposition(count: 5), tracker: &before, at: Self.t0)
        var after = SeriesTracker()
        let second = try starts(Self.exposition(count: 7), tracker: &after, at: Self.t0 + 60 * Self.second)
        #expect(first == second)
        #expect(second == [Self.processStartNanos, Self.processStartNanos])
    }

    /// A target that answers 500 for a few seconds (a failed scrape: no exposition) keeps the start time,
    /// with `process_start_time_seconds` and without it.
    @Test(arguments: [true, false])
    func aFailedScrapeKeepsTheStartTime(servesProcessStart: Bool) throws {
        func text(_ count: Int) -> String {
            let text = Self.exposition(count: count)
            return servesProcessStart
                ? text
                : String(
                    text.split(separator: "\n").filter { !$0.contains("process_start") }
                        .joined(separator: "\n")) + "\n"
        }
        var tracker = SeriesTracker()
        let first = try starts(text(5), tracker: &tracker, at: Self.t0)
        #expect(try starts(nil, tracker: &tracker, at: Self.t0 + 15 * Self.second) == [nil, nil])  // HTTP 500: stale
        #expect(try starts(nil, tracker: &tracker, at: Self.t0 + 16 * Self.second) == [nil, nil])
        let back = try starts(text(6), tracker: &tracker, at: Self.t0 + 18 * Self.second)
        #expect(back == first)
        #expect(first == (servesProcessStart ? [Self.processStartNanos, Self.processStartNanos] : [Self.t0, Self.t0]))
    }

    /// Past the staleness window (5 minutes) a returning series is new.
    @Test func aSeriesBackAfterTheStalenessWindowStartsAgain() throws {
        let text =
            String(
                Self.exposition(count: 5).split(separator: "\n").filter { !$0.contains("process_start") }
                    .joined(separator: "\n")) + "\n"
        var tracker = SeriesTracker()
        _ = try starts(text, tracker: &tracker, at: Self.t0)
        _ = try starts(nil, tracker: &tracker, at: Self.t0 + Self.second)
        let later = Self.t0 + 7 * 60 * Self.second
        #expect(try starts(text, tracker: &tracker, at: later) == [later, later])
    }

    /// A real reset moves the start time: the target restarted (values drop, a new process start time),
    /// or, without `process_start_time_seconds`, a value went down.
    @Test func aTargetRestartMovesTheStartTime() throws {
        var tracker = SeriesTracker()
        _ = try starts(Self.exposition(count: 50), tracker: &tracker, at: Self.t0)
        let restarted = Self.processStart + 600
        let after = try starts(
            Self.exposition(count: 2, processStart: restarted), tracker: &tracker, at: Self.t0 + 630 * Self.second)
        #expect(after == [nanos(fromSeconds: restarted), nanos(fromSeconds: restarted)])

        var plain = SeriesTracker()
        let noProcess =
            String(
                Self.exposition(count: 50).split(separator: "\n").filter { !$0.contains("process_start") }
                    .joined(separator: "\n")) + "\n"
        _ = try starts(noProcess, tracker: &plain, at: Self.t0)
        let dropped = noProcess.replacingOccurrences(of: " 50", with: " 1")
        let reset = Self.t0 + 30 * Self.second
        #expect(try starts(dropped, tracker: &plain, at: reset) == [reset - 1_000_000, reset - 1_000_000])
    }
}
