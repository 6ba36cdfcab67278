public import FluxtelConfig
public import OTLPJSON
import OTLPWire
public import Processors

/// What the agent keeps of one Flux object: only the fields its signals need, not the object.
public struct FluxObject: Sendable, Equatable {
    public var identity: FluxObjectIdentity
    /// The API version the server served it at (`v1`, `v2`, `v1beta3`).
    public var version: String
    public var resourceVersion: String
    /// The resource-state series of the configured rules (`gotk_resource_info`).
    public var series: [ResourceSeries]
    /// `status` of the `Ready` condition (`True`, `False`, `Unknown`); nil without one.
    public var ready: String?
    /// `lastTransitionTime` of the `Ready` condition, nanoseconds since the epoch.
    public var readyTransitionTime: UInt64?
    /// The revision the object last tried, and the one it last applied (Kustomization, HelmRelease).
    public var lastAttemptedRevision: String?
    public var lastAppliedRevision: String?
    /// The object's current revision (FLUX-OBJECTS.md §6): a source's artifact revision, a Kustomization's
    /// last applied revision, a HelmRelease's `history[0]` (`<appVersion>@<ociDigest>` for OCI charts).
    public var revision: String?
    /// Source, owner, Alert and Provider fields for correlation (issue 18).
    public var links: FluxLinks

    public init(
        identity: FluxObjectIdentity, version: String, resourceVersion: String = "", series: [ResourceSeries] = [],
        ready: String? = nil, readyTransitionTime: UInt64? = nil, lastAttemptedRevision: String? = nil,
        lastAppliedRevision: String? = nil, revision: String? = nil, links: FluxLinks = FluxLinks()
    ) {
        self.identity = identity
        self.version = version
        self.resourceVersion = resourceVersion
        self.series = series
        self.ready = ready
        self.readyTransitionTime = readyTransitionTime
        self.lastAttemptedRevision = lastAttemptedRevision
        self.lastAppliedRevision = lastAppliedRevision
        self.revision = revision
        self.links = links
    }

    /// Reads an object of `kind` served at `version`; nil when it has no name or uid (not an object), or
    /// says it is of another kind (a `Status`, an object the collection should not hold).
    public init?(_ object: JSONValue, kind: FluxKind, version: String, rules: ResourceStateRules) {
        let metadata = object["metadata"]
        guard let name = metadata?["name"]?.string, !name.isEmpty, let uid = metadata?["uid"]?.string,
            object["kind"].map({ $0.string == kind.kind }) ?? true
        else { return nil }
        identity = FluxObjectIdentity(
            group: kind.group,
            ref: FluxObjectRef(kind: kind.kind, namespace: metadata?["namespace"]?.string ?? "", name: name), uid: uid)
        self.version = version
        resourceVersion = metadata?["resourceVersion"]?.string ?? ""
        series = rules.series(of: object, group: kind.group, version: version, kind: kind.kind)
        let status = object["status"]
        let readyCondition = status?["conditions"]?.array?.first { $0["type"]?.string == "Ready" }
        ready = readyCondition?["status"]?.string
        readyTransitionTime = readyCondition?["lastTransitionTime"]?.string.flatMap { Timestamp.parseISO8601($0) }
        lastAttemptedRevision = status?["lastAttemptedRevision"]?.string
        links = FluxLinks(object, kind: kind.kind, namespace: metadata?["namespace"]?.string ?? "", name: name)
        let latest = status?["history"]?.array?.first
        switch kind.kind {
        case "Kustomization":
            lastAppliedRevision = status?["lastAppliedRevision"]?.string
            revision = lastAppliedRevision
        case "HelmRelease":
            lastAppliedRevision = latest?["chartVersion"]?.string
            if let app = latest?["appVersion"]?.string, let digest = latest?["ociDigest"]?.string {
                revision = app + "@" + digest
            } else {
                revision = lastAppliedRevision
            }
        default:
            lastAppliedRevision = nil
            revision = status?["artifact"]?["revision"]?.string
        }
    }

    /// True when the last attempted revision is not the last applied one (a Kustomization or HelmRelease
    /// stuck on a revision it could not apply); nil for kinds that have no such pair.
    public var revisionPending: Bool? {
        guard let attempted = lastAttemptedRevision, !attempted.isEmpty else { return nil }
        return attempted != lastAppliedRevision
    }

    /// The object as `FluxCorrelation` keeps it.
    public var correlated: FluxCorrelatedObject {
        FluxCorrelatedObject(
            uid: identity.uid, ref: identity.ref, lastAttemptedRevision: lastAttemptedRevision, revision: revision,
            links: links)
    }
}
