public import FluxtelConfig
public import OTLPJSON

/// The kube-state-metrics CustomResourceState rules of the configuration, compiled and indexed by kind.
public struct ResourceStateRules: Sendable {
    public struct Rule: Sendable {
        public var metric: CustomResourceStateMetric
        var objectLabels: [(name: String, path: LabelPath)]
        var labels: [(name: String, path: LabelPath)]
    }

    private var byKind: [String: [Rule]] = [:]

    public init(_ metrics: [CustomResourceStateMetric]) {
        for metric in metrics {
            let rule = Rule(
                metric: metric,
                objectLabels: metric.objectLabels.map { ($0.name, LabelPath($0.path)) },
                labels: metric.labels.map { ($0.name, LabelPath($0.path)) }
            )
            byKind[Self.key(group: metric.group, kind: metric.kind), default: []].append(rule)
        }
    }

    static func key(group: String, kind: String) -> String { kind + "." + group }

    /// The series the rules give one object of `group`/`kind`, served at `version`. kube-state-metrics adds
    /// `customresource_group`, `customresource_version` and `customresource_kind`; an object whose
    /// object labels all come out empty has no series; labels are sorted by name.
    public func series(of object: JSONValue, group: String, version: String, kind: String) -> [ResourceSeries] {
        guard let rules = byKind[Self.key(group: group, kind: kind)] else { return [] }
        var result: [ResourceSeries] = []
        for rule in rules {
            var labels: [ResourceSeries.Label] = []
            for (name, path) in rule.objectLabels {
                if let value = path.label(in: object), !value.isEmpty { labels.append(.init(name, value)) }
            }
            guard !labels.isEmpty else { continue }
            for (name, path) in rule.labels {
                if let value = path.label(in: object) { labels.append(.init(name, value)) }
            }
            labels.append(.init("customresource_group", group))
            labels.append(.init("customresource_kind", kind))
            labels.append(.init("customresource_version", version))
            result.append(ResourceSeries(name: rule.metric.name, labels: labels))
        }
        return result
    }

    /// The `help` text of a metric (kube-state-metrics: whichever kind's store is written first).
    public func help(of name: String) -> String {
        for rules in byKind.values {
            if let rule = rules.first(where: { $0.metric.name == name }) { return rule.metric.help }
        }
        return ""
    }
}

/// One series of a resource-state metric: its name and its labels, sorted by label name (a later label of
/// the same name wins, as in a Go map).
public struct ResourceSeries: Sendable, Hashable, Comparable {
    /// A label: its name is the pair's `key`.
    public typealias Label = KeyValuePair

    public var name: String
    public private(set) var labels: [Label]

    public init(name: String, labels: [Label]) {
        self.name = name
        var unique: [String: String] = [:]
        for label in labels { unique[label.key] = label.value }
        self.labels = unique.map { Label($0.key, $0.value) }.sorted { $0.key < $1.key }
    }

    public subscript(label: String) -> String? { labels.first { $0.key == label }?.value }

    public static func < (a: ResourceSeries, b: ResourceSeries) -> Bool {
        if a.name != b.name { return a.name < b.name }
        return a.labels.lexicographicallyPrecedes(b.labels) { ($0.key, $0.value) < ($1.key, $1.value) }
    }
}
