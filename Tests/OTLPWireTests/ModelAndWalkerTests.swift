import FluxtelTestSupport
import OTLPWire
import Testing

private func roundTrip<M: ProtoMessage & Equatable>(_ value: M) throws -> M {
    try M(decoding: value.serializedBytes())
}

@Suite("OTLP model round-trips")
struct ModelTests {
    @Test("every golden request and response round-trips")
    func goldenRoundTrips() throws {
        #expect(try roundTrip(Golden.traceRequest()) == Golden.traceRequest())
        #expect(try roundTrip(Golden.logsRequest()) == Golden.logsRequest())
        #expect(try roundTrip(Golden.metricsRequest()) == Golden.metricsRequest())
        #expect(try roundTrip(Golden.traceResponse) == Golden.traceResponse)
        #expect(try roundTrip(Golden.logsResponse) == Golden.logsResponse)
        #expect(try roundTrip(Golden.metricsResponse) == Golden.metricsResponse)
        #expect(try roundTrip(OTLP.ExportServiceResponse()) == OTLP.ExportServiceResponse())
        #expect(OTLP.ExportServiceResponse().serializedBytes().isEmpty)
    }

    @Test("each model type round-trips on its own")
    func eachType() throws {
        for av in [
            OTLP.AnyValue.empty, .string("s"), .bool(false), .int(-1), .double(-0.5), .array([.empty, .int(0)]),
            .kvlist([OTLP.KeyValue("a", "b")]), .bytes([0]), .stringIndex(-2),
        ] {
            #expect(try roundTrip(av) == av)
        }
        #expect(try roundTrip(Golden.resource()) == Golden.resource())
        #expect(try roundTrip(Golden.scope("x")) == Golden.scope("x"))
        let span = Golden.traceRequest().resourceSpans[0].scopeSpans[0].spans[0]
        #expect(try roundTrip(span) == span)
        #expect(try roundTrip(span.events[0]) == span.events[0])
        #expect(try roundTrip(span.links[0]) == span.links[0])
        #expect(try roundTrip(OTLP.Status(message: "m", code: .ok)) == OTLP.Status(message: "m", code: .ok))
        let log = Golden.logsRequest().resourceLogs[0].scopeLogs[0].logRecords[0]
        #expect(try roundTrip(log) == log)
        for metric in Golden.metricsRequest().resourceMetrics[0].scopeMetrics[0].metrics {
            #expect(try roundTrip(metric) == metric)
        }
        for e in Golden.exemplars() { #expect(try roundTrip(e) == e) }
        let weird = OTLP.Span(kind: OTLP.Span.Kind(rawValue: -7), status: OTLP.Status(code: .init(rawValue: 99)))
        #expect(try roundTrip(weird) == weird)
    }

    @Test("optional doubles keep their presence, 0 included")
    func presence() throws {
        let p = OTLP.HistogramDataPoint(sum: 0, min: nil, max: 0)
        let d = try roundTrip(p)
        #expect(d.sum == 0 && d.min == nil && d.max == 0)
        let none = try roundTrip(OTLP.HistogramDataPoint())
        #expect(none.sum == nil && none.min == nil && none.max == nil)
        #expect(OTLP.HistogramDataPoint().serializedBytes().isEmpty)
        #expect(try roundTrip(OTLP.NumberDataPoint(value: .int(0))).value == .int(0))
        #expect(try roundTrip(OTLP.NumberDataPoint()).value == nil)
        #expect(try roundTrip(OTLP.LogRecord(body: .empty)).body == .empty)
        #expect(try roundTrip(OTLP.LogRecord()).body == nil)
    }

    @Test("repeated singular message fields merge, as protobuf specifies")
    func merging() throws {
        var w = ProtoWriter()
        w.message(1, OTLP.Resource(attributes: [OTLP.KeyValue("a", "1")]))
        w.message(1, OTLP.Resource(attributes: [OTLP.KeyValue("b", "2")], droppedAttributesCount: 3))
        let rs = try OTLP.ResourceSpans(decoding: w.finish())
        #expect(
            rs.resource
                == OTLP.Resource(
                    attributes: [OTLP.KeyValue("a", "1"), OTLP.KeyValue("b", "2")], droppedAttributesCount: 3))
    }

