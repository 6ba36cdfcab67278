import FluxObjects
import OTLPWire
import Synchronization
import Testing

@testable import Processors

/// `processors.hold`'s question against the shared fixtures: which of notification-controller's spans wait
/// for their object's reconcile duration, and the wake when a "Reconciliation finished in …" line is read.
@Suite struct FluxSpanHoldTests {
    static let commit = "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"

    /// The fixture's objects in a `FluxCorrelation`, and the GitRepository → Kustomization requests
    /// (GitRepository, apps ×3, infra-configs).
    static func correlation() throws -> (FluxCorrelation, [[UInt8]]) {
        let correlation = FluxCorrelation()
        correlation.upsert(try FluxFixtures.objects().map(\.correlated))
        let chain = try #require(
            try FluxSpanTreeFixtureTests.chains().first { $0.name == "GitRepository -> Kustomization" })
        return (correlation, chain.requests)
    }

    /// kustomize-controller's line about `name`, read by the tailer.
    static func finished(_ correlation: FluxCorrelation, _ name: String, _ message: String) {
        func bytes(_ text: String, _ body: (UnsafeRawBufferPointer) -> Void) {
            Array(text.utf8).withUnsafeBytes(body)
        }
        bytes("Kustomization") { kind in
            bytes("flux-system") { namespace in
                bytes(name) { name in
                    bytes(message) { message in
                        _ = correlation.line(
                            kind: kind, namespace: namespace, name: name, revision: nil, message: message)
                    }
                }
            }
        }
    }

    @Test func kustomizationSpansWaitForTheirDurationOnceItsKindLogsOne() throws {
        let (correlation, requests) = try Self.correlation()
        let (git, apps, infra) = (requests[0], requests[1], requests[4])
        #expect(correlation.isTracing)
        // No reconcile line read yet: nothing is known to log one, nothing waits.
        #expect(!correlation.awaitsDuration(apps))
        let wakes = Mutex(0)
        correlation.whenDurationLearned { wakes.withLock { $0 += 1 } }
        Self.finished(correlation, "flux-system", "Reconciliation finished in 1.834512907s, next run in 10m0s")
        #expect(wakes.withLock { $0 } == 1)
        // Kustomizations log durations: apps and infra-configs wait for theirs; source-controller logs none.
        #expect(correlation.awaitsDuration(apps))
        #expect(correlation.awaitsDuration(infra))
        #expect(!correlation.awaitsDuration(git))
        // Other lines about apps do not wake anything; its reconcile line does, and then it goes.
        Self.finished(correlation, "apps", "server-side apply completed")
        #expect(wakes.withLock { $0 } == 1)
        Self.finished(correlation, "apps", "Reconciliation finished in 16.803347112s, next run in 10m0s")
        #expect(wakes.withLock { $0 } == 2)
        #expect(!correlation.awaitsDuration(apps))
        #expect(correlation.awaitsDuration(infra))
        Self.finished(correlation, "infra-configs", "Reconciliation finished in 2.350981127s, next run in 1h0m0s")
        #expect(!correlation.awaitsDuration(infra))
    }

    @Test func spansWithAParentOrWithoutAFluxObjectNeverWait() throws {
        let (correlation, requests) = try Self.correlation()
        Self.finished(correlation, "flux-system", "Reconciliation finished in 1.834512907s, next run in 10m0s")
        var request = try OTLP.ExportTraceServiceRequest(decoding: requests[1])
        request.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(!correlation.awaitsDuration(request.serializedBytes()))
        // A span the store does not know (another cluster's object) does not wait either.
        var unknown = try OTLP.ExportTraceServiceRequest(decoding: requests[1])
        unknown.resourceSpans[0].scopeSpans[0].spans[0].attributes = [
            .init("object.uid", "nope"), .init("object.kind", "Kustomization"),
        ]
        #expect(!correlation.awaitsDuration(unknown.serializedBytes()))
        #expect(!FluxSpanTree.mayHaveFluxSpans(OTLP.ExportTraceServiceRequest().serializedBytes()))
        #expect(FluxSpanTree.mayHaveFluxSpans(requests[1]))
    }

    /// The hold reads a request's Flux spans off the wire (`FluxSpanKey`): the same spans, trace ids and
    /// revisions (NC's `getRevision`, `<app-version>@<oci-digest>` for OCI charts) as the decoded model.
    @Test func theWireScanFindsWhatTheModelFinds() throws {
        var total = 0
        for chain in try FluxSpanTreeFixtureTests.chains() {
            for request in chain.requests {
                let expected = try FluxSpanTreeFixtureTests.spans(request).compactMap { span -> FluxSpanKey? in
                    guard span.parentSpanID.isEmpty,
                        case .string(let uid)? = FluxSpanTreeFixtureTests.attribute(span, "object.uid"),
                        FluxSpanTreeFixtureTests.attribute(span, "object.kind") != nil
                    else { return nil }
                    return FluxSpanKey(traceID: span.traceID, uid: uid, revision: FluxSpanTree.revision(of: span))
                }
                #expect(try FluxSpanKey.parentless(in: request) == expected)
                total += expected.count
            }
        }
        #expect(total >= 8)
        #expect(try FluxSpanKey.parentless(in: []) == [])
        #expect(throws: ProtoDecodingError.self) { try FluxSpanKey.parentless(in: [0x0A, 0x05, 0x12]) }
    }

    @Test func furtherSpansOfAnObjectAtARevisionDoNotWait() throws {
        let (correlation, requests) = try Self.correlation()
        Self.finished(correlation, "flux-system", "Reconciliation finished in 1.834512907s, next run in 10m0s")
        #expect(correlation.awaitsDuration(requests[2]))
        // apps' first span went in (its hold ended without a duration): the next two become its children and
        // would take no duration, so they do not wait.
        #expect(correlation.rewriteSpans(requests[1]) != nil)
        #expect(!correlation.awaitsDuration(requests[2]))
        #expect(!correlation.awaitsDuration(requests[3]))
    }
}
