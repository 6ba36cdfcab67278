/// A Flux object named by kind, namespace and name (how log lines, `sourceRef`s and Alert `eventSources`
/// name objects; the uid is what spans carry).
public struct FluxObjectRef: Sendable, Hashable {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }
}

/// One `spec.eventSources[]` entry of an Alert.
public struct FluxEventSource: Sendable, Equatable {
    /// The objects it covers: `name` is `*` or an exact name; `namespace` is already defaulted to the Alert's.
    public var ref: FluxObjectRef
    public var matchLabels: [String: String]

    public init(ref: FluxObjectRef, matchLabels: [String: String] = [:]) {
        self.ref = ref
        self.matchLabels = matchLabels
    }

    /// notification-controller's match (`internal/server/event_handlers.go`): same kind, exact namespace,
    /// `*` or exact name, and every `matchLabels` entry on the object.
    public func matches(_ object: FluxObjectRef, labels: [String: String]) -> Bool {
        guard ref.kind == object.kind, ref.namespace == object.namespace, ref.name == "*" || ref.name == object.name
        else { return false }
        return matchLabels.allSatisfy { labels[$0.key] == $0.value }
    }
}

/// What correlation needs of one Flux object beyond its identity and revisions (FLUX-OBJECTS.md §6): its
/// parent source, its owning Kustomization, and for Alerts and Providers what decides whether
/// notification-controller exports spans for it.
public struct FluxLinks: Sendable, Equatable {
    /// The object's source: `spec.chartRef`, else `spec.sourceRef`, else (HelmRelease with a chart template)
    /// the HelmChart helm-controller creates for it, `<namespace>-<name>` in the chart source's namespace.
    /// Namespaces are defaulted to the object's.
    public var source: FluxObjectRef?
    /// The owning Kustomization (`kustomize.toolkit.fluxcd.io/name|namespace` labels).
    public var kustomization: FluxObjectRef?
    /// The object's labels, kept only when it has some (Alert `matchLabels`).
    public var labels: [String: String]
    /// Alert: `spec.eventSources`, `spec.providerRef.name`.
    public var eventSources: [FluxEventSource]
    public var providerName: String?
    /// Provider: `spec.type`.
    public var providerType: String?
    /// `spec.suspend: true` (a suspended Alert or Provider sends nothing).
    public var suspended: Bool

    public init(
        source: FluxObjectRef? = nil, kustomization: FluxObjectRef? = nil, labels: [String: String] = [:],
        eventSources: [FluxEventSource] = [], providerName: String? = nil, providerType: String? = nil,
        suspended: Bool = false
    ) {
        self.source = source
        self.kustomization = kustomization
        self.labels = labels
        self.eventSources = eventSources
        self.providerName = providerName
        self.providerType = providerType
        self.suspended = suspended
    }
}

/// One Flux object as correlation sees it.
public struct FluxCorrelatedObject: Sendable, Equatable {
    public var uid: String
    public var ref: FluxObjectRef
    /// `status.lastAttemptedRevision` (Kustomization, HelmRelease).
    public var lastAttemptedRevision: String?
    /// The object's current revision as notification-controller would compute it (a source's artifact
    /// revision, a Kustomization's last applied one, a HelmRelease's `<appVersion>@<ociDigest>` or chart version).
    public var revision: String?
    public var links: FluxLinks

    public init(
        uid: String, ref: FluxObjectRef, lastAttemptedRevision: String? = nil, revision: String? = nil,
        links: FluxLinks = FluxLinks()
    ) {
        self.uid = uid
        self.ref = ref
        self.lastAttemptedRevision = lastAttemptedRevision
        self.revision = revision
        self.links = links
    }
}
