public import FluxtelConfig

/// The Flux objects the watch has seen, by uid, and the series that ended since the last write
/// (a deleted object, or a label that changed: each old series gets one staleness marker, never a 0).
///
/// A pure value: the watch applies list results and events to it, the writer takes a snapshot every
/// `interval`.
public struct FluxObjectStore: Sendable {
    public private(set) var objects: [String: FluxObject] = [:]
    private var ended: Set<ResourceSeries> = []

    public init() {}

    public var count: Int { objects.count }

    /// ADDED or MODIFIED.
    public mutating func upsert(_ object: FluxObject) {
        if let old = objects[object.identity.uid] { end(old.allSeries, keeping: object.allSeries) }
        objects[object.identity.uid] = object
    }

    /// DELETED (or gone from a re-list).
    public mutating func delete(uid: String) {
        guard let old = objects.removeValue(forKey: uid) else { return }
        end(old.allSeries, keeping: [])
    }

    /// The result of a (re-)list of one kind (in one namespace; empty: all): objects of that kind the list
    /// no longer has were deleted while the watch was away. Returns the uids of those.
    @discardableResult
    public mutating func replace(kind: FluxKind, namespace: String = "", with listed: [FluxObject]) -> [String] {
        let present = Set(listed.map(\.identity.uid))
        let gone = objects.values.filter {
            $0.identity.kind == kind.kind && $0.identity.group == kind.group
                && (namespace.isEmpty || $0.identity.namespace == namespace) && !present.contains($0.identity.uid)
        }
        for object in gone { delete(uid: object.identity.uid) }
        for object in listed { upsert(object) }
        return gone.map(\.identity.uid)
    }

    /// The objects in a stable order, and the series that ended since the last call (minus any that are live
    /// again), sorted.
    public mutating func snapshot() -> (objects: [FluxObject], ended: [ResourceSeries]) {
        let live = objects.values.sorted {
            ($0.identity.kind, $0.identity.namespace, $0.identity.name) < (
                $1.identity.kind, $1.identity.namespace, $1.identity.name
            )
        }
        var liveSeries: Set<ResourceSeries> = []
        for object in live { liveSeries.formUnion(object.allSeries) }
        let ended = self.ended.subtracting(liveSeries).sorted()
        self.ended = []
        return (live, ended)
    }

    private mutating func end(_ old: [ResourceSeries], keeping new: [ResourceSeries]) {
        for series in old where !new.contains(series) { ended.insert(series) }
    }
}

extension FluxObject {
    /// `flux_resource_ready_transition_age_seconds`: seconds since `Ready` last changed.
    public static let readyAgeMetric = "flux_resource_ready_transition_age_seconds"
    /// `flux_resource_revision_pending`: 1 while the last attempted revision is not the last applied one.
    public static let revisionPendingMetric = "flux_resource_revision_pending"

    /// The series of the metrics kube-state-metrics has no rule for: the object's identity, plus the labels
    /// that join them with `gotk_resource_info` (`customresource_kind`, `exported_namespace`, `name`).
    public var extraSeries: [ResourceSeries] {
        var labels: [ResourceSeries.Label] = identity.attributes(revision: revision).map { .init($0.key, $0.value) }
        labels.append(.init("customresource_kind", identity.kind))
        labels.append(.init("exported_namespace", identity.namespace))
        labels.append(.init("name", identity.name))
        var result: [ResourceSeries] = []
        if readyTransitionTime != nil, let ready {
            result.append(ResourceSeries(name: Self.readyAgeMetric, labels: labels + [.init("ready", ready)]))
        }
        if revisionPending != nil { result.append(ResourceSeries(name: Self.revisionPendingMetric, labels: labels)) }
        return result
    }

    public var allSeries: [ResourceSeries] { series + extraSeries }
}
