import FluxObjects
import OTLPJSON
import Processors
import Testing

/// Issue 18's correlation rules against the shared fixtures: the objects of `list/`, and the ids of
/// `expected/correlation.json` (notification-controller v1.9.3 trace ids, fluxcd/notification-controller#1172
/// span ids).
@Suite struct FluxCorrelationFixtureTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func state() throws -> FluxCorrelationState {
        var state = FluxCorrelationState()
        for object in try FluxFixtures.objects() { state.upsert(object.correlated) }
        return state
    }

    static func ref(_ path: String) -> FluxObjectRef {
        let parts = path.split(separator: "/").map(String.init)
        return FluxObjectRef(kind: parts[0], namespace: parts[1], name: parts[2])
    }

    @Test func linksAreReadFromTheObjects() throws {
        let state = try Self.state()
        let apps = try #require(state.object(Self.ref("Kustomization/flux-system/apps")))
        #expect(apps.links.source == Self.ref("GitRepository/flux-system/flux-system"))
        #expect(apps.links.kustomization == Self.ref("Kustomization/flux-system/flux-system"))
        let release = try #require(state.object(Self.ref("HelmRelease/apps/podinfo")))
        #expect(release.links.source == Self.ref("OCIRepository/apps/podinfo"))
        let templated = try #require(state.object(Self.ref("HelmRelease/podinfo/podinfo")))
        #expect(templated.links.source == Self.ref("HelmChart/podinfo/podinfo-podinfo"))
        #expect(state.tracingAlerts.map(\.ref.name) == ["otel-tempo"])  // slack-errors' Provider is not otel
    }

    /// Every event notification-controller exports for Alert otel-tempo: the trace id fluxtel computes for
    /// the object at the event's revision is the one NC puts on the span, and the #1172 span id matches.
    @Test func traceAndSpanIDsMatchTheFixture() throws {
        let state = try Self.state()
        let expected = try FluxFixtures.json("expected/correlation.json")
        var checked = 0
        for event in expected["events"]?.array ?? [] {
            guard let object = event["involvedObject"]?.string, let revision = event["revision_v1_9_3"]?.string,
                let uid = event["objectUID"]?.string
            else { continue }
            for alert in event["per_alert"]?.array ?? [] {
                guard let traceID = alert["traceId_v1_9_3"]?.string, let pr = alert["pr1172"] else { continue }
                let ref = Self.ref(object)
                #expect(state.traceID(for: ref, revision: revision).map(Self.hex) == traceID, "\(object)")
                if pr["spanId_input"]?.string == "\(uid):\(revision)" {
                    #expect(Self.hex(FluxCorrelationState.spanID(uid: uid, revision: revision)) == pr["spanId"]?.string)
                }
                checked += 1
            }
        }
        #expect(checked == 15)
    }

    /// The parent of a span is its source at the span's revision, which is the source's own span in the same trace.
    @Test func parentsAreTheSourcesSpansInTheSameTrace() throws {
        let state = try Self.state()
        let commit = "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"
        let apps = try #require(state.object(Self.ref("Kustomization/flux-system/apps")))
        let parent = try #require(state.parent(ofUID: apps.uid, traceRevision: commit))
        #expect(parent.object.ref == Self.ref("GitRepository/flux-system/flux-system"))
        #expect(Self.hex(parent.spanID) == "de858c30a36b74ef")  // the GitRepository's span at that commit

        let oci = "6.7.1@sha256:eab6abbd283dcb6b8d8b95febf3b55fd85b9ee189733c4ff20cd1f1743c1bfe9"
        let release = try #require(state.object(Self.ref("HelmRelease/apps/podinfo")))
        #expect(state.parent(ofUID: release.uid, traceRevision: oci).map { Self.hex($0.spanID) } == "e791bd41dcb1eb3a")

        let templated = try #require(state.object(Self.ref("HelmRelease/podinfo/podinfo")))
        #expect(
            state.parent(ofUID: templated.uid, traceRevision: "6.7.1").map { Self.hex($0.spanID) } == "34b05cfd29225d95"
        )

        // Sources are roots; a HelmChart's HelmRepository is never a parent.
        let git = try #require(state.object(Self.ref("GitRepository/flux-system/flux-system")))
        #expect(state.parent(ofUID: git.uid, traceRevision: commit) == nil)
        let chart = try #require(state.object(Self.ref("HelmChart/podinfo/podinfo-podinfo")))
        #expect(state.parent(ofUID: chart.uid, traceRevision: "6.7.1") == nil)
    }

    /// A line that names no revision belongs to the object's last attempted revision; objects no otel Alert
    /// covers get no trace id.
    @Test func lineRevisionAndUntracedObjects() throws {
        let state = try Self.state()
        let apps = Self.ref("Kustomization/flux-system/apps")
        let attempted = try #require(state.object(apps)?.lastAttemptedRevision)
        #expect(
            state.traceID(for: apps, revision: nil)
                == FluxCorrelationState.traceID(alertUID: "bc0276ea-183a-4bbc-84eb-7f30d338ce1e", revision: attempted))
        // otel-tempo covers HelmReleases in apps and podinfo only.
        #expect(state.traceID(for: Self.ref("HelmRelease/cert-manager/cert-manager"), revision: "v1.18.2") == nil)
        #expect(state.traceID(for: Self.ref("Kustomization/flux-system/nowhere"), revision: "x") == nil)
    }

    /// Several otel Alerts cover an object: the one whose namespace/name sorts first names the trace,
    /// whatever order they arrive in; a suspended Provider exports nothing.
    @Test func severalAlertsChooseDeterministically() throws {
        let provider = FluxCorrelatedObject(
            uid: "p", ref: FluxObjectRef(kind: "Provider", namespace: "flux-system", name: "tempo"),
            links: FluxLinks(providerType: "otel"))
        func alert(_ name: String, uid: String) -> FluxCorrelatedObject {
            FluxCorrelatedObject(
                uid: uid, ref: FluxObjectRef(kind: "Alert", namespace: "flux-system", name: name),
                links: FluxLinks(
                    eventSources: [
                        FluxEventSource(ref: FluxObjectRef(kind: "GitRepository", namespace: "flux-system", name: "*"))
                    ],
                    providerName: "tempo"))
        }
        let git = FluxCorrelatedObject(
            uid: "g", ref: FluxObjectRef(kind: "GitRepository", namespace: "flux-system", name: "flux-system"),
            revision: "main@sha1:1")
        for order in [["b", "a"], ["a", "b"]] {
            var state = FluxCorrelationState()
            state.upsert(git)
            for name in order { state.upsert(alert(name, uid: "uid-\(name)")) }
            #expect(state.traceID(for: git.ref, revision: nil) == nil)  // no Provider yet
            state.upsert(provider)
            #expect(
                state.traceID(for: git.ref, revision: nil)
                    == FluxCorrelationState.traceID(alertUID: "uid-a", revision: "main@sha1:1"))
            var suspended = provider
            suspended.links.suspended = true
            state.upsert(suspended)
            #expect(!state.tracing)
        }
    }
}
