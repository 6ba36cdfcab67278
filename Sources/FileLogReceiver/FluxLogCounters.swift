import OTLPWire
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Counters derived from lines Flux already writes, exported as cumulative OTLP sums on the resource of
/// the pod that wrote them (the same resource as its log records):
///
/// - `flux_helmrelease_drift_detected_total`: helm-controller's "detected changes in cluster state: …"
///   (HelmRelease drift detection, `atomic_release.go`), per HelmRelease;
/// - `flux_kustomization_apply_objects_total{action}`: per kustomize-controller "server-side apply
///   completed", the entries of its `output` map by action (`created`, `configured`, `unchanged`,
///   `deleted`, `skipped`), per Kustomization.
///
/// Both carry `flux.object.kind`, `flux.object.name`, `flux.object.namespace`. `count` runs on the log
/// hot path: a line whose message is neither costs two length checks; only matching lines allocate
/// (their series key). At most `maxSeries` series are kept; beyond that new series are not counted.
/// A series names its pod's resource by a number (`resourceID(_:)`): hashing the encoded resource's few
/// hundred bytes for every counted line cost 5 % of the log path's CPU (callgrind, filelog benchmark). The
/// last resource is remembered: a file's lines pass the same array, which compares by identity.
final class FluxLogCounters: Sendable {
    static let driftMetric = "flux_helmrelease_drift_detected_total"
    static let applyMetric = "flux_kustomization_apply_objects_total"
    static let scopeName = "fluxtel/filelog"
    static let maxSeries = 10_000
    static let actions = ["created", "configured", "unchanged", "deleted", "skipped"]

    struct Series: Hashable {
        /// The pod that wrote the line: an index into `State.resources` (`resourceID(_:)`).
        var resource: Int
        var metric: String
        var kind: String
        var name: String
        var namespace: String
        /// `action` for the apply counter; empty for drift.
        var action: String
    }

    private struct State {
        var values: [Series: (count: UInt64, start: UInt64)] = [:]
        /// Series in the order they appeared (stable export order).
        var order: [Series] = []
        /// Encoded `Resource`s (field 1 of `ResourceMetrics`) of the pods whose lines were counted, and
        /// their indices.
        var resources: [[UInt8]] = []
        var resourceIDs: [[UInt8]: Int] = [:]
        var last: (resource: [UInt8], id: Int)?
    }

    private let state = Mutex(State())

    init() {}

    /// The number of the metric resource `resource` (the same bytes, the same number).
    func resourceID(_ resource: [UInt8]) -> Int {
        state.withLock { state in
            if let last = state.last, last.resource == resource { return last.id }
            let id: Int
            if let known = state.resourceIDs[resource] {
                id = known
            } else {
                id = state.resources.count
                state.resources.append(resource)
                state.resourceIDs[resource] = id
            }
            state.last = (resource, id)
            return id
        }
    }

    /// Looks at one parsed line (`fields` after `finish`) of the file whose metric resource is `resource`.
    func count(_ fields: FluxObjectFields, _ p: UnsafePointer<UInt8>, resource: [UInt8], now: UInt64) {
        let message = fields.message
        guard message.count >= 27, fields.namesObject else { return }
        let m = p + message.start
        if message.count == 27, FluxObjectFields.matches(m, "server-side apply completed") {
            guard !fields.output.isEmpty else { return }
            var tally = [UInt64](repeating: 0, count: Self.actions.count)
            Self.tallyOutput(fields.output, p, into: &tally)
            let resource = resourceID(resource)
            for (index, action) in Self.actions.enumerated() where tally[index] > 0 {
                add(series(Self.applyMetric, fields, p, resource, action: action), tally[index], now: now)
            }
        } else if message.count >= 33, FluxObjectFields.matches(m, "detected changes in cluster state") {
            add(series(Self.driftMetric, fields, p, resourceID(resource), action: ""), 1, now: now)
        }
    }

