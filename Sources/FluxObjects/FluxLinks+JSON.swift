public import OTLPJSON
public import Processors

extension FluxLinks {
    /// Reads what correlation needs from an object of `kind` (FLUX-OBJECTS.md §1, §6): `spec.chartRef` /
    /// `spec.sourceRef` / the chart template's HelmChart, the `kustomize.toolkit.fluxcd.io/*` owner labels,
    /// and an Alert's `eventSources`/`providerRef` or a Provider's `type`.
    public init(_ object: JSONValue, kind: String, namespace: String, name: String) {
        self.init()
        let spec = object["spec"]
        labels = object["metadata"]?["labels"]?.stringMap ?? [:]
        if let owner = labels["kustomize.toolkit.fluxcd.io/name"] {
            kustomization = FluxObjectRef(
                kind: "Kustomization", namespace: labels["kustomize.toolkit.fluxcd.io/namespace"] ?? namespace,
                name: owner)
        }
        if let ref = Self.reference(spec?["chartRef"], namespace: namespace)
            ?? Self.reference(spec?["sourceRef"], namespace: namespace)
        {
            source = ref
        } else if kind == "HelmRelease",
            let chartSource = Self.reference(
                spec?["chart"]?["spec"]?["sourceRef"], namespace: namespace)
        {
            // helm-controller's HelmChart for a chart template: `<hrNamespace>-<hrName>` next to its source.
            source = FluxObjectRef(kind: "HelmChart", namespace: chartSource.namespace, name: "\(namespace)-\(name)")
        }
        suspended = spec?["suspend"]?.bool ?? false
        switch kind {
        case "Alert":
            providerName = spec?["providerRef"]?["name"]?.string
            eventSources = (spec?["eventSources"]?.array ?? []).compactMap { entry in
                Self.reference(entry, namespace: namespace).map {
                    FluxEventSource(ref: $0, matchLabels: entry["matchLabels"]?.stringMap ?? [:])
                }
            }
        case "Provider":
            providerType = spec?["type"]?.string
        default:
            break
        }
    }

    /// A `{kind, name, namespace?}` reference, its namespace defaulted to the object's.
    static func reference(_ value: JSONValue?, namespace: String) -> FluxObjectRef? {
        guard let kind = value?["kind"]?.string, let name = value?["name"]?.string else { return nil }
        let refNamespace = value?["namespace"]?.string ?? ""
        return FluxObjectRef(kind: kind, namespace: refNamespace.isEmpty ? namespace : refNamespace, name: name)
    }
}
