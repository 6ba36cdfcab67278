import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// Issue 20, acceptance 4: every metric name `config/dash0`'s dashboards and check rules read is one the
/// real agent exports for the shared fixtures, so no panel is empty by design. The names are listed in
/// `Tests/Fixtures/dash0-metric-names.txt`, which `Tests/Deploy/test_dash0.py` keeps equal to what the
/// dashboards and rules use (it parses their PromQL); this test runs the agent the way the DaemonSet
/// does: Flux objects from a fake API server, kustomize-controller's metrics scraped, helm- and
/// kustomize-controller's log lines tailed, a persistent queue, and its own metrics exported.
@Suite(.serialized) struct DashboardMetricsProcessTests {
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static let helmPod = "pods/apps_helm-controller-5c9c7f8d6b-h2x7k_6c2e0000-1111-2222-3333-444455556666/manager"
    static let kustomizePod =
        "pods/flux-system_kustomize-controller-7f5c8d9b4-x2x7k_5b1e0000-1111-2222-3333-444455556666/manager"
    /// helm-controller's drift line (the shared fixture has none; its text is helm-controller's
    /// `msgWithReason("detected changes in cluster state", …)`).
    static let driftLine =
        #"{"level":"info","ts":"2026-08-12T09:30:12.655Z","msg":"detected changes in cluster state: changed: 1","controller":"helmrelease","controllerGroup":"helm.toolkit.fluxcd.io","controllerKind":"HelmRelease","HelmRelease":{"name":"podinfo","namespace":"apps"},"namespace":"apps","name":"podinfo","reconcileID":"50006726-aedc-4eaa-b6e4-ea9f0040e4f9"}"#

    /// The names a PromQL query can select from what was exported: a histogram `h` as `h_bucket`,
    /// `h_sum` and `h_count`, everything else by its name.
    static func promQLNames(_ requests: [HTTPSink.RecordedRequest]) -> Set<String> {
        var names: Set<String> = []
        for request in requests where request.path == "/v1/metrics" {
            let resources = (try? OTLP.ExportMetricsServiceRequest(decoding: request.body ?? []))?.resourceMetrics ?? []
            for metric in resources.flatMap({ $0.scopeMetrics.flatMap(\.metrics) }) {
                if case .histogram = metric.data {
                    names.formUnion(["_bucket", "_sum", "_count"].map { metric.name + $0 })
                } else {
                    names.insert(metric.name)
                }
            }
        }
        return names
    }

    @Test func everyNameTheDashboardsAndRulesReadIsExported() async throws {
        let listed = try String(
            contentsOf: Self.fixtures.appendingPathComponent("dash0-metric-names.txt"), encoding: .utf8
        ).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty && !$0.hasPrefix("#")
        }
        #expect(listed.count >= 20)

        let api = try await FluxObjectsLeaderProcessTests.cluster()
        let exposition = try [UInt8](
            Data(
                contentsOf: packageRoot.appendingPathComponent(
                    "Tests/PrometheusReceiverTests/Fixtures/kustomize-controller.prom")))
        let target = try await HTTPSink.start(
            fallback: .status(200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: exposition))
        let sink = try await HTTPSink.start()
        let directory = try FileLogProcessTests().temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lines = try String(
            contentsOf: packageRoot.appendingPathComponent("Tests/Interop/flux-logs.jsonl"), encoding: .utf8
        ).split(separator: "\n")
        for (pod, content) in [
            (Self.kustomizePod, lines[19..<36].joined(separator: "\n")), (Self.helmPod, Self.driftLine),
        ] {
            try FileManager.default.createDirectory(atPath: directory + "/" + pod, withIntermediateDirectories: true)
            let text = content.split(separator: "\n").map { "2026-08-12T09:00:00.000000000Z stderr F \($0)\n" }.joined()
            try text.write(toFile: directory + "/" + pod + "/0.log", atomically: true, encoding: .utf8)
        }
        let config = directory + "/fluxtel.yaml"
        try """
        receivers:
          prometheus:
            scrape_interval: 1s
            scrape_timeout: 1s
            targets: [{ url: "http://127.0.0.1:\(target.port)/metrics", labels: { job: kustomize-controller } }]
        \(TestConfig.filelog(directory))
          flux_objects:
            api_server: \(api.baseURL)
            token_path: ""
            interval: 1s
            leader_election: { enabled: false }
        processors:
          batch: { timeout: 100ms }
          queue: { directory: \(directory)/queue }
          max_age: 0  # the fixture lines and objects carry fixed past timestamps
        exporters:
          otlp_http:
            endpoint: http://127.0.0.1:\(sink.port)
            retry: { initial_interval: 10ms, max_elapsed_time: 5s }
        service:
          telemetry:
            address: "127.0.0.1:0"
            metrics: { export: true, interval: 1s }
          shutdown_timeout: 5s
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = try startFluxtel(["--config", config])
        // Everything but the log-derived counters (sent on shutdown at the latest) arrives while it runs.
        let derived: Set<String> = ["flux_helmrelease_drift_detected_total", "flux_kustomization_apply_objects_total"]
        let arrived = await eventually {
            Set(listed).subtracting(derived).isSubset(of: Self.promQLNames(sink.requests))
        }
        process.signal(SIGTERM)
        let finished = try await process.finish()
        #expect(finished.status == 0, "\(finished.stderr)")
        let exported = Self.promQLNames(sink.requests)
        #expect(arrived)
        for name in listed {
            #expect(exported.contains(name), "config/dash0 reads \(name), which the agent did not export")
        }
        try await sink.shutdown()
        try await target.shutdown()
        try await api.shutdown()
    }
}
