import OTLPWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Scrape statistics, reported as the `up` / `scrape_*` series.
public struct ScrapeReport: Sendable, Equatable {
    public var up: Bool
    public var durationSeconds: Double
    public var samplesScraped: Int
    public var samplesPostRelabeling: Int
    public var seriesAdded: Int
}

/// What one scrape produced for the pipeline.
public struct ConvertedScrape: Sendable {
    /// One `ResourceMetrics` framed as field 1 of `ExportMetricsServiceRequest` (a `TelemetryChunk` body).
    public var bytes: [UInt8]
    /// Data points inside `bytes`.
    public var dataPoints: Int
    public var report: ScrapeReport
    /// Series that went stale in this scrape (each got one point flagged "no recorded value").
    public var staleSeries: Int
}

/// Encodes a parsed exposition as one OTLP `ResourceMetrics`, following the OpenTelemetry
/// "Prometheus and OpenMetrics Compatibility" specification:
/// counter → monotonic cumulative Sum; gauge, untyped, unknown → Gauge; histogram → cumulative
/// Histogram (bucket counts de-cumulated, `+Inf` kept); summary → Summary; info and stateset →
/// non-monotonic Sum; gaugehistogram → Histogram (cumulative: OTLP has no gauge temporality).
/// Start times come from `_created`, else from the tracker (first sight, moved on a reset).
/// The protobuf is written directly with `ProtoWriter`, without building model values.
public enum MetricsConverter {
    static let scopeName = "fluxtel/prometheusreceiver"

    public static func convert(
        _ exposition: Exposition?, target: TargetInfo, rules: ConversionRules, tracker: inout SeriesTracker,
        scrapeTimeNanos: UInt64, durationSeconds: Double, version: String = "", report writesReport: Bool = true
    ) -> ConvertedScrape {
        tracker.generation &+= 1
        tracker.observeProcessStart(exposition.flatMap(processStartSeconds).map(nanos(fromSeconds:)))
        tracker.expireRetired(now: scrapeTimeNanos)
        var w = ProtoWriter(reservingCapacity: max(4096, (exposition?.body.count ?? 0) * 3 / 2))
        let outer = w.beginMessage(1)  // ExportMetricsServiceRequest.resource_metrics
        var resourceTarget = target
        let targetInfo = exposition.flatMap(targetInfoFamily)
        if let exposition, let targetInfo, let sample = exposition.samples.first(where: { $0.family == targetInfo }) {
            for label in exposition.labelPairs(of: sample) where !label.value.isEmpty {
                resourceTarget.resourceAttributes.append((label.name, label.value))
            }
        }
        writeResource(&w, resourceTarget)
        let scopeMetrics = w.beginMessage(2)
        w.message(1) { scope in
            scope.string(1, scopeName)
            scope.string(2, version)
        }
        var context = Context(target: target, rules: rules, time: scrapeTimeNanos)
        var points = 0
        var samplesPost = 0
        var seriesAdded = 0
        if let exposition {
            exposition.body.withUnsafeBufferPointer { body in
                exposition.arena.withUnsafeBufferPointer { arena in
                    var encoder = Encoder(
                        exposition: exposition, body: body, arena: arena, context: context, tracker: tracker)
                    tracker = SeriesTracker()  // moved into the encoder; moved back below
                    encoder.targetInfoFamily = targetInfo ?? -1
                    encoder.encodeAll(&w)
                    points = encoder.points
                    samplesPost = encoder.samplesPost
                    seriesAdded = encoder.seriesAdded
                    tracker = encoder.tracker
                    context = encoder.context
                }
            }
        }
        let stale = writeStaleMarkers(&w, tracker: &tracker, time: scrapeTimeNanos)
        points += stale
        let report = ScrapeReport(
            up: exposition != nil, durationSeconds: durationSeconds, samplesScraped: exposition?.samples.count ?? 0,
            samplesPostRelabeling: samplesPost, seriesAdded: seriesAdded)
        if writesReport { points += writeReport(&w, report, context: context) }
        w.endMessage(scopeMetrics)
        w.endMessage(outer)
        return ConvertedScrape(bytes: w.bytes, dataPoints: points, report: report, staleSeries: stale)
    }

