/// The correlation rules of issue 18 as a pure value (tested without sockets; `FluxCorrelation` shares it
/// between the Flux object source, the log tailer and the trace intake):
///
/// - **Trace id** of an object at a revision: notification-controller's, the first 16 bytes of
///   `sha256("<AlertUID>:<revision>")` (FLUX.md §1), for the `otel` Alert that exports the object's events.
///   An Alert exports spans when the Provider its `providerRef` names (in its namespace) has `type: otel`
///   and neither is suspended; it covers an object when one of its `eventSources` matches (NC's rule,
///   `FluxEventSource.matches`). `eventSeverity` is not considered: an error-only Alert still names the trace.
///   **Several otel Alerts match: the one whose `namespace/name` sorts first wins** (then uid), so every
///   agent and every restart picks the same one.
/// - **Span id** of an object at a revision: the first 8 bytes of `sha256("<objectUID>:<revision>")`, the
///   scheme of fluxcd/notification-controller#1172 (FLUX-OBJECTS.md §6).
/// - **Parent** of an object's span: its source (`FluxLinks.source`) at the span's trace revision, so the
///   parent is in the same trace: a Kustomization is a child of its GitRepository at the same commit, an
///   OCI-chart HelmRelease (`<appVersion>@<ociDigest>`) a child of its OCIRepository at that tag and digest.
///   HelmRepositories are never parents (notification-controller sends no spans for them and their revision
///   is an index digest, not a chart version); sources without a source are roots.
public struct FluxCorrelationState: Sendable {
    public private(set) var objects: [String: FluxCorrelatedObject] = [:]
    private var uids: [FluxObjectRef: String] = [:]
    /// The Alerts that export spans, in the order that decides between several (namespace, name, uid).
    public private(set) var tracingAlerts: [FluxCorrelatedObject] = []
    /// Reconcile durations from "Reconciliation finished in …" lines, by `<uid>:<revision>` (bounded).
    private var durations: [String: UInt64] = [:]
    private var durationOrder: [String] = []
    static let maxDurations = 4096
    /// The kinds whose reconcile durations were read (kustomize-controller's Kustomizations today): only their
    /// spans wait for one (`processors.hold`). source-controller and helm-controller v0.37+ log none.
    public private(set) var durationKinds: Set<String> = []

    public init() {}

    /// True when some Alert exports spans: otherwise no log line or span is touched.
    public var tracing: Bool { !tracingAlerts.isEmpty }

    public mutating func upsert(_ object: FluxCorrelatedObject) {
        if let old = objects[object.uid], old.ref != object.ref { uids[old.ref] = nil }
        objects[object.uid] = object
        uids[object.ref] = object.uid
        if object.ref.kind == "Alert" || object.ref.kind == "Provider" { recomputeAlerts() }
    }

    public mutating func delete(uid: String) {
        guard let old = objects.removeValue(forKey: uid) else { return }
        if uids[old.ref] == uid { uids[old.ref] = nil }
        if old.ref.kind == "Alert" || old.ref.kind == "Provider" { recomputeAlerts() }
    }

    public func object(_ ref: FluxObjectRef) -> FluxCorrelatedObject? { uids[ref].flatMap { objects[$0] } }

    /// The revision a log line about `object` belongs to when the line names none: its last attempted
    /// revision; for a HelmRelease its current release as notification-controller names it
    /// (`<appVersion>@<ociDigest>` for OCI charts), else the last attempted chart version.
    public static func lineRevision(of object: FluxCorrelatedObject) -> String? {
        if object.ref.kind == "HelmRelease" { return object.revision ?? object.lastAttemptedRevision }
        return object.lastAttemptedRevision ?? object.revision
    }

    /// The otel Alert whose trace the object's events go to (the first match in `tracingAlerts`).
    public func alert(for object: FluxCorrelatedObject) -> FluxCorrelatedObject? {
        tracingAlerts.first { alert in
            alert.links.eventSources.contains { $0.matches(object.ref, labels: object.links.labels) }
        }
    }

    /// The trace id of a line about `ref`: `revision` (named in the line) or else `lineRevision(of:)`.
    public func traceID(for ref: FluxObjectRef, revision: String?) -> [UInt8]? {
        guard tracing, let object = object(ref), let alert = alert(for: object),
            let revision = revision ?? Self.lineRevision(of: object), !revision.isEmpty
        else { return nil }
        return Self.traceID(alertUID: alert.uid, revision: revision)
    }

    /// The span's parent: the object's source at `traceRevision`, when the store knows both.
    public func parent(ofUID uid: String, traceRevision: String) -> (object: FluxCorrelatedObject, spanID: [UInt8])? {
        guard let child = objects[uid], let ref = child.links.source, ref.kind != "HelmRepository",
            let source = object(ref), source.uid != uid
        else { return nil }
        return (source, Self.spanID(uid: source.uid, revision: traceRevision))
    }

    /// Remembers that `ref` took `nanos` to reconcile `revision` (nil: its `lineRevision`). False when the
    /// object is unknown (nothing recorded).
    @discardableResult
    public mutating func recordDuration(_ ref: FluxObjectRef, revision: String?, nanos: UInt64) -> Bool {
        guard let object = object(ref), let revision = revision ?? Self.lineRevision(of: object) else { return false }
        let key = "\(object.uid):\(revision)"
        if durations.updateValue(nanos, forKey: key) == nil {
            durationOrder.append(key)
            if durationOrder.count > Self.maxDurations { durations[durationOrder.removeFirst()] = nil }
        }
        durationKinds.insert(object.ref.kind)
        return true
    }

    /// The reconcile duration of the object `uid` at `revision`, when its log line was seen.
    public func duration(uid: String, revision: String) -> UInt64? { durations["\(uid):\(revision)"] }

    /// `sha256("<alertUID>:<revision>")[0..<16]`.
    public static func traceID(alertUID: String, revision: String) -> [UInt8] {
        Array(SHA256.hash(Array("\(alertUID):\(revision)".utf8)).prefix(16))
    }

    /// `sha256("<objectUID>:<revision>")[0..<8]`.
    public static func spanID(uid: String, revision: String) -> [UInt8] {
        Array(SHA256.hash(Array("\(uid):\(revision)".utf8)).prefix(8))
    }

    private mutating func recomputeAlerts() {
        tracingAlerts = objects.values.filter { alert in
            guard alert.ref.kind == "Alert", !alert.links.suspended, let providerName = alert.links.providerName,
                let provider = object(
                    FluxObjectRef(kind: "Provider", namespace: alert.ref.namespace, name: providerName))
            else { return false }
            return provider.links.providerType == "otel" && !provider.links.suspended
        }.sorted { ($0.ref.namespace, $0.ref.name, $0.uid) < ($1.ref.namespace, $1.ref.name, $1.uid) }
    }
}