    @Test("fast attribute helpers encode like the model")
    func attributeHelpers() {
        var w = ProtoWriter()
        w.stringAttribute(6, key: "k", value: "v")
        w.intAttribute(6, key: "n", value: -3)
        let fast = w.finish()
        var m = ProtoWriter()
        m.message(6, OTLP.KeyValue("k", "v"))
        m.message(6, OTLP.KeyValue(key: "n", value: .int(-3)))
        let slow = m.finish()
        #expect(fast == slow)
    }
}

// MARK: walker

private func spans(_ n: Int, name: String = "s", pad: Int = 0) -> [OTLP.Span] {
    (0..<n).map { i in
        OTLP.Span(
            traceID: Golden.traceID, spanID: [UInt8](repeating: UInt8(i % 256), count: 8), name: "\(name)-\(i)",
            attributes: pad > 0 ? [OTLP.KeyValue("pad", String(repeating: "p", count: pad))] : [])
    }
}

private func flatSpans(
    _ body: [UInt8]
) throws -> [(OTLP.Resource?, String, OTLP.InstrumentationScope?, String, OTLP.Span)] {
    try OTLP.ExportTraceServiceRequest(decoding: body).resourceSpans.flatMap { rs in
        rs.scopeSpans.flatMap { ss in ss.spans.map { (rs.resource, rs.schemaURL, ss.scope, ss.schemaURL, $0) } }
    }
}

private func flatPoints(_ body: [UInt8]) throws -> [String] {
    // One string per data point: its resource, scope, metric header and the point itself.
    try OTLP.ExportMetricsServiceRequest(decoding: body).resourceMetrics.flatMap { rm in
        rm.scopeMetrics.flatMap { sm in
            sm.metrics.flatMap { m -> [String] in
                let ctx =
                    "\(rm.resource.map { $0.serializedBytes() } ?? [])|\(sm.scope?.name ?? "-")|\(m.name)|\(m.unit)"
                switch m.data {
                case .gauge(let g): return g.dataPoints.map { "\(ctx)|g|\($0)" }
                case .sum(let s):
                    return s.dataPoints.map { "\(ctx)|s\(s.aggregationTemporality.rawValue)\(s.isMonotonic)|\($0)" }
                case .histogram(let h): return h.dataPoints.map { "\(ctx)|h\(h.aggregationTemporality.rawValue)|\($0)" }
                case .exponentialHistogram(let e): return e.dataPoints.map { "\(ctx)|e|\($0)" }
                case .summary(let s): return s.dataPoints.map { "\(ctx)|q|\($0)" }
                case nil: return []
                }
            }
        }
    }
}

@Suite("OTLPWalker")
struct WalkerTests {
    static let traces = OTLP.ExportTraceServiceRequest(resourceSpans: [
        OTLP.ResourceSpans(
            resource: OTLP.Resource(attributes: [OTLP.KeyValue("service.name", "a")]),
            scopeSpans: [
                OTLP.ScopeSpans(
                    scope: OTLP.InstrumentationScope(name: "s1"), spans: spans(50, pad: 100), schemaURL: "u1"),
                OTLP.ScopeSpans(scope: OTLP.InstrumentationScope(name: "s2"), spans: spans(3)),
                OTLP.ScopeSpans(scope: OTLP.InstrumentationScope(name: "empty")),
            ],
            schemaURL: "r1"),
        OTLP.ResourceSpans(),
        OTLP.ResourceSpans(scopeSpans: [OTLP.ScopeSpans(spans: spans(20, name: "x", pad: 1000))]),
    ])

    @Test("counts items of every signal")
    func counts() throws {
        #expect(try OTLPWalker.countItems(signal: .traces, body: Golden.traceRequest().serializedBytes()) == 4)
        #expect(try OTLPWalker.countItems(signal: .logs, body: Golden.logsRequest().serializedBytes()) == 5)
        #expect(try OTLPWalker.countItems(signal: .metrics, body: Golden.metricsRequest().serializedBytes()) == 23)
        #expect(try OTLPWalker.countItems(signal: .traces, body: []) == 0)
        #expect(try OTLPWalker.countItems(signal: .traces, body: Self.traces.serializedBytes()) == 73)
    }

