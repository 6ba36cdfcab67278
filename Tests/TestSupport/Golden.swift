import OTLPWire

/// The same "every field" values as Tests/Interop/otlp_golden.py builds with the official classes.
/// Keep the two in sync: the interop tests compare them in both directions. Shared by the test targets
/// that need a request with every field set (OTLPWireTests, ProcessorsTests).
public enum Golden {
    public typealias KV = OTLP.KeyValue
    public typealias AV = OTLP.AnyValue

    public static let traceID: [UInt8] = Array(1...16)
    public static let spanID: [UInt8] = Array(0xA0...0xA7)
    public static let parentID: [UInt8] = Array(repeating: 0xFF, count: 8)

    public static func kv(_ key: String, _ value: AV) -> KV { KV(key: key, value: value) }

    public static func everyAttributes(_ prefix: String) -> [KV] {
        [
            kv(prefix + ".str", .string("hello ✓ ünïcode")),
            kv(prefix + ".bool", .bool(true)),
            kv(prefix + ".false", .bool(false)),
            kv(prefix + ".int", .int(-42)),
            kv(prefix + ".int0", .int(0)),
            kv(prefix + ".bigint", .int(Int64.max)),
            kv(prefix + ".double", .double(3.25)),
            kv(prefix + ".double0", .double(0.0)),
            kv(prefix + ".emptystr", .string("")),
            kv(
                prefix + ".array",
                .array([.string("a"), .int(1), .bool(false), .double(-1.5), .empty, .bytes([]), .array([])])
            ),
            kv(
                prefix + ".kvlist",
                .kvlist([
                    kv("nested", .string("x")),
                    kv("deeper", .kvlist([kv("n", .int(7))])),
                    KV(key: "novalue", value: nil),
                ])
            ),
            kv(prefix + ".bytes", .bytes([0x00, 0x01, 0xFE, 0xFF])),
            kv(prefix + ".strindex", .stringIndex(5)),
            KV(key: prefix + ".empty", value: .empty),
            KV(key: prefix + ".absent", value: nil),
            KV(key: "", value: .string("by index"), keyIndex: 3),
        ]
    }

    public static func resource() -> OTLP.Resource {
        OTLP.Resource(
            attributes: [kv("service.name", .string("flux-system/otel-tempo"))] + everyAttributes("res"),
            droppedAttributesCount: 2,
            entityRefs: [
                OTLP.EntityRef(
                    schemaURL: "https://opentelemetry.io/schemas/1.34.0", type: "service",
                    idKeys: ["service.name", "service.namespace"], descriptionKeys: ["service.version"]),
                OTLP.EntityRef(type: "k8s.pod", idKeys: ["k8s.pod.uid"]),
            ]
        )
    }

    public static func scope(_ name: String) -> OTLP.InstrumentationScope {
        OTLP.InstrumentationScope(
            name: name, version: "1.44.0", attributes: everyAttributes("scope"), droppedAttributesCount: 1)
    }

    public static func traceRequest() -> OTLP.ExportTraceServiceRequest {
        let span = OTLP.Span(
            traceID: traceID, spanID: spanID, traceState: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
            parentSpanID: parentID, flags: 0x301, name: "Kustomization/flux-system.podinfo",
            kind: .consumer, startTimeUnixNano: 1_786_528_442_000_000_001,
            endTimeUnixNano: UInt64.max, attributes: everyAttributes("span"),
            droppedAttributesCount: 3,
            events: [
                OTLP.Span.Event(
                    timeUnixNano: 1_786_528_442_500_000_000, name: "exception", attributes: everyAttributes("event"),
                    droppedAttributesCount: 4),
                OTLP.Span.Event(),
            ],
            droppedEventsCount: 5,
            links: [
                OTLP.Span.Link(
                    traceID: Array(repeating: 9, count: 16), spanID: Array(repeating: 8, count: 8), traceState: "k=v",
                    attributes: everyAttributes("link"), droppedAttributesCount: 6, flags: 0x100),
                OTLP.Span.Link(),
            ],
            droppedLinksCount: 7,
            status: OTLP.Status(message: "reconciliation failed", code: .error)
        )
        let minimal = OTLP.Span(
            traceID: traceID, spanID: Array(repeating: 0, count: 8), name: "minimal", kind: .server,
            status: OTLP.Status())
        return OTLP.ExportTraceServiceRequest(resourceSpans: [
            OTLP.ResourceSpans(
                resource: resource(),
                scopeSpans: [
                    OTLP.ScopeSpans(
                        scope: scope("notification-controller"), spans: [span, minimal],
                        schemaURL: "https://opentelemetry.io/schemas/1.34.0"),
                    OTLP.ScopeSpans(spans: [OTLP.Span(name: "no scope", kind: .internal)]),
                    OTLP.ScopeSpans(scope: OTLP.InstrumentationScope()),
                ],
                schemaURL: "https://opentelemetry.io/schemas/1.34.0"
            ),
            OTLP.ResourceSpans(),
            OTLP.ResourceSpans(resource: OTLP.Resource(), scopeSpans: [OTLP.ScopeSpans(spans: [OTLP.Span()])]),
        ])
    }

