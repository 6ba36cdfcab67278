import FluxObjects
import Foundation
import OTLPJSON
import Testing

@testable import FluxtelConfig

/// `gotk_resource_info` equals, label for label, what kube-state-metrics produces with Flux's documented
/// CustomResourceState configuration: the expected series are derived here from that configuration file
/// (`kube-state-metrics-config.yaml`, verbatim from flux2-monitoring-example) and the fixture objects.
struct KubeStateMetricsParityTests {
    /// One `resources[]` entry of the configuration, read by this test from the YAML file.
    struct ConfigRule: Hashable {
        var group, version, kind, name, help: String
        var objectLabels: [String: [String]]
        var labels: [String: [String]]
    }

    static func configRules() throws -> [ConfigRule] {
        let text = try String(
            contentsOf: FluxFixtures.root.appendingPathComponent("kube-state-metrics-config.yaml"), encoding: .utf8)
        let root = try #require(try YAMLParser().parse(text, fileName: "kube-state-metrics-config.yaml"))
        let resources = try #require(
            root["kube-state-metrics"]?["customResourceState"]?["config"]?["spec"]?["resources"]?.items)
        var rules: [ConfigRule] = []
        for resource in resources {
            let gvk = try #require(resource["groupVersionKind"])
            let prefix = resource["metricNamePrefix"]?.text ?? ""
            let group = try #require(gvk["group"]?.text)
            let version = try #require(gvk["version"]?.text)
            let kind = try #require(gvk["kind"]?.text)
            for metric in resource["metrics"]?.items ?? [] {
                let name = metric["name"]?.text ?? ""
                let objectLabels = metric["each"]?["info"]?["labelsFromPath"]?.paths ?? [:]
                let labels = metric["labelsFromPath"]?.paths ?? [:]
                rules.append(
                    ConfigRule(
                        group: group, version: version, kind: kind, name: prefix + "_" + name,
                        help: metric["help"]?.text ?? "", objectLabels: objectLabels, labels: labels))
            }
        }
        return rules
    }

    /// kube-state-metrics' path walk (v2.20 `compilePath`): map key, list index, `[field=value]`.
    static func value(_ object: JSONValue, _ path: [String]) -> JSONValue? {
        var current: JSONValue? = object
        for step in path {
            guard let node = current else { return nil }
            if step.hasPrefix("["), step.hasSuffix("]") {
                let pair = step.dropFirst().dropLast().split(separator: "=", maxSplits: 1).map(String.init)
                current = node.array?.first { $0[pair[0]]?.string == pair[1] }
            } else if let members = node.object {
                current = members[step]
            } else if let items = node.array, let index = Int(step) {
                current = items.indices.contains(index) ? items[index] : nil
            } else {
                return nil
            }
        }
        return current
    }

    static func formatted(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s): return s
        case .bool(let b): return "\(b)"
        case .number(let n): return n == n.rounded() ? "\(Int(n))" : "\(n)"
        default: return nil
        }
    }

    /// The series kube-state-metrics writes for the fixture lists under `rules`.
    static func expectedSeries(_ rules: [ConfigRule]) throws -> Set<String> {
        var lines: Set<String> = []
        for list in try FluxFixtures.lists() {
            for rule in rules where rule.group == list.kind.group && rule.kind == list.kind.kind {
                for object in list.items {
                    var labels: [String: String] = [:]
                    for (name, path) in rule.objectLabels {
                        if let v = formatted(value(object, path)), !v.isEmpty { labels[name] = v }
                    }
                    if labels.isEmpty { continue }
                    for (name, path) in rule.labels { if let v = formatted(value(object, path)) { labels[name] = v } }
                    labels["customresource_group"] = rule.group
                    labels["customresource_version"] = rule.version
                    labels["customresource_kind"] = rule.kind
                    let series = ResourceSeries(name: rule.name, labels: labels.map { .init($0.key, $0.value) })
                    lines.insert(series.exposition)
                }
            }
        }
        return lines
    }

    static func fluxtelSeries() throws -> Set<String> {
        Set(try FluxFixtures.objects().flatMap(\.series).map(\.exposition))
    }

    @Test func theEmbeddedRulesAreFluxsDocumentedConfiguration() throws {
        let fromFile = try Self.configRules()
        let embedded = CustomResourceStateMetric.flux.map { metric in
            ConfigRule(
                group: metric.group, version: metric.version, kind: metric.kind, name: metric.name, help: metric.help,
                objectLabels: Dictionary(uniqueKeysWithValues: metric.objectLabels.map { ($0.name, $0.path) }),
                labels: Dictionary(uniqueKeysWithValues: metric.labels.map { ($0.name, $0.path) })
            )
        }
        #expect(fromFile.count == 13)
        #expect(embedded == fromFile)
    }

    @Test func gotkResourceInfoMatchesKubeStateMetricsLabelForLabel() throws {
        let expected = try Self.expectedSeries(try Self.configRules())
        let actual = try Self.fluxtelSeries()
        #expect(expected.count == 30)
        #expect(actual.subtracting(expected).sorted() == [])
        #expect(expected.subtracting(actual).sorted() == [])
    }

    /// The fixture author's own re-implementation of kube-state-metrics (`expected/gotk_resource_info.prom`)
    /// agrees too.
    @Test func gotkResourceInfoMatchesTheRecordedExposition() throws {
        let text = try String(
            contentsOf: FluxFixtures.root.appendingPathComponent("expected/gotk_resource_info.prom"), encoding: .utf8)
        let recorded = Set(
            text.split(separator: "\n").filter { $0.hasPrefix("gotk_resource_info{") }.map { line in
                String(line[..<(line.range(of: "} ")?.upperBound ?? line.endIndex)].dropLast())
            })
        #expect(recorded.count == 30)
        #expect(try Self.fluxtelSeries() == recorded)
    }

    @Test func readyAndSuspendedFollowKubeStateMetricsAbsenceRules() throws {
        let series = try FluxFixtures.objects().flatMap(\.series)
        func find(_ kind: String, _ name: String) throws -> ResourceSeries {
            try #require(series.first { $0["customresource_kind"] == kind && $0["name"] == name })
        }
        // No status conditions (an OCI HelmRepository), no status at all (Alert): no `ready` label.
        #expect(try find("HelmRepository", "prometheus-community")["ready"] == nil)
        #expect(try find("Alert", "otel-tempo")["ready"] == nil)
        // `suspend: true` → "true"; never suspended → no label.
        #expect(try find("Kustomization", "legacy-apps")["suspended"] == "true")
        #expect(try find("Kustomization", "apps")["suspended"] == nil)
        #expect(try find("Kustomization", "monitoring-controllers")["ready"] == "Unknown")
    }

    @Test(arguments: [
        (1.0, "1"), (30, "30"), (-2, "-2"), (100_000, "100000"), (1_000_000, "1e+06"), (1_500_000, "1.5e+06"),
        (1.5, "1.5"),
        // FuzzKubernetes finding: integral values past Int64 trapped (`"namespace": 1e20` in a list item).
        (1e20, "1e+20"), (123_456_789_012_345_683_968, "1.2345678901234568e+20"), (-1e300, "-1e+300"),
        (9.5e18, "9.5e+18"),
    ])
    func numbersAreFormattedLikeGo(number: Double, text: String) {
        #expect(LabelPath(["x"]).label(in: .object(["x": .number(number)])) == text)
    }
}

extension YAMLNode {
    subscript(key: String) -> YAMLNode? {
        guard case .mapping(let entries) = content else { return nil }
        return entries.first { $0.key.scalar?.value == key }?.value
    }

    var items: [YAMLNode]? {
        guard case .sequence(let items) = content else { return nil }
        return items
    }

    var text: String? { scalar?.value }

    /// A `labelsFromPath` mapping: label name → path steps.
    var paths: [String: [String]] {
        guard case .mapping(let entries) = content else { return [:] }
        var result: [String: [String]] = [:]
        for entry in entries {
            if let name = entry.key.text { result[name] = entry.value.items?.compactMap(\.text) ?? [] }
        }
        return result
    }
}
