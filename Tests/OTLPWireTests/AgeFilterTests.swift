import FluxtelTestSupport
import Testing

@testable import OTLPWire

/// `processors.max_age` at the byte level: old items go, the rest of the request stays as it was.
@Suite struct AgeFilterTests {
    static let cutoff: UInt64 = 1_786_500_000_000_000_000
    static let old = cutoff - 1
    static let new = cutoff + 1
    static let resource = OTLP.Resource(attributes: [OTLP.KeyValue(key: "service.name", value: .string("svc"))])

    static func span(_ name: String, start: UInt64 = 0, end: UInt64 = 0) -> OTLP.Span {
        OTLP.Span(name: name, startTimeUnixNano: start, endTimeUnixNano: end)
    }

    static func traces(_ scopes: [[OTLP.Span]]) -> [UInt8] {
        OTLP.ExportTraceServiceRequest(resourceSpans: [
            OTLP.ResourceSpans(
                resource: resource, scopeSpans: scopes.map { OTLP.ScopeSpans(spans: $0) }, schemaURL: "s")
        ]).serializedBytes()
    }

    func filter(_ signal: Signal, _ body: [UInt8]) throws -> (bytes: [UInt8], dropped: Int)? {
        try AgeFilter.dropOlder(than: Self.cutoff, signal: signal, body: body)
    }

    @Test func spansByEndTimeElseStartTime() throws {
        let body = Self.traces([
            [
                Self.span("old", start: Self.old - 5, end: Self.old), Self.span("new", start: Self.old, end: Self.new),
                Self.span("running-old", start: Self.old), Self.span("running-new", start: Self.new),
                Self.span("unknown"),
            ],
            [Self.span("all-old", end: Self.old)],
        ])
        let (filtered, dropped) = try #require(try filter(.traces, body))
        #expect(dropped == 3)
        let request = try OTLP.ExportTraceServiceRequest(decoding: filtered)
        #expect(request.resourceSpans.count == 1)
        let resource = request.resourceSpans[0]
        #expect(resource.resource == Self.resource)
        #expect(resource.schemaURL == "s")
        // The scope left without spans is gone; the other keeps its spans in order.
        #expect(resource.scopeSpans.count == 1)
        #expect(resource.scopeSpans[0].spans.map(\.name) == ["new", "running-new", "unknown"])
        #expect(try OTLPWalker.countItems(signal: .traces, body: filtered) == 3)
    }

    @Test func noneOldReturnsNilAndAllOldLeavesNothing() throws {
        let fresh = Self.traces([[Self.span("a", end: Self.new), Self.span("b")]])
        #expect(try filter(.traces, fresh) == nil)
        let stale = Self.traces([[Self.span("a", end: Self.old)], [Self.span("b", start: 1)]])
        let (filtered, dropped) = try #require(try filter(.traces, stale))
        #expect(dropped == 2)
        #expect(filtered.isEmpty)
        #expect(try filter(.traces, []) == nil)
    }

    @Test func logRecordsByTimeElseObservedTime() throws {
        let records = [
            OTLP.LogRecord(timeUnixNano: Self.old, observedTimeUnixNano: Self.new, body: .string("old")),
            OTLP.LogRecord(timeUnixNano: Self.new, body: .string("new")),
            OTLP.LogRecord(observedTimeUnixNano: Self.old, body: .string("observed-old")),
            OTLP.LogRecord(observedTimeUnixNano: Self.new, body: .string("observed-new")),
            OTLP.LogRecord(body: .string("unknown")),
        ]
        let body = OTLP.ExportLogsServiceRequest(resourceLogs: [
            OTLP.ResourceLogs(resource: Self.resource, scopeLogs: [OTLP.ScopeLogs(logRecords: records)]),
            OTLP.ResourceLogs(scopeLogs: [OTLP.ScopeLogs(logRecords: [OTLP.LogRecord(timeUnixNano: 1)])]),
        ]).serializedBytes()
        let (filtered, dropped) = try #require(try filter(.logs, body))
        #expect(dropped == 3)
        let request = try OTLP.ExportLogsServiceRequest(decoding: filtered)
        #expect(request.resourceLogs.count == 1, "the resource left without records is gone")
        let bodies = request.resourceLogs[0].scopeLogs[0].logRecords.map { record -> String in
            if case .string(let text) = record.body { return text }
            return ""
        }
        #expect(bodies == ["new", "observed-new", "unknown"])
    }

    @Test func metricDataPointsOfEveryKind() throws {
        func number(_ time: UInt64) -> OTLP.NumberDataPoint { OTLP.NumberDataPoint(timeUnixNano: time, value: .int(1)) }
        let metrics: [OTLP.Metric] = [
            OTLP.Metric(name: "gauge", data: .gauge(OTLP.Gauge(dataPoints: [number(Self.old), number(Self.new)]))),
            OTLP.Metric(
                name: "sum",
                data: .sum(OTLP.Sum(dataPoints: [number(Self.old)], aggregationTemporality: .cumulative))),
            OTLP.Metric(
                name: "histogram",
                data: .histogram(
                    OTLP.Histogram(
                        dataPoints: [
                            OTLP.HistogramDataPoint(timeUnixNano: Self.old), OTLP.HistogramDataPoint(timeUnixNano: 0),
                        ], aggregationTemporality: .cumulative))),
            OTLP.Metric(
                name: "summary",
                data: .summary(OTLP.Summary(dataPoints: [OTLP.SummaryDataPoint(timeUnixNano: Self.new)]))),
        ]
        let body = OTLP.ExportMetricsServiceRequest(resourceMetrics: [
            OTLP.ResourceMetrics(resource: Self.resource, scopeMetrics: [OTLP.ScopeMetrics(metrics: metrics)])
        ]).serializedBytes()
        let (filtered, dropped) = try #require(try filter(.metrics, body))
        #expect(dropped == 3)
        let request = try OTLP.ExportMetricsServiceRequest(decoding: filtered)
        let kept = request.resourceMetrics[0].scopeMetrics[0].metrics
        #expect(kept.map(\.name) == ["gauge", "histogram", "summary"], "the metric left without points is gone")
        #expect(try OTLPWalker.countItems(signal: .metrics, body: filtered) == 3)
    }

    @Test func malformedInputThrowsAndNeverCrashes() throws {
        let body = Self.traces([[Self.span("old", end: Self.old), Self.span("new", end: Self.new)]])
        for cut in 1..<body.count {
            _ = try? filter(.traces, Array(body[..<cut]))
        }
        var random = SeededRandom(seed: 16)
        for _ in 0..<2000 {
            var bytes = body
            bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            for signal in [Signal.traces, .logs, .metrics] { _ = try? filter(signal, bytes) }
        }
        #expect(throws: ProtoDecodingError.self) { try filter(.traces, [0x0A, 0x05, 0x01]) }
    }
}