    public static func logsRequest() -> OTLP.ExportLogsServiceRequest {
        let rec = OTLP.LogRecord(
            timeUnixNano: 1_786_528_442_123_456_789, observedTimeUnixNano: 1_786_528_442_223_456_789,
            severityNumber: OTLP.SeverityNumber(rawValue: 18), severityText: "error",
            body: .string("Reconciliation failed after 1.5s, next try in 5m0s"),
            attributes: everyAttributes("log"), droppedAttributesCount: 8, flags: 0x01,
            traceID: traceID, spanID: spanID, eventName: "flux.reconcile"
        )
        let kvbody = OTLP.LogRecord(severityNumber: .info, body: .kvlist(everyAttributes("body")))
        let emptybody = OTLP.LogRecord(timeUnixNano: 1, body: .empty)
        return OTLP.ExportLogsServiceRequest(resourceLogs: [
            OTLP.ResourceLogs(
                resource: resource(),
                scopeLogs: [
                    OTLP.ScopeLogs(
                        scope: scope("kustomize-controller"), logRecords: [rec, kvbody, emptybody, OTLP.LogRecord()],
                        schemaURL: "https://opentelemetry.io/schemas/1.34.0"),
                    OTLP.ScopeLogs(),
                ],
                schemaURL: "https://opentelemetry.io/schemas/1.26.0"
            ),
            OTLP.ResourceLogs(scopeLogs: [OTLP.ScopeLogs(logRecords: [OTLP.LogRecord(severityText: "info")])]),
        ])
    }

    public static func exemplars() -> [OTLP.Exemplar] {
        [
            OTLP.Exemplar(
                filteredAttributes: everyAttributes("ex"), timeUnixNano: 1_786_528_442_000_000_000,
                value: .double(0.25), spanID: spanID, traceID: traceID),
            OTLP.Exemplar(timeUnixNano: 2, value: .int(-7)),
            OTLP.Exemplar(value: .double(0.0)),
            OTLP.Exemplar(value: .int(0)),
            OTLP.Exemplar(),
        ]
    }

    public static func numberPoints() -> [OTLP.NumberDataPoint] {
        [
            OTLP.NumberDataPoint(
                attributes: everyAttributes("dp"), startTimeUnixNano: 1_786_528_400_000_000_000,
                timeUnixNano: 1_786_528_442_000_000_000, value: .double(12.5), exemplars: exemplars(), flags: 1),
            OTLP.NumberDataPoint(timeUnixNano: 3, value: .int(Int64.min)),
            OTLP.NumberDataPoint(value: .int(0)),
            OTLP.NumberDataPoint(value: .double(0.0)),
            OTLP.NumberDataPoint(value: .double(-0.0)),
            OTLP.NumberDataPoint(),
        ]
    }

