import FluxObjects
import OTLPJSON
import OTLPWire
import Processors
import Testing

/// Issue 18, part 2, against the shared `otel-spans.json` (notification-controller's spans, one per request,
/// no parents) and the objects of `list/`.
@Suite struct FluxSpanTreeFixtureTests {
    /// The chains of `otel-spans.json`: each request as protobuf bytes, in the order NC sends them.
    static func chains() throws -> [(name: String, requests: [[UInt8]])] {
        let spans = try FluxFixtures.json("../otel-spans.json")
        return try (spans["chains"]?.array ?? []).map { chain in
            let requests = try (chain["requests"]?.array ?? []).map { request in
                let json = try #require(request["exportTraceServiceRequest_as_OTLP_JSON"]).encoded()
                return try OTLPJSON.decodeTraceRequest(json: json).serializedBytes()
            }
            return (chain["name"]?.string ?? "", requests)
        }
    }

    static func spans(_ body: [UInt8]) throws -> [OTLP.Span] {
        try OTLP.ExportTraceServiceRequest(decoding: body).resourceSpans.flatMap { $0.scopeSpans.flatMap(\.spans) }
    }

    static func attribute(_ span: OTLP.Span, _ key: String) -> OTLP.AnyValue? {
        span.attributes.first { $0.key == key }?.value
    }

    static func placed(_ state: FluxCorrelationState) throws -> [String: [OTLP.Span]] {
        var tree = FluxSpanTree()
        var result: [String: [OTLP.Span]] = [:]
        for chain in try chains() {
            for request in chain.requests {
                let body =
                    try tree.rewrite(request, state: state, duration: { state.duration(uid: $0, revision: $1) })
                    ?? request
                result[chain.name, default: []] += try spans(body)
            }
        }
        return result
    }

    @Test func kustomizationIsAChildOfItsGitRepositoryInTheSameTrace() throws {
        let state = try FluxCorrelationFixtureTests.state()
        let chain = try #require(try Self.placed(state)["GitRepository -> Kustomization"])
        let commit = "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"
        let git = chain[0]
        #expect(
            git.spanID == FluxCorrelationState.spanID(uid: "10f37fad-840b-4d46-955a-7f18350de0fc", revision: commit))
        #expect(git.parentSpanID.isEmpty)  // a source is a root
        #expect(Self.attribute(git, FluxSpanTree.originalSpanIDKey) == .string("12dd272d1371c171"))
        let apps = chain[1]
        #expect(apps.name == "Kustomization: flux-system/apps")
        #expect(
            apps.spanID == FluxCorrelationState.spanID(uid: "756e00de-90ec-4f8d-9156-de124ad055e9", revision: commit))
        #expect(apps.parentSpanID == git.spanID)
        #expect(apps.traceID == git.traceID)
        // The identity its logs and metrics carry, beside NC's object.* (issue 18, part 4).
        #expect(Self.attribute(apps, "flux.object.kind") == .string("Kustomization"))
        #expect(Self.attribute(apps, "flux.object.name") == .string("apps"))
        #expect(Self.attribute(apps, "flux.object.namespace") == .string("flux-system"))
        #expect(Self.attribute(apps, "flux.object.uid") == .string("756e00de-90ec-4f8d-9156-de124ad055e9"))
        #expect(Self.attribute(apps, "flux.revision") == .string(commit))
        #expect(Self.attribute(apps, "object.name") == .string("apps"))
        // The next two events about apps at that commit keep NC's ids, under the first one.
        for later in chain[2...3] {
            #expect(later.parentSpanID == apps.spanID)
            #expect(Self.attribute(later, FluxSpanTree.originalSpanIDKey) == nil)
        }
        #expect(Set(chain.map(\.spanID)).count == chain.count)
        #expect(chain[4].parentSpanID == git.spanID)  // infra-configs
        #expect(!chain.contains { Self.attribute($0, FluxSpanTree.synthesizedKey) != nil })
    }

    @Test func ociHelmReleaseIsAChildOfItsOCIRepository() throws {
        let state = try FluxCorrelationFixtureTests.state()
        let chain = try #require(try Self.placed(state)["OCIRepository -> HelmRelease (chartRef OCIRepository)"])
        #expect(chain.count == 2)
        #expect(chain[1].parentSpanID == chain[0].spanID)
        #expect(FluxCorrelationFixtureTests.hex(chain[0].spanID) == "e791bd41dcb1eb3a")  // correlation.json (#1172)
        #expect(FluxCorrelationFixtureTests.hex(chain[1].spanID) == "8d9def1c63e36257")
    }

    /// A parent that never arrives is synthesised once per trace, flagged, named as NC names spans.
    @Test func missingParentIsSynthesisedOnce() throws {
        let state = try FluxCorrelationFixtureTests.state()
        let requests = try #require(try Self.chains().first { $0.name == "GitRepository -> Kustomization" }).requests
        var tree = FluxSpanTree()
        var spans: [OTLP.Span] = []
        for request in requests.dropFirst() {  // without the GitRepository's span
            spans += try Self.spans(try #require(try tree.rewrite(request, state: state)))
        }
        let synthesized = spans.filter { Self.attribute($0, FluxSpanTree.synthesizedKey) == .bool(true) }
        #expect(synthesized.count == 1)
        let parent = try #require(synthesized.first)
        #expect(parent.name == "GitRepository: flux-system/flux-system")
        #expect(spans.filter { $0.name.hasPrefix("Kustomization") && $0.parentSpanID.isEmpty }.isEmpty)
        #expect(spans.first { $0.name == "Kustomization: flux-system/infra-configs" }?.parentSpanID == parent.spanID)
        // The real span arriving late does not reuse the id: it becomes the synthesised span's child.
        let late = try Self.spans(try #require(try tree.rewrite(requests[0], state: state)))
        #expect(late.count == 1 && late[0].parentSpanID == parent.spanID && late[0].spanID != parent.spanID)
    }

    /// Spans that carry a parent, and requests without Flux spans, keep their bytes.
    @Test func spansWithAParentAreUntouched() throws {
        let state = try FluxCorrelationFixtureTests.state()
        var request = try OTLP.ExportTraceServiceRequest(decoding: try Self.chains()[0].requests[1])
        request.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID = [1, 2, 3, 4, 5, 6, 7, 8]
        var tree = FluxSpanTree()
        #expect(try tree.rewrite(request.serializedBytes(), state: state) == nil)
        #expect(try tree.rewrite(OTLP.ExportTraceServiceRequest().serializedBytes(), state: state) == nil)
    }

    /// A reconcile duration seen in the logs sets start = end − duration.
    @Test func knownDurationSetsTheStart() throws {
        var state = try FluxCorrelationFixtureTests.state()
        let commit = "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"
        state.recordDuration(
            FluxObjectRef(kind: "Kustomization", namespace: "flux-system", name: "apps"), revision: commit,
            nanos: 16_803_347_112)
        let chain = try #require(try Self.placed(state)["GitRepository -> Kustomization"])
        let apps = chain[1]
        #expect(apps.endTimeUnixNano - apps.startTimeUnixNano == 16_803_347_112)
        #expect(chain[0].startTimeUnixNano % 1_000_000_000 == 0)  // no duration known: NC's whole second
    }
}
