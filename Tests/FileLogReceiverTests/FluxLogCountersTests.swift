import Foundation
import OTLPWire
import Testing

@testable import FileLogReceiver

/// Issue 18 part 5: counters derived from lines Flux already writes, counted while the lines are encoded
/// and exported as cumulative OTLP sums on the writing pod's resource.
struct FluxLogCountersTests {
    static let kustomizePath =
        "/var/log/pods/flux-system_kustomize-controller-7f5c8d9b4-x2x7k_5b1e-uid/manager/0.log"
    static let helmPath = "/var/log/pods/flux-system_helm-controller-5f7457c9dd-9xvxq_77aa-uid/manager/0.log"

    /// helm-controller's drift line: `log.Info(msgWithReason("detected changes in cluster state",
    /// diff.SummarizeDiffSetBrief(state.Diff)))` (helm-controller `internal/reconcile/atomic_release.go`),
    /// with the reconciler's keys as on the fixture's HelmRelease lines. The shared fixture has no drift line.
    static let driftLine =
        #"{"level":"info","ts":"2026-08-12T09:30:12.655Z","msg":"detected changes in cluster state: changed: 1","controller":"helmrelease","controllerGroup":"helm.toolkit.fluxcd.io","controllerKind":"HelmRelease","HelmRelease":{"name":"podinfo","namespace":"apps"},"namespace":"apps","name":"podinfo","reconcileID":"50006726-aedc-4eaa-b6e4-ea9f0040e4f9"}"#

    /// Encodes `lines` as one chunk of the file at `path`, counting into `counters`.
    static func feed(_ lines: [String], path: String, counters: FluxLogCounters) throws {
        var builder = LogChunkBuilder(path: path, resolvedPath: path)
        var encoder = LogRecordEncoder()
        encoder.counters = counters
        encoder.countersResource = builder.metricResourceField
        builder.open(reservingCapacity: 4096)
        for line in lines {
            Array(line.utf8).withUnsafeBytes { bytes in
                let record = DecodedRecord(
                    content: bytes, stream: .stderr, time: 5, truncated: false, originalSize: bytes.count + 1)
                builder.withWriter { w, attributes in
                    encoder.append(record, fileAttributes: attributes, observedNow: 1_000, into: &w)
                }
            }
        }
        let finished = builder.finish()
        #expect(finished != nil)
    }

    static func points(_ request: OTLP.ExportMetricsServiceRequest, _ metric: String) -> [OTLP.NumberDataPoint] {
        request.resourceMetrics.flatMap(\.scopeMetrics).flatMap(\.metrics).filter { $0.name == metric }.flatMap {
            metric -> [OTLP.NumberDataPoint] in
            guard case .sum(let sum) = metric.data, sum.isMonotonic, sum.aggregationTemporality == .cumulative else {
                return []
            }
            return sum.dataPoints
        }
    }

    static func label(_ point: OTLP.NumberDataPoint, _ key: String) -> String? {
        point.attributes.first { $0.key == key }?.value?.stringValue
    }

    @Test func applyOutputsAndDriftAreCounted() throws {
        let counters = FluxLogCounters()
        #expect(counters.encode(now: 2_000, version: "t") == nil)
        // Every kustomize-controller line of the scenario (20–36), twice: 23, 26 and 35 are applies.
        let kustomize = try (20...36).map(FluxIdentityLogTests.fixtureLine)
        try Self.feed(kustomize + kustomize, path: Self.kustomizePath, counters: counters)
        // Every helm-controller line of the scenario (37–54), plus one drift line.
        let helm = try (37...54).map(FluxIdentityLogTests.fixtureLine)
        try Self.feed(helm + [Self.driftLine], path: Self.helmPath, counters: counters)

        let (body, points) = try #require(counters.encode(now: 2_000, version: "t"))
        let request = try OTLP.ExportMetricsServiceRequest(decoding: body)
        var applies: [String: Int64] = [:]
        for point in Self.points(request, FluxLogCounters.applyMetric) {
            #expect(Self.label(point, "flux.object.kind") == "Kustomization")
            #expect(Self.label(point, "flux.object.namespace") == "flux-system")
            #expect(point.startTimeUnixNano == 1_000 && point.timeUnixNano == 2_000)
            guard case .int(let value) = point.value else { continue }
            applies["\(Self.label(point, "flux.object.name") ?? "?")/\(Self.label(point, "action") ?? "?")"] = value
        }
        #expect(
            applies == [
                "flux-system/unchanged": 10, "apps/unchanged": 6, "apps/configured": 2, "infra-configs/created": 4,
            ])
        let drift = Self.points(request, FluxLogCounters.driftMetric)
        #expect(drift.count == 1)
        #expect(drift.first.map { Self.label($0, "flux.object.name") } == "podinfo")
        #expect(drift.first.map { Self.label($0, "flux.object.namespace") } == "apps")
        #expect(drift.first?.value == .int(1))
        #expect(points == 5)

        // Each pod's counters sit on that pod's resource (the identity its logs and metrics share).
        #expect(request.resourceMetrics.count == 2)
        let services = request.resourceMetrics.map { resource in
            resource.resource?.attributes.first { $0.key == "service.name" }?.value?.stringValue
        }
        #expect(services == ["kustomize-controller", "helm-controller"])
        #expect(
            request.resourceMetrics.allSatisfy { $0.resource?.attributes.contains { $0.key == "k8s.pod.uid" } == true })
    }

    @Test func otherLinesCountNothing() throws {
        let counters = FluxLogCounters()
        let lines = try (1...93).filter { ![23, 26, 35, 84, 86].contains($0) }.map(FluxIdentityLogTests.fixtureLine)
        try Self.feed(lines, path: Self.kustomizePath, counters: counters)
        #expect(counters.encode(now: 2_000, version: "t") == nil)
    }

    /// A series keys its pod by number: equal resource bytes (even in another array, as after a file's
    /// rotation) get the same number, other bytes another, whichever came last.
    @Test func resourcesAreNumberedByTheirBytes() {
        let counters = FluxLogCounters()
        let a: [UInt8] = Array("resource a".utf8)
        let b: [UInt8] = Array("resource b".utf8)
        let first = counters.resourceID(a)
        #expect(counters.resourceID(a) == first)
        let second = counters.resourceID(b)
        #expect(second != first)
        #expect(counters.resourceID(Array("resource a".utf8)) == first)
        #expect(counters.resourceID(b) == second)
    }
}