    @Test("frame + concatenation is a valid body")
    func framing() throws {
        let a = Self.traces.resourceSpans[0]
        let b = Self.traces.resourceSpans[2]
        var body = OTLPWalker.frame(a.serializedBytes())
        OTLPWalker.appendFramed(b.serializedBytes(), to: &body)
        #expect(
            try OTLP.ExportTraceServiceRequest(decoding: body) == OTLP.ExportTraceServiceRequest(resourceSpans: [a, b]))
        #expect(OTLPWalker.frame([1, 2]) == [0x0A, 0x02, 1, 2])
        #expect(OTLPWalker.frame([UInt8](repeating: 0, count: 300)).prefix(3) == [0x0A, 0xAC, 0x02])
    }

    @Test("a body within the limits is returned as is")
    func noSplit() throws {
        let body = Self.traces.serializedBytes()
        let parts = try OTLPWalker.split(signal: .traces, body: body, maxBytes: body.count, maxItems: 73)
        #expect(parts.count == 1 && parts[0].bytes == body && parts[0].items == 73)
    }

    static let traceLimits: [(Int, Int)] = [(2048, Int.max), (1 << 20, 10), (600, 3), (1, Int.max), (1 << 20, 1)]
    static let metricLimits: [(Int, Int)] = [(300, Int.max), (1 << 20, 2), (1 << 20, 1), (1500, 5)]

    @Test(
        "trace split: parts under the limits, same spans in order with their resource and scope", arguments: traceLimits
    )
    func traceSplit(maxBytes: Int, maxItems: Int) throws {
        let body = Self.traces.serializedBytes()
        let parts = try OTLPWalker.split(signal: .traces, body: body, maxBytes: maxBytes, maxItems: maxItems)
        #expect(parts.count > 1)
        var all: [(OTLP.Resource?, String, OTLP.InstrumentationScope?, String, OTLP.Span)] = []
        for part in parts {
            #expect(part.items <= maxItems)
            #expect(part.bytes.count <= maxBytes || part.items <= 1, "\(part.bytes.count) bytes, \(part.items) items")
            #expect(try OTLPWalker.countItems(signal: .traces, body: part.bytes) == part.items)
            all += try flatSpans(part.bytes)
        }
        let want = try flatSpans(body)
        #expect(all.count == want.count)
        for (a, b) in zip(all, want) {
            #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2 && a.3 == b.3 && a.4 == b.4)
        }
        // Empty containers survive: the empty scope and the empty ResourceSpans.
        let decoded = try parts.flatMap { try OTLP.ExportTraceServiceRequest(decoding: $0.bytes).resourceSpans }
        #expect(decoded.contains { $0.scopeSpans.contains { $0.scope?.name == "empty" } })
        #expect(decoded.contains { $0 == OTLP.ResourceSpans() })
    }

    @Test("an item bigger than the limit goes alone, nothing dropped")
    func oversizedItem() throws {
        let req = OTLP.ExportLogsServiceRequest(resourceLogs: [
            OTLP.ResourceLogs(scopeLogs: [
                OTLP.ScopeLogs(logRecords: [
                    OTLP.LogRecord(body: .string("small")),
                    OTLP.LogRecord(body: .string(String(repeating: "B", count: 10_000))),
                    OTLP.LogRecord(body: .string("small2")),
                ])
            ])
        ])
        let parts = try OTLPWalker.split(signal: .logs, body: req.serializedBytes(), maxBytes: 1000)
        #expect(parts.map(\.items) == [1, 1, 1])
        #expect(parts[1].bytes.count > 10_000)
        let records = try parts.flatMap {
            try OTLP.ExportLogsServiceRequest(decoding: $0.bytes).resourceLogs[0].scopeLogs[0].logRecords
        }
        #expect(records == req.resourceLogs[0].scopeLogs[0].logRecords)
    }

    @Test("metrics split at data-point level repeats Metric and its temporality", arguments: metricLimits)
    func metricsSplit(maxBytes: Int, maxItems: Int) throws {
        let body = Golden.metricsRequest().serializedBytes()
        let parts = try OTLPWalker.split(signal: .metrics, body: body, maxBytes: maxBytes, maxItems: maxItems)
        #expect(parts.count > 1)
        var all: [String] = []
        var names: Set<String> = []
        for part in parts {
            #expect(part.items <= maxItems)
            #expect(part.bytes.count <= maxBytes || part.items <= 1)
            #expect(try OTLPWalker.countItems(signal: .metrics, body: part.bytes) == part.items)
            all += try flatPoints(part.bytes)
            for rm in try OTLP.ExportMetricsServiceRequest(decoding: part.bytes).resourceMetrics {
                for sm in rm.scopeMetrics { for m in sm.metrics { names.insert(m.name) } }
            }
        }
        #expect(parts.reduce(0) { $0 + $1.items } == 23)
        #expect(all == (try flatPoints(body)))
        // Metrics without points are kept.
        #expect(names.contains("no data") && names.contains("empty gauge"))
    }

}
