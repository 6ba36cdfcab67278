import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// Issue 18 part 5 end to end, real binary: kustomize-controller's fixture lines, tailed from a kubelet
/// path, arrive as log records carrying `flux.object.*`, and the apply counters derived from them arrive
/// as cumulative sums on the same resource (`k8s.pod.uid`, `service.name`) when the agent stops.
@Suite(.serialized) struct DerivedCountersProcessTests {
    static let podDirectory =
        "pods/flux-system_kustomize-controller-7f5c8d9b4-x2x7k_5b1e0000-1111-2222-3333-444455556666/manager"

    @Test func applyCountersArriveOnThePodsResource() async throws {
        let files = FileLogProcessTests()
        let directory = try files.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(
            atPath: directory + "/" + Self.podDirectory, withIntermediateDirectories: true)
        let fixture = packageRoot.appendingPathComponent("Tests/Interop/flux-logs.jsonl").path
        let lines = try String(contentsOfFile: fixture, encoding: .utf8).split(separator: "\n")
        var text = ""
        for line in lines[19..<36] {  // kustomize-controller, fixture lines 20–36
            text += "2026-08-12T09:00:00.000000000Z stderr F \(line)\n"
        }
        try text.write(toFile: directory + "/" + Self.podDirectory + "/0.log", atomically: true, encoding: .utf8)

        let sink = try await HTTPSink.start()
        let process = try startFluxtel(["--config", try files.config(directory, sink: sink.port)])
        try await sink.waitUntil { _ in FileLogProcessTests.records(sink.requests).count >= 17 }
        process.signal(SIGTERM)
        let finished = try await process.finish()
        #expect(finished.status == 0, "\(finished.stderr)")

        let logs = sink.requests.filter { $0.path == "/v1/logs" }.flatMap { request in
            ((try? OTLP.ExportLogsServiceRequest(decoding: request.body ?? []))?.resourceLogs ?? [])
        }
        let metrics = sink.requests.filter { $0.path == "/v1/metrics" }.flatMap { request in
            ((try? OTLP.ExportMetricsServiceRequest(decoding: request.body ?? []))?.resourceMetrics ?? [])
        }
        let apply = try #require(
            metrics.first { resource in
                resource.scopeMetrics.contains {
                    $0.metrics.contains { $0.name == "flux_kustomization_apply_objects_total" }
                }
            })
        func identity(_ attributes: [OTLP.KeyValue]?) -> [String: String] {
            var out: [String: String] = [:]
            for kv in attributes ?? [] where ["service.name", "k8s.pod.uid", "service.namespace"].contains(kv.key) {
                if case .string(let s)? = kv.value { out[kv.key] = s }
            }
            return out
        }
        let logResource = try #require(logs.first?.resource)
        #expect(identity(apply.resource?.attributes) == identity(logResource.attributes))
        #expect(identity(apply.resource?.attributes)["service.name"] == "kustomize-controller")
        var created = 0
        for metric in apply.scopeMetrics.flatMap(\.metrics)
        where metric.name == "flux_kustomization_apply_objects_total" {
            guard case .sum(let sum) = metric.data else { continue }
            for point in sum.dataPoints {
                let labels = Dictionary(
                    uniqueKeysWithValues: point.attributes.compactMap { kv -> (String, String)? in
                        if case .string(let s)? = kv.value { return (kv.key, s) }
                        return nil
                    })
                if labels["flux.object.name"] == "infra-configs", labels["action"] == "created",
                    case .int(let value)? = point.value
                {
                    created = Int(value)
                }
            }
        }
        #expect(created == 2)
        let records = logs.flatMap { $0.scopeLogs.flatMap(\.logRecords) }
        #expect(
            records.contains { record in
                record.attributes.contains { $0.key == "flux.object.name" && $0.value == .string("infra-configs") }
            })
        try await sink.shutdown()
    }
}