    /// The value of `process_start_time_seconds` (served by every client_golang program, so by every Flux
    /// controller), whether or not `include_metrics` keeps it.
    static func processStartSeconds(_ exposition: Exposition) -> Double? {
        guard let family = exposition.families.firstIndex(where: { $0.nameBytes == processStartBytes }) else {
            return nil
        }
        let sample = exposition.samples.first { $0.family == Int32(family) && $0.suffix == .none }
        guard let value = sample?.value, value.isFinite, value > 0 else { return nil }
        return value
    }

    /// The OpenMetrics `target` info family (`# TYPE target info`), whose labels are resource attributes.
    static func targetInfoFamily(_ exposition: Exposition) -> Int32? {
        guard exposition.format == .openMetrics else { return nil }
        let index = exposition.families.firstIndex { $0.type == .info && $0.nameBytes == targetBytes }
        return index.map { Int32($0) }
    }

    /// Only staleness markers, for every tracked series (a target that went away).
    public static func staleOnly(
        target: TargetInfo, tracker: inout SeriesTracker, time: UInt64, version: String = ""
    ) -> ConvertedScrape {
        tracker.generation &+= 1
        var w = ProtoWriter(reservingCapacity: 4096)
        let outer = w.beginMessage(1)
        writeResource(&w, target)
        let scopeMetrics = w.beginMessage(2)
        w.message(1) { scope in
            scope.string(1, scopeName)
            scope.string(2, version)
        }
        let stale = writeStaleMarkers(&w, tracker: &tracker, time: time)
        w.endMessage(scopeMetrics)
        w.endMessage(outer)
        let report = ScrapeReport(
            up: false, durationSeconds: 0, samplesScraped: 0, samplesPostRelabeling: 0, seriesAdded: 0)
        return ConvertedScrape(bytes: w.bytes, dataPoints: stale, report: report, staleSeries: stale)
    }

    // MARK: resource

    static func writeResource(_ w: inout ProtoWriter, _ target: TargetInfo) {
        w.message(1) { r in
            writeStringAttribute(&r, field: 1, key: "service.name", value: target.job)
            writeStringAttribute(&r, field: 1, key: "service.instance.id", value: target.instance)
            if !target.host.isEmpty {  // empty: not a network target (the agent's own metrics)
                writeStringAttribute(&r, field: 1, key: "server.address", value: target.host)
                r.message(1) { kv in
                    kv.string(1, "server.port")
                    kv.message(2) { $0.int64(3, Int64(target.port)) }
                }
                writeStringAttribute(&r, field: 1, key: "url.scheme", value: target.scheme)
            }
            for (key, value) in target.resourceAttributes {
                writeStringAttribute(&r, field: 1, key: key, value: value)
            }
        }
    }

    static func writeStringAttribute(_ w: inout ProtoWriter, field: UInt32, key: String, value: String) {
        w.message(field) { kv in
            kv.writeStringAlways(1, key)
            kv.message(2) { $0.writeStringAlways(1, value) }
        }
    }

    // MARK: scrape report (up, scrape_*)

    static func writeReport(_ w: inout ProtoWriter, _ report: ScrapeReport, context: Context) -> Int {
        let series: [(String, String, Double)] = [
            ("up", "1 if the target was scraped successfully, 0 otherwise.", report.up ? 1 : 0),
            ("scrape_duration_seconds", "Duration of the scrape.", report.durationSeconds),
            ("scrape_samples_scraped", "Samples the target exposed.", Double(report.samplesScraped)),
            (
                "scrape_samples_post_metric_relabeling", "Samples left after metric filtering and relabeling.",
                Double(report.samplesPostRelabeling)
            ),
            ("scrape_series_added", "Series seen for the first time in this scrape.", Double(report.seriesAdded)),
        ]
        for (name, help, value) in series {
            w.message(2) { m in
                m.string(1, name)
                m.string(2, help)
                m.message(5) { gauge in
                    gauge.message(1) { point in
                        for label in context.targetLabels {
                            writeKeyValue(&point, field: 7, key: label.name, value: label.value)
                        }
                        point.fixed64(3, context.time)
                        point.doubleAlways(4, value)
                    }
                }
            }
        }
        return series.count
    }

