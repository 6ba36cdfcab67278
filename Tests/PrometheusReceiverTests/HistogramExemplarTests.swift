import OTLPWire
import Testing

@testable import PrometheusReceiver

/// OpenMetrics exemplars on histogram buckets reach the OTLP histogram point's exemplars, trace and
/// span id included (issue 16, point 7); before, only counter exemplars arrived.
@Suite struct HistogramExemplarTests {
    @Test func bucketExemplarsReachTheHistogramPoint() throws {
        var tracker = SeriesTracker()
        let (resource, _) = try convert(
            """
            # TYPE gotk_reconcile_duration_seconds histogram
            gotk_reconcile_duration_seconds_bucket{kind="Kustomization",le="0.5"} 3 # {trace_id="0123456789abcdef0123456789abcdef",span_id="0123456789abcdef"} 0.31 1712345678.5
            gotk_reconcile_duration_seconds_bucket{kind="Kustomization",le="1"} 5
            gotk_reconcile_duration_seconds_bucket{kind="Kustomization",le="+Inf"} 6 # {trace_id="fedcba9876543210fedcba9876543210",controller="kustomization"} 4.2
            gotk_reconcile_duration_seconds_sum{kind="Kustomization"} 9.5
            gotk_reconcile_duration_seconds_count{kind="Kustomization"} 6
            # EOF
            """, format: .openMetrics, tracker: &tracker)
        guard case .histogram(let histogram) = resource.metric("gotk_reconcile_duration_seconds")?.data else {
            Issue.record("no histogram")
            return
        }
        let point = try #require(histogram.dataPoints.first)
        #expect(point.bucketCounts == [3, 2, 1])
        #expect(point.exemplars.count == 2)
        let first = try #require(point.exemplars.first)
        #expect(first.value == .double(0.31))
        #expect(
            first.traceID == [
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
            ])
        #expect(first.spanID == [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef])
        #expect(first.timeUnixNano == 1_712_345_678_500_000_000)
        let last = try #require(point.exemplars.last)
        #expect(last.traceID.first == 0xfe)
        #expect(last.spanID.isEmpty)
        #expect(last.filteredAttributes["controller"] == "kustomization")
    }
}
