import FluxObjects
import FluxtelConfig
import OTLPJSON
import OTLPWire
import Testing

/// The store follows list + watch: a MODIFIED that flips `Ready` changes the next point, a DELETED object's
/// series get a staleness marker (never a 0), a re-list that misses an object deletes it.
struct FluxObjectStoreTests {
    static let kustomization = FluxKind.all.first { $0.kind == "Kustomization" }!

    static func listedKustomizations() throws -> FluxObjectStore {
        var store = FluxObjectStore()
        let items = try FluxFixtures.json("list/kustomizations.json")["items"]?.array ?? []
        store.replace(
            kind: kustomization,
            with: items.compactMap { FluxObject($0, kind: kustomization, version: "v1", rules: FluxFixtures.rules) })
        return store
    }

    /// Applies a watch body's ADDED/MODIFIED/DELETED lines (BOOKMARK and ERROR carry no object change).
    static func apply(_ path: String, to store: inout FluxObjectStore) throws {
        for event in try FluxFixtures.watchEvents(path) {
            guard let object = event["object"],
                let parsed = FluxObject(object, kind: kustomization, version: "v1", rules: FluxFixtures.rules)
            else { continue }
            switch event["type"]?.string {
            case "ADDED", "MODIFIED": store.upsert(parsed)
            case "DELETED": store.delete(uid: parsed.identity.uid)
            default: break
            }
        }
    }

    static func info(_ objects: [FluxObject], _ name: String) -> ResourceSeries? {
        objects.first { $0.identity.name == name }?.series.first
    }

    @Test func watchEventsChangeTheNextSnapshot() throws {
        var store = try Self.listedKustomizations()
        let before = store.snapshot()
        #expect(before.objects.count == 8)
        #expect(before.ended.isEmpty)
        #expect(Self.info(before.objects, "monitoring-controllers")?["ready"] == "Unknown")

        try Self.apply("watch/kustomizations.ndjson", to: &store)
        let after = store.snapshot()
        // monitoring-controllers became Ready; legacy-apps was pruned; notifications was added.
        #expect(Self.info(after.objects, "monitoring-controllers")?["ready"] == "True")
        #expect(after.objects.contains { $0.identity.name == "notifications" })
        #expect(!after.objects.contains { $0.identity.name == "legacy-apps" })
        let endedInfo = after.ended.filter { $0.name == "gotk_resource_info" }
        #expect(endedInfo.contains { $0["name"] == "legacy-apps" })
        #expect(endedInfo.contains { $0["name"] == "monitoring-controllers" && $0["ready"] == "Unknown" })
        // A series that is live again is not marked stale.
        let live = Set(after.objects.flatMap(\.allSeries))
        #expect(after.ended.allSatisfy { !live.contains($0) })
        // Markers are sent once.
        #expect(store.snapshot().ended.isEmpty)
    }

    @Test func endedSeriesAreStalenessMarkersNotZeros() throws {
        var store = try Self.listedKustomizations()
        _ = store.snapshot()
        try Self.apply("watch/kustomizations.ndjson", to: &store)
        let snapshot = store.snapshot()
        let encoder = ResourceStateEncoder(rules: FluxFixtures.rules, version: "test")
        let now: UInt64 = 1_786_527_000_000_000_000
        let (body, points) = encoder.encode(objects: snapshot.objects, ended: snapshot.ended, now: now)
        let request = try OTLP.ExportMetricsServiceRequest(decoding: body)
        let metrics = request.resourceMetrics.flatMap(\.scopeMetrics).flatMap(\.metrics)
        let info = try #require(metrics.first { $0.name == "gotk_resource_info" })
        guard case .gauge(let gauge) = info.data else {
            Issue.record("gotk_resource_info is not a gauge")
            return
        }
        let legacy = gauge.dataPoints.filter { point in
            point.attributes.contains { $0.key == "name" && $0.value == .string("legacy-apps") }
        }
        #expect(legacy.count == 1)
        #expect(legacy.first?.flags == OTLP.DataPointFlags.noRecordedValue)
        #expect(legacy.first?.value == nil)
        let live = gauge.dataPoints.filter { $0.flags == 0 }
        #expect(live.count == snapshot.objects.count)
        #expect(live.allSatisfy { $0.value == .int(1) && $0.timeUnixNano == now })
        #expect(points == metrics.reduce(0) { $0 + (Self.pointCount($1)) })
    }

    static func pointCount(_ metric: OTLP.Metric) -> Int {
        if case .gauge(let gauge) = metric.data { return gauge.dataPoints.count }
        return 0
    }

    @Test func aRelistThatMissesAnObjectDeletesIt() throws {
        var store = try Self.listedKustomizations()
        _ = store.snapshot()
        let items = try FluxFixtures.json("list/kustomizations.json")["items"]?.array ?? []
        let kept = items.compactMap {
            FluxObject($0, kind: Self.kustomization, version: "v1", rules: FluxFixtures.rules)
        }
        .filter { $0.identity.name != "tenants" }
        store.replace(kind: Self.kustomization, with: kept)
        let snapshot = store.snapshot()
        #expect(snapshot.objects.count == 7)
        #expect(snapshot.ended.contains { $0["name"] == "tenants" && $0.name == "gotk_resource_info" })
    }

    @Test func readyAgeAndPendingRevision() throws {
        let objects = try FluxFixtures.objects()
        let failing = try #require(objects.first { $0.identity.name == "team-a-apps" })
        let healthy = try #require(objects.first { $0.identity.kind == "Kustomization" && $0.identity.name == "apps" })
        #expect(healthy.revisionPending == false)
        #expect(healthy.revision == "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b")
        #expect(failing.ready == "False")
        let stalled = try #require(
            objects.first { $0.identity.kind == "HelmRelease" && $0.identity.namespace == "podinfo" })
        #expect(stalled.ready == "False")
        let encoder = ResourceStateEncoder(rules: FluxFixtures.rules, version: "test")
        let transition = try #require(healthy.readyTransitionTime)
        let (body, _) = encoder.encode(objects: [healthy], ended: [], now: transition + 90_000_000_000)
        let metrics = try OTLP.ExportMetricsServiceRequest(decoding: body).resourceMetrics.flatMap(\.scopeMetrics)
            .flatMap(\.metrics)
        let age = try #require(metrics.first { $0.name == FluxObject.readyAgeMetric })
        guard case .gauge(let gauge) = age.data else { return }
        #expect(gauge.dataPoints.first?.value == .double(90))
        let attributes = gauge.dataPoints.first?.attributes ?? []
        #expect(attributes.contains { $0.key == "flux.object.uid" && $0.value == .string(healthy.identity.uid) })
        #expect(attributes.contains { $0.key == "flux.object.kind" && $0.value == .string("Kustomization") })
        #expect(attributes.contains { $0.key == "flux.revision" })
    }
}
