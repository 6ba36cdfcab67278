public import FluxtelConfig

/// The compiled form of a `receivers.prometheus` section's conversion keys (`include_metrics`,
/// `exclude_metrics`, `honor_labels`, `metric_relabel_configs`): built once, used by every scrape.
public struct ConversionRules: Sendable {
    /// Family-name filter (decided once per family name and cached).
    public var filter: MetricFilter
    /// On a clash between a scraped label and a target label: true keeps the scraped one, false renames
    /// it to `exported_<name>` (Prometheus semantics).
    public var honorLabels: Bool
    /// `metric_relabel_configs`, applied to each series after the family filter.
    public var relabel: [RelabelRule]

    public init(filter: MetricFilter = MetricFilter(), honorLabels: Bool = false, relabel: [RelabelRule] = []) {
        self.filter = filter
        self.honorLabels = honorLabels
        self.relabel = relabel
    }

    /// Compiles the section (the loader validated it; a regex that still fails throws).
    public init(_ configuration: PrometheusReceiverConfiguration) throws {
        self.init(
            filter: MetricFilter(include: configuration.includeMetrics, exclude: configuration.excludeMetrics),
            honorLabels: configuration.honorLabels,
            relabel: try configuration.metricRelabelConfigs.map { rule in
                try RelabelRule(
                    action: RelabelRule.Action(rawValue: rule.action.rawValue) ?? .replace,
                    sourceLabels: rule.sourceLabels, separator: rule.separator, regex: rule.regex,
                    targetLabel: rule.targetLabel, replacement: rule.replacement)
            })
    }
}