    public static func metricsRequest() -> OTLP.ExportMetricsServiceRequest {
        typealias EB = OTLP.ExponentialHistogramDataPoint.Buckets
        typealias VQ = OTLP.SummaryDataPoint.ValueAtQuantile
        let metrics: [OTLP.Metric] = [
            OTLP.Metric(
                name: "gotk_reconcile_condition", description: "The current condition status", unit: "1",
                data: .gauge(OTLP.Gauge(dataPoints: numberPoints())), metadata: everyAttributes("meta")),
            OTLP.Metric(
                name: "gotk_reconcile_total", unit: "{reconciliation}",
                data: .sum(OTLP.Sum(dataPoints: numberPoints(), aggregationTemporality: .cumulative, isMonotonic: true))
            ),
            OTLP.Metric(
                name: "delta_sum",
                data: .sum(OTLP.Sum(dataPoints: [OTLP.NumberDataPoint(value: .int(5))], aggregationTemporality: .delta))
            ),
            OTLP.Metric(
                name: "gotk_reconcile_duration_seconds", unit: "s",
                data: .histogram(
                    OTLP.Histogram(
                        dataPoints: [
                            OTLP.HistogramDataPoint(
                                attributes: everyAttributes("h"), startTimeUnixNano: 1, timeUnixNano: 2,
                                count: 10, sum: 12.75, bucketCounts: [1, 0, 4, 5, UInt64.max],
                                explicitBounds: [0.005, 0.01, 0.5, -1.0], exemplars: exemplars(), flags: 1,
                                min: 0.0, max: 9.5),
                            OTLP.HistogramDataPoint(count: 0, sum: 0.0),
                            OTLP.HistogramDataPoint(min: -1.0),
                            OTLP.HistogramDataPoint(),
                        ],
                        aggregationTemporality: .cumulative))),
            OTLP.Metric(
                name: "exp",
                data: .exponentialHistogram(
                    OTLP.ExponentialHistogram(
                        dataPoints: [
                            OTLP.ExponentialHistogramDataPoint(
                                attributes: everyAttributes("e"), startTimeUnixNano: 5, timeUnixNano: 6, count: 22,
                                sum: -3.5, scale: -3, zeroCount: 2,
                                positive: EB(offset: -5, bucketCounts: [1, 300, 0, UInt64.max]),
                                negative: EB(offset: 7, bucketCounts: [2]),
                                flags: 1, exemplars: exemplars(), min: -10.0, max: 0.0, zeroThreshold: 1e-9),
                            OTLP.ExponentialHistogramDataPoint(
                                sum: 0.0, scale: 20, positive: EB(), zeroThreshold: -0.0),
                            OTLP.ExponentialHistogramDataPoint(),
                        ],
                        aggregationTemporality: .delta))),
            OTLP.Metric(
                name: "summary", description: "go_gc_duration_seconds",
                data: .summary(
                    OTLP.Summary(dataPoints: [
                        OTLP.SummaryDataPoint(
                            attributes: everyAttributes("s"), startTimeUnixNano: 7, timeUnixNano: 8, count: 9,
                            sum: 10.5,
                            quantileValues: [
                                VQ(quantile: 0.0, value: 0.001), VQ(quantile: 0.5, value: 0.0),
                                VQ(quantile: 1.0, value: 2.5), VQ(),
                            ],
                            flags: 1),
                        OTLP.SummaryDataPoint(),
                    ]))),
            OTLP.Metric(name: "empty gauge", data: .gauge(OTLP.Gauge())),
            OTLP.Metric(name: "no data"),
        ]
        return OTLP.ExportMetricsServiceRequest(resourceMetrics: [
            OTLP.ResourceMetrics(
                resource: resource(),
                scopeMetrics: [
                    OTLP.ScopeMetrics(
                        scope: scope("fluxtel.prometheus"), metrics: metrics,
                        schemaURL: "https://opentelemetry.io/schemas/1.34.0"),
                    OTLP.ScopeMetrics(metrics: [
                        OTLP.Metric(
                            name: "lonely",
                            data: .gauge(OTLP.Gauge(dataPoints: [OTLP.NumberDataPoint(value: .double(1.0))])))
                    ]),
                ],
                schemaURL: "https://opentelemetry.io/schemas/1.26.0"
            ),
            OTLP.ResourceMetrics(),
        ])
    }

    public static let traceResponse = OTLP.ExportTraceServiceResponse(
        partialSuccess: OTLP.PartialSuccess(rejected: 3, errorMessage: "3 spans rejected: invalid trace_id"))
    public static let logsResponse = OTLP.ExportLogsServiceResponse(
        partialSuccess: OTLP.PartialSuccess(rejected: -1, errorMessage: "ü"))
    public static let metricsResponse = OTLP.ExportMetricsServiceResponse(partialSuccess: OTLP.PartialSuccess())

    /// Encodes the golden value of `kind` with fluxtel's encoder.
    public static func encode(_ kind: String) -> [UInt8] {
        switch kind {
        case "trace-request": traceRequest().serializedBytes()
        case "logs-request": logsRequest().serializedBytes()
        case "metrics-request": metricsRequest().serializedBytes()
        case "trace-response": traceResponse.serializedBytes()
        case "logs-response": logsResponse.serializedBytes()
        case "metrics-response": metricsResponse.serializedBytes()
        default: fatalError("unknown kind \(kind)")
        }
    }

    /// Decodes `bytes` as `kind` with fluxtel's decoder and compares with the golden value.
    public static func decodesToGolden(_ kind: String, _ bytes: [UInt8]) throws -> Bool {
        switch kind {
        case "trace-request": try OTLP.ExportTraceServiceRequest(decoding: bytes) == traceRequest()
        case "logs-request": try OTLP.ExportLogsServiceRequest(decoding: bytes) == logsRequest()
        case "metrics-request": try OTLP.ExportMetricsServiceRequest(decoding: bytes) == metricsRequest()
        case "trace-response": try OTLP.ExportTraceServiceResponse(decoding: bytes) == traceResponse
        case "logs-response": try OTLP.ExportLogsServiceResponse(decoding: bytes) == logsResponse
        case "metrics-response": try OTLP.ExportMetricsServiceResponse(decoding: bytes) == metricsResponse
        default: fatalError("unknown kind \(kind)")
        }
    }

    public static let kinds = [
        "trace-request", "logs-request", "metrics-request", "trace-response", "logs-response", "metrics-response",
    ]
}
