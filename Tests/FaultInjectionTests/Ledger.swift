import FluxtelTestSupport
import OTLPWire

/// What the sink received and answered with 2xx, decoded and counted by unique key: a log record by
/// its `seq` attribute, a span by its span id, a metric data point by metric name, attributes and
/// timestamp. Requests the sink refused (503, 429, 400) or never answered are not deliveries.
/// Incremental: `update` decodes only requests that arrived since the last call.
struct Ledger {
    var logs: [Int: Int] = [:]
    var spans: [UInt64: Int] = [:]
    var points: [String: Int] = [:]
    /// Per scrape (data point timestamp): the value of `up`, and the distinct series seen.
    var scrapes: [UInt64: (up: Double?, series: Set<String>)] = [:]
    /// Requests that were not valid OTLP protobuf (must stay 0).
    var undecodable = 0
    /// Log records without a `seq` attribute (must stay 0: the writer is the only log source).
    var unnumbered = 0
    private var consumed = 0

    mutating func update(_ requests: [HTTPSink.RecordedRequest]) {
        guard requests.count > consumed else { return }
        for request in requests[consumed...] {
            guard let status = request.status, (200..<300).contains(status) else { continue }
            guard let body = request.body else {
                undecodable += 1
                continue
            }
            switch request.path {
            case "/v1/logs": add(logs: body)
            case "/v1/traces": add(spans: body)
            case "/v1/metrics": add(metrics: body)
            default: undecodable += 1
            }
        }
        consumed = requests.count
    }

    mutating func add(logs body: [UInt8]) {
        guard let request = try? OTLP.ExportLogsServiceRequest(decoding: body) else {
            undecodable += 1
            return
        }
        for record in request.resourceLogs.flatMap({ $0.scopeLogs.flatMap(\.logRecords) }) {
            if case .int(let seq)? = record.attributes.first(where: { $0.key == "seq" })?.value {
                logs[Int(seq), default: 0] += 1
            } else {
                unnumbered += 1
            }
        }
    }

    mutating func add(spans body: [UInt8]) {
        guard let request = try? OTLP.ExportTraceServiceRequest(decoding: body) else {
            undecodable += 1
            return
        }
        for span in Self.spans(in: request) { spans[span, default: 0] += 1 }
    }

    static func spans(in request: OTLP.ExportTraceServiceRequest) -> [UInt64] {
        request.resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }.map { span in
            span.spanID.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }

    mutating func add(metrics body: [UInt8]) {
        guard let request = try? OTLP.ExportMetricsServiceRequest(decoding: body) else {
            undecodable += 1
            return
        }
        for resource in request.resourceMetrics {
            let target = "\(resource.resource?.attributes ?? [])"
            for metric in resource.scopeMetrics.flatMap(\.metrics) {
                var keyed: [(attributes: [OTLP.KeyValue], time: UInt64, value: Double?)] = []
                switch metric.data {
                case .gauge(let gauge)?:
                    keyed = gauge.dataPoints.map { ($0.attributes, $0.timeUnixNano, Self.double($0.value)) }
                case .sum(let sum)?:
                    keyed = sum.dataPoints.map { ($0.attributes, $0.timeUnixNano, Self.double($0.value)) }
                case .histogram(let histogram)?:
                    keyed = histogram.dataPoints.map { ($0.attributes, $0.timeUnixNano, nil) }
                case .exponentialHistogram(let histogram)?:
                    keyed = histogram.dataPoints.map { ($0.attributes, $0.timeUnixNano, nil) }
                case .summary(let summary)?:
                    keyed = summary.dataPoints.map { ($0.attributes, $0.timeUnixNano, nil) }
                case nil:
                    break
                }
                for point in keyed {
                    let series = "\(metric.name) \(target) \(point.attributes)"
                    points["\(series) @\(point.time)", default: 0] += 1
                    var scrape = scrapes[point.time] ?? (nil, [])
                    scrape.series.insert(series)
                    if metric.name == "up" { scrape.up = point.value }
                    scrapes[point.time] = scrape
                }
            }
        }
    }

    private static func double(_ value: OTLP.NumberValue?) -> Double? {
        switch value {
        case .double(let d)?: d
        case .int(let i)?: Double(i)
        case nil: nil
        }
    }

    /// Scrapes whose `up` is 1 (the target answered with the fixture).
    var successfulScrapes: [UInt64: Set<String>] { scrapes.filter { $0.value.up == 1 }.mapValues(\.series) }
}

/// Losses and duplicates of one signal, against what was accepted from the sources.
struct Tally: CustomStringConvertible {
    var expected = 0
    var lost: [UInt64] = []
    var duplicates = 0
    /// Delivered keys that no source accepted (e.g. a span whose 200 never reached the sender).
    var unexpected = 0

    init<Key: BinaryInteger>(expected keys: Set<Key>, delivered: [Key: Int], excluded: Set<Key> = []) {
        expected = keys.count
        lost = keys.subtracting(excluded).filter { delivered[$0] == nil }.map { UInt64($0) }.sorted()
        duplicates = delivered.values.reduce(0) { $0 + $1 - 1 }
        unexpected = delivered.keys.filter { !keys.contains($0) }.count
    }

    var description: String {
        "expected \(expected), lost \(lost.count)\(lost.isEmpty ? "" : " (first \(lost.prefix(5)))"), duplicates \(duplicates), unexpected \(unexpected)"
    }
}