    @inline(__always)
    static func writeKeyValue(_ w: inout ProtoWriter, field: UInt32, key: [UInt8], value: [UInt8]) {
        value.withUnsafeBytes { writeKeyValue(&w, field: field, key: key, value: $0) }
    }

    @inline(__always)
    static func writeKeyValue(_ w: inout ProtoWriter, field: UInt32, key: [UInt8], value: UnsafeRawBufferPointer) {
        let kv = w.beginMessage(field)
        w.writeTag(1, .lengthDelimited)
        w.writeVarint(UInt64(key.count))
        w.writeRawBytes(key)
        let any = w.beginMessage(2)
        w.writeTag(1, .lengthDelimited)
        w.writeVarint(UInt64(value.count))
        w.writeRawBytes(value)
        w.endMessage(any)
        w.endMessage(kv)
    }

    // MARK: staleness

    /// One point flagged `FLAG_NO_RECORDED_VALUE` for every tracked series not seen in this scrape
    /// (all of them when the scrape failed); the series is then forgotten, so if it comes back it
    /// starts anew.
    static func writeStaleMarkers(_ w: inout ProtoWriter, tracker: inout SeriesTracker, time: UInt64) -> Int {
        let generation = tracker.generation
        var gone: [UInt64] = []
        for (key, series) in tracker.series where series.generation != generation {
            gone.append(key)
            let template = series.stale
            w.message(2) { m in
                m.writeTag(1, .lengthDelimited)
                m.writeVarint(UInt64(template.name.count))
                m.writeRawBytes(template.name)
                // The one point of the metric's data message: no value, only the flag (field 10 in a
                // histogram point, 8 in the others); a gauge point has no start time.
                func point(_ data: inout ProtoWriter, start: UInt64?, flagsField: UInt32) {
                    data.message(1) { p in
                        p.writeRawBytes(template.attributes)
                        if let start { p.fixed64(2, start) }
                        p.fixed64(3, time)
                        p.uint32(flagsField, OTLP.DataPointFlags.noRecordedValue)
                    }
                }
                switch template.kind {
                case .histogram, .gaugeHistogram:
                    m.message(9) { h in
                        point(&h, start: series.start, flagsField: 10)
                        h.int32(2, OTLP.AggregationTemporality.cumulative.rawValue)
                    }
                case .summary:
                    m.message(11) { s in point(&s, start: series.start, flagsField: 8) }
                case .counter, .info, .stateset:
                    m.message(7) { s in
                        point(&s, start: series.start, flagsField: 8)
                        s.int32(2, OTLP.AggregationTemporality.cumulative.rawValue)
                        s.bool(3, template.kind == .counter)
                    }
                default:
                    m.message(5) { g in point(&g, start: nil, flagsField: 8) }
                }
            }
        }
        tracker.retire(gone, at: time)
        return gone.count
    }
}

private let processStartBytes: [UInt8] = Array("process_start_time_seconds".utf8)
private let targetBytes: [UInt8] = Array("target".utf8)

/// Seconds since the epoch as served (`1712340000.25`) to nanoseconds, rounded to the microsecond
/// (a double near 1.7e9 carries no more than that).
func nanos(fromSeconds seconds: Double) -> UInt64 {
    guard seconds > 0, seconds < 1.8e10 else { return 0 }
    let whole = seconds.rounded(.down)
    let micros = ((seconds - whole) * 1e6).rounded()
    return UInt64(whole) * 1_000_000_000 + UInt64(micros) * 1000
}

extension UInt64 {
    /// A bucket or sample count served as a float (`1.208354e+06`), clamped into range.
    init(cumulativeCount value: Double) {
        if !(value > 0) {
            self = 0
        } else if value >= 1.8e19 {
            self = .max
        } else {
            self = UInt64(value.rounded())
        }
    }
}
