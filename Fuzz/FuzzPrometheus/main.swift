// libFuzzer target: the Prometheus text 0.0.4 / OpenMetrics 1.0 parser on arbitrary bytes (both
// formats, every input), and the conversion to OTLP metrics of whatever it accepts. Besides
// "never crash", it checks what the scrape loop relies on:
//   - the converted `ResourceMetrics` is valid OTLP for the repo's own walker (wire types, UTF-8 of
//     every name, label and HELP text) and holds exactly `dataPoints` points, and the model decodes it;
//   - a second scrape of the same body adds no series and marks none stale; a failed scrape then marks
//     every tracked series stale and forgets it;
//   - the same holds with metric_relabel_configs, a family filter, target labels and honor_labels.
// Build and run: scripts/fuzz prometheus <seconds>.
import OTLPWire
import PrometheusReceiver

let target = TargetInfo(
    job: "fuzz", instance: "127.0.0.1:8080", scheme: "http", host: "127.0.0.1", port: 8080,
    labels: [("controller", "fuzz"), ("le", "x"), ("job", "ignored")])
let relabelOptions = ConversionRules(
    filter: MetricFilter(include: ["*_*", "a*"], exclude: ["*_created"]), honorLabels: true,
    relabel: [
        try! RelabelRule(action: .drop, sourceLabels: ["__name__"], regex: "drop_.*"),
        try! RelabelRule(action: .replace, sourceLabels: ["__name__", "le"], regex: "(g[a-z]*)_.*;(.*)", targetLabel: "kind",
                         replacement: "$1-$2"),
        try! RelabelRule(action: .labeldrop, regex: "l[a-z]"),
    ])

func check(_ converted: ConvertedScrape, _ what: String) {
    let items: Int
    do {
        items = try OTLPWalker.countItems(signal: .metrics, body: converted.bytes)
    } catch {
        fatalError("\(what): converted scrape is not valid OTLP: \(error)")
    }
    precondition(items == converted.dataPoints, "\(what): \(items) points on the wire, \(converted.dataPoints) reported")
    do {
        _ = try OTLP.ExportMetricsServiceRequest(decoding: converted.bytes)
    } catch {
        fatalError("\(what): the model does not decode the converted scrape: \(error)")
    }
}

func scrape(_ exposition: Exposition, rules: ConversionRules, _ what: String) {
    var tracker = SeriesTracker()
    let first = MetricsConverter.convert(
        exposition, target: target, rules: rules, tracker: &tracker, scrapeTimeNanos: 1_700_000_000_000_000_000,
        durationSeconds: 0.01)
    check(first, what + " first scrape")
    precondition(first.staleSeries == 0, "\(what): stale series on a first scrape")
    precondition(first.report.seriesAdded == tracker.trackedSeries, "\(what): series added != tracked")
    let second = MetricsConverter.convert(
        exposition, target: target, rules: rules, tracker: &tracker, scrapeTimeNanos: 1_700_000_030_000_000_000,
        durationSeconds: 0.01)
    check(second, what + " second scrape")
    precondition(second.staleSeries == 0 && second.report.seriesAdded == 0, "\(what): the same body changed the series")
    precondition(second.dataPoints == first.dataPoints, "\(what): the same body gave other points")
    let tracked = tracker.trackedSeries
    let failed = MetricsConverter.convert(
        nil, target: target, rules: rules, tracker: &tracker, scrapeTimeNanos: 1_700_000_060_000_000_000,
        durationSeconds: 0.01)
    check(failed, what + " failed scrape")
    precondition(failed.staleSeries == tracked && tracker.trackedSeries == 0, "\(what): staleness after a failed scrape")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrometheus(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    for format in [ExpositionFormat.prometheusText, .openMetrics] {
        let exposition: Exposition
        do {
            exposition = try ExpositionParser.parse(body, format: format)
        } catch {
            precondition(error.line >= 0 && error.line <= size + 1, "error line \(error.line) out of range")
            continue
        }
        precondition(exposition.samples.allSatisfy { Int($0.family) < exposition.families.count })
        scrape(exposition, rules: ConversionRules(), "\(format)")
        scrape(exposition, rules: relabelOptions, "\(format) relabeled")
    }
    return 0
}