    /// The current values as one OTLP metrics request (nil when nothing was counted yet).
    func encode(now: UInt64, version: String) -> (body: [UInt8], points: Int)? {
        let (snapshot, resourceBytes) = state.withLock { state in
            (state.order.map { ($0, state.values[$0]!) }, state.resources)
        }
        guard !snapshot.isEmpty else { return nil }
        var resources: [Int] = []
        var byResource: [Int: [(Series, (count: UInt64, start: UInt64))]] = [:]
        for entry in snapshot {
            if byResource[entry.0.resource] == nil { resources.append(entry.0.resource) }
            byResource[entry.0.resource, default: []].append(entry)
        }
        var w = ProtoWriter(reservingCapacity: 256 * snapshot.count)
        for resource in resources {
            let entries = byResource[resource] ?? []
            var metrics: [OTLP.Metric] = []
            for metric in [Self.driftMetric, Self.applyMetric] {
                let points = entries.filter { $0.0.metric == metric }.map { series, value in
                    var attributes = [
                        OTLP.KeyValue("flux.object.kind", series.kind), OTLP.KeyValue("flux.object.name", series.name),
                    ]
                    if !series.namespace.isEmpty {
                        attributes.append(OTLP.KeyValue("flux.object.namespace", series.namespace))
                    }
                    if !series.action.isEmpty { attributes.append(OTLP.KeyValue("action", series.action)) }
                    return OTLP.NumberDataPoint(
                        attributes: attributes, startTimeUnixNano: value.start, timeUnixNano: now,
                        value: .int(Int64(clamping: value.count)))
                }
                guard !points.isEmpty else { continue }
                metrics.append(
                    OTLP.Metric(
                        name: metric, description: Self.description(of: metric), unit: "{\(Self.unit(of: metric))}",
                        data: .sum(OTLP.Sum(dataPoints: points, aggregationTemporality: .cumulative, isMonotonic: true))
                    ))
            }
            let outer = w.beginMessage(1)  // ExportMetricsServiceRequest.resource_metrics
            w.writeRawBytes(resourceBytes[resource])
            w.message(
                2,
                OTLP.ScopeMetrics(
                    scope: OTLP.InstrumentationScope(name: Self.scopeName, version: version), metrics: metrics))
            w.endMessage(outer)
        }
        return (w.bytes, snapshot.count)
    }

    static func description(of metric: String) -> String {
        metric == driftMetric
            ? "HelmRelease drift detections (helm-controller's \"detected changes in cluster state\" log line)."
            : "Objects in Kustomization server-side applies by action (the output of kustomize-controller's \"server-side apply completed\" log line)."
    }

    static func unit(of metric: String) -> String { metric == driftMetric ? "detection" : "object" }

    // MARK: counting

    private func series(
        _ metric: String, _ fields: FluxObjectFields, _ p: UnsafePointer<UInt8>, _ resource: Int, action: String
    ) -> Series {
        func text(_ t: FluxObjectFields.Text) -> String {
            String(decoding: UnsafeBufferPointer(start: p + t.start, count: t.count), as: UTF8.self)
        }
        return Series(
            resource: resource, metric: metric, kind: text(fields.kind), name: text(fields.name),
            namespace: text(fields.namespace), action: action)
    }

    private func add(_ series: Series, _ amount: UInt64, now: UInt64) {
        state.withLock { state in
            if let value = state.values[series] {
                state.values[series] = (value.count &+ amount, value.start)
            } else if state.order.count < Self.maxSeries {
                state.values[series] = (amount, now)
                state.order.append(series)
            }
        }
    }

    /// Counts the string values of the `output` object by action.
    private static func tallyOutput(
        _ output: FluxObjectFields.Text, _ p: UnsafePointer<UInt8>, into tally: inout [UInt64]
    ) {
        var s = JSONScanner(p, count: output.start + output.count)
        s.i = output.start
        guard s.consume(UInt8(ascii: "{")), !s.consume(UInt8(ascii: "}")) else { return }
        repeat {
            guard s.scanString() != nil, s.consume(UInt8(ascii: ":")) else { return }
            s.skipWhitespace()
            guard s.peek == UInt8(ascii: "\"") else {
                guard s.skipValue() else { return }
                continue
            }
            guard let value = s.scanString() else { return }
            for (index, action) in actions.enumerated() where action.utf8.count == value.count {
                let matched = action.utf8.withContiguousStorageIfAvailable {
                    memcmp($0.baseAddress!, p + value.start, value.count) == 0
                }
                if matched == true { tally[index] += 1 }
            }
        } while s.consume(UInt8(ascii: ","))
    }
}
