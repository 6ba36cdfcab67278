/// A Flux kind the agent can watch: its API group, kind and resource (plural), from FLUX-OBJECTS.md §1.
/// The version is not here: the agent asks the API server which version of each group it serves. The set
/// is closed: other modules take kinds from `all` (or `named`), they do not make them.
public struct FluxKind: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var kind: String
    public var resource: String

    public var description: String { "\(kind).\(group)" }

    /// Every kind of Flux 2.9 and source-watcher, in the order the kinds depend on each other (sources first).
    public static let all: [FluxKind] = [
        .init(group: "source.toolkit.fluxcd.io", kind: "GitRepository", resource: "gitrepositories"),
        .init(group: "source.toolkit.fluxcd.io", kind: "OCIRepository", resource: "ocirepositories"),
        .init(group: "source.toolkit.fluxcd.io", kind: "Bucket", resource: "buckets"),
        .init(group: "source.toolkit.fluxcd.io", kind: "HelmRepository", resource: "helmrepositories"),
        .init(group: "source.toolkit.fluxcd.io", kind: "HelmChart", resource: "helmcharts"),
        .init(group: "source.toolkit.fluxcd.io", kind: "ExternalArtifact", resource: "externalartifacts"),
        .init(group: "source.extensions.fluxcd.io", kind: "ArtifactGenerator", resource: "artifactgenerators"),
        .init(group: "kustomize.toolkit.fluxcd.io", kind: "Kustomization", resource: "kustomizations"),
        .init(group: "helm.toolkit.fluxcd.io", kind: "HelmRelease", resource: "helmreleases"),
        .init(group: "notification.toolkit.fluxcd.io", kind: "Alert", resource: "alerts"),
        .init(group: "notification.toolkit.fluxcd.io", kind: "Provider", resource: "providers"),
        .init(group: "notification.toolkit.fluxcd.io", kind: "Receiver", resource: "receivers"),
        .init(group: "image.toolkit.fluxcd.io", kind: "ImageRepository", resource: "imagerepositories"),
        .init(group: "image.toolkit.fluxcd.io", kind: "ImagePolicy", resource: "imagepolicies"),
        .init(group: "image.toolkit.fluxcd.io", kind: "ImageUpdateAutomation", resource: "imageupdateautomations"),
    ]

    /// The API groups of `all`, each once, in order.
    public static let groups: [String] = all.reduce(into: []) { groups, kind in
        if !groups.contains(kind.group) { groups.append(kind.group) }
    }

    /// The kind called `kind` in `group`, if Flux has one.
    public static func named(_ kind: String, group: String) -> FluxKind? {
        all.first { $0.kind == kind && $0.group == group }
    }

    /// The group of an `apiVersion` (`kustomize.toolkit.fluxcd.io/v1` → `kustomize.toolkit.fluxcd.io`,
    /// `v1` → ``).
    public static func group(ofAPIVersion apiVersion: String) -> Substring {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return apiVersion[..<slash]
    }

    /// True when `apiVersion` names a Flux API group.
    public static func isFlux(apiVersion: String) -> Bool {
        let group = Self.group(ofAPIVersion: apiVersion)
        return groups.contains { $0 == group }
    }
}
