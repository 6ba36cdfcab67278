import OTLPWire

/// Writes a snapshot of the store as one OTLP metrics request: `gotk_resource_info` (value 1) per live
/// series, one point with the no-recorded-value flag (a staleness marker) per ended series, and the
/// two metrics kube-state-metrics has no rule for.
public struct ResourceStateEncoder: Sendable {
    public static let scopeName = "fluxtel/flux_objects"
    let rules: ResourceStateRules
    let version: String

    public init(rules: ResourceStateRules, version: String) {
        self.rules = rules
        self.version = version
    }

    /// The request body and the number of points in it.
    public func encode(
        objects: [FluxObject], ended: [ResourceSeries], now: UInt64
    ) -> (
        body: [UInt8], points: Int
    ) {
        var points: [String: [OTLP.NumberDataPoint]] = [:]
        var order: [String] = []
        func add(_ series: ResourceSeries, _ value: OTLP.NumberValue?) {
            if points[series.name] == nil { order.append(series.name) }
            points[series.name, default: []].append(
                OTLP.NumberDataPoint(
                    attributes: series.labels.map { OTLP.KeyValue($0.key, $0.value) }, timeUnixNano: now,
                    value: value, flags: value == nil ? OTLP.DataPointFlags.noRecordedValue : 0
                )
            )
        }
        for object in objects {
            for series in object.series { add(series, .int(1)) }
            for series in object.extraSeries {
                switch series.name {
                case FluxObject.readyAgeMetric:
                    let since = object.readyTransitionTime ?? now
                    add(series, .double(now > since ? Double(now - since) / 1e9 : 0))
                case FluxObject.revisionPendingMetric:
                    add(series, .int(object.revisionPending == true ? 1 : 0))
                default:
                    continue
                }
            }
        }
        for series in ended { add(series, nil) }
        var count = 0
        let metrics = order.map { name in
            let data = points[name] ?? []
            count += data.count
            return OTLP.Metric(
                name: name, description: description(of: name), unit: name == FluxObject.readyAgeMetric ? "s" : "",
                data: .gauge(OTLP.Gauge(dataPoints: data))
            )
        }
        let request = OTLP.ExportMetricsServiceRequest(resourceMetrics: [
            OTLP.ResourceMetrics(scopeMetrics: [
                OTLP.ScopeMetrics(
                    scope: OTLP.InstrumentationScope(name: Self.scopeName, version: version), metrics: metrics)
            ])
        ])
        return (request.serializedBytes(), count)
    }

    func description(of name: String) -> String {
        switch name {
        case FluxObject.readyAgeMetric: return "Seconds since the Ready condition of a Flux object last changed."
        case FluxObject.revisionPendingMetric:
            return "1 while a Flux object's last attempted revision is not its last applied revision."
        default: return rules.help(of: name)
        }
    }
}
