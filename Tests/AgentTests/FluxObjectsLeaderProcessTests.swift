import FluxtelTestSupport
import Foundation
import OTLPJSON
import OTLPWire
import Testing

/// Issue 17's one writer per cluster, with real processes: three agents against one fake API server.
/// State points and Event records come from one agent at a time; after `kill -9` of the leader another
/// takes over (its Lease expires: 3 s here), and no Event record is sent twice.
@Suite(.serialized) struct FluxObjectsLeaderProcessTests {
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/flux-objects")
    static let agentKey = "fluxtel.test.agent"

    static func cluster() async throws -> FakeKubernetesAPI {
        let api = try await FakeKubernetesAPI.start()
        api.setUnknownCollectionsNotFound(true)
        api.serve(group: "kustomize.toolkit.fluxcd.io", versions: ["v1"])
        try api.load(
            listFile: fixtures.appendingPathComponent("list/kustomizations.json"),
            in: "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations")
        api.serve(group: "events.k8s.io", versions: ["v1"])
        try api.load(
            listFile: fixtures.appendingPathComponent("events/events.k8s.io-v1.eventlist.json"),
            in: "/apis/events.k8s.io/v1/events")
        return api
    }

    static func config(api: FakeKubernetesAPI, sink: HTTPSink, agent: String) throws -> String {
        let path = temporaryPath("flux-objects-\(agent)") + ".yaml"
        try """
        receivers:
          flux_objects:
            api_server: \(api.baseURL)
            token_path: ""
            interval: 1s
            leader_election:
              lease_namespace: fluxtel
              lease_duration: 3s
              renew_deadline: 2s
              retry_period: 500ms
        processors:
          resource:
            attributes: { \(agentKey): \(agent) }
          batch: { timeout: 50ms }
          # The fixture Events are from August 2026.
          max_age: 0
        \(TestConfig.exportToSink(
            sink.port, compression: "none", retry: "{ initial_interval: 10ms, max_elapsed_time: 10s }",
            shutdownTimeout: "2s"))
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Which agent sent a request (its resource attribute), and the Event keys (uid, count) of a logs request.
    static func agent(of request: HTTPSink.RecordedRequest) -> String? {
        guard let body = request.body else { return nil }
        let resources: [OTLP.Resource?]
        if request.path == "/v1/metrics" {
            resources = (try? OTLP.ExportMetricsServiceRequest(decoding: body))?.resourceMetrics.map(\.resource) ?? []
        } else {
            resources = (try? OTLP.ExportLogsServiceRequest(decoding: body))?.resourceLogs.map(\.resource) ?? []
        }
        for resource in resources {
            if case .string(let name)? = resource?.attributes.first(where: { $0.key == agentKey })?.value {
                return name
            }
        }
        return nil
    }

    static func eventKeys(_ requests: [HTTPSink.RecordedRequest]) -> [String] {
        requests.filter { $0.path == "/v1/logs" }.flatMap { request -> [String] in
            guard let body = request.body, let logs = try? OTLP.ExportLogsServiceRequest(decoding: body) else {
                return []
            }
            return logs.resourceLogs.flatMap(\.scopeLogs).flatMap(\.logRecords).map { record in
                let uid = record.attributes.first { $0.key == "k8s.event.uid" }?.value
                let count = record.attributes.first { $0.key == "k8s.event.count" }?.value
                return "\(String(describing: uid))#\(String(describing: count))"
            }
        }
    }

    @Test func oneWriterAtATimeAndATakeoverAfterKillNine() async throws {
        let api = try await Self.cluster()
        let sink = try await HTTPSink.start()
        var agents: [String: AgentProcess] = [:]
        for name in ["a", "b", "c"] {
            agents[name] = try startFluxtel(
                ["--config", try Self.config(api: api, sink: sink, agent: name)], environment: ["POD_NAME": name])
        }
        defer { for agent in agents.values where agent.isRunning { agent.signal(SIGKILL) } }

        // Every Flux Event (24 in the fixture) arrives once, and state points come from one agent only.
        #expect(await eventually { Self.eventKeys(sink.requests).count >= 24 })
        #expect(await eventually { sink.requests.filter { $0.path == "/v1/metrics" }.count >= 3 })
        let metrics = sink.requests.filter { $0.path == "/v1/metrics" }
        let writers = Set(metrics.compactMap(Self.agent))
        #expect(writers.count == 1, "state points from \(writers)")
        let leader = try #require(writers.first)

        // kill -9 the leader: no release, the others wait for its Lease to expire.
        let before = sink.requests.count
        let killed = try #require(agents[leader])
        killed.signal(SIGKILL)
        _ = try await killed.wait(timeout: .seconds(30))
        #expect(
            // With a 3 s lease this takes a few seconds; the bound only catches a hang (no latency asserted).
            await eventually {
                sink.requests.dropFirst(before).contains { $0.path == "/v1/metrics" && Self.agent(of: $0) != leader }
            })
        let after = sink.requests.dropFirst(before).filter { $0.path == "/v1/metrics" }.compactMap(Self.agent)
        #expect(Set(after.filter { $0 != leader }).count == 1, "writers after the kill: \(Set(after))")

        // The new leader lists the Events again, as every agent did: nothing is sent twice.
        let keys = Self.eventKeys(sink.requests)
        #expect(keys.count == Set(keys).count, "\(keys.count - Set(keys).count) Event records sent twice")
        #expect(Set(keys).count == 24)
        try await api.shutdown()
    }
}
