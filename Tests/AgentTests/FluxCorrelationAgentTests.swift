import Agent
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import OTLPJSON
import OTLPWire
import Processors
import Testing

/// Issue 18, acceptance 1 (in process, the whole agent): the fake API server serves the fixture's otel Alert
/// and Provider, GitRepositories and Kustomizations; fluxtel tails kustomize-controller's lines and receives
/// notification-controller's flat spans. At the sink the log lines of traced objects carry the spans' trace
/// id, the Kustomization span is a child of the GitRepository span, ids follow #1172, and the span whose
/// reconcile line was read has that duration.
@Suite(.serialized) struct FluxCorrelationAgentTests {
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static let commit = "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"
    static let traceID = FluxCorrelationState.traceID(
        alertUID: "bc0276ea-183a-4bbc-84eb-7f30d338ce1e", revision: commit)

    static func cluster() async throws -> FakeKubernetesAPI {
        let api = try await FakeKubernetesAPI.start()
        api.setUnknownCollectionsNotFound(true)
        let lists: [(group: String, version: String, resource: String)] = [
            ("notification.toolkit.fluxcd.io", "v1beta3", "alerts"),
            ("notification.toolkit.fluxcd.io", "v1beta3", "providers"),
            ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
            ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        ]
        for list in lists {
            api.serve(group: list.group, versions: [list.version])
            try api.load(
                listFile: fixtures.appendingPathComponent("flux-objects/list/\(list.resource).json"),
                in: "/apis/\(list.group)/\(list.version)/\(list.resource)")
        }
        return api
    }

    /// notification-controller's requests for the GitRepository → Kustomization chain (`otel-spans.json`).
    static func spanRequests() throws -> [[UInt8]] {
        let spans = try JSONValue.parse(Array(try Data(contentsOf: fixtures.appendingPathComponent("otel-spans.json"))))
        let chain = try #require(spans["chains"]?.array?.first)
        return try (chain["requests"]?.array ?? []).map { request in
            let json = try #require(request["exportTraceServiceRequest_as_OTLP_JSON"]).encoded()
            return try OTLPJSON.decodeTraceRequest(json: json).serializedBytes()
        }
    }

    static func attribute(_ attributes: [OTLP.KeyValue], _ key: String) -> String? {
        if case .string(let value)? = attributes.first(where: { $0.key == key })?.value { return value }
        return nil
    }

    @Test func logsAndSpansShareTheTraceAndFormATree() async throws {
        let api = try await Self.cluster()
        let sink = try await HTTPSink.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-corr-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var configuration = testConfiguration(sinkPort: sink.port, batchTimeout: .milliseconds(50))
        var filelog = FileLogReceiverConfiguration()
        filelog.include = ["\(directory)/*.log"]
        filelog.startAt = .beginning
        filelog.checkpointDirectory = ""
        filelog.pollInterval = .milliseconds(50)
        configuration.receivers.filelog = filelog
        var flux = FluxObjectsConfiguration()
        flux.apiServer = api.baseURL
        flux.tokenPath = ""
        flux.caPath = ""
        flux.events = false
        flux.interval = .seconds(3600)
        flux.leaderElection.enabled = false
        configuration.receivers.fluxObjects = flux

        // kustomize-controller's lines of the fixture (flux-logs.jsonl lines 20–36).
        let lines = try String(
            contentsOf: packageRoot.appendingPathComponent("Tests/Interop/flux-logs.jsonl"), encoding: .utf8
        ).split(separator: "\n").map(String.init)
        let kustomizeLines = Array(lines[19..<36])

        try await withAgent(configuration) { agent, port in
            // The objects first (Alert, Provider, 2 GitRepositories, 8 Kustomizations), then the lines.
            #expect(await eventually { (agent.fluxObjectsReceiver?.objectCount ?? 0) >= 12 })
            try (kustomizeLines.joined(separator: "\n") + "\n").write(
                toFile: directory + "/kustomize-controller.log", atomically: true, encoding: .utf8)
            #expect(await eventually { Self.records(sink.requests).count >= kustomizeLines.count })
            for request in try Self.spanRequests() {
                let answer = await httpRequest(
                    port: port, method: "POST", path: "/v1/traces",
                    headers: [("Content-Type", "application/x-protobuf")], body: request)
                #expect(answer?.status == 200)
            }
            #expect(await eventually { Self.spans(sink.requests).count >= 5 })
        }

        // Logs: every line naming a Kustomization of the commit's trace carries its trace id.
        let records = Self.records(sink.requests)
        var traced = 0
        for record in records {
            let name = Self.attribute(record.attributes, "name")
            let kind =
                Self.attribute(record.attributes, "controllerKind")
                ?? Self.attribute(record.attributes, "reconciler kind")
            if kind == "Kustomization", let name, ["flux-system", "apps", "infra-configs"].contains(name) {
                #expect(record.traceID == Self.traceID, "\(name): \(record.body.map(String.init(describing:)) ?? "")")
                traced += 1
            } else if kind == nil || name == nil {
                #expect(record.traceID.isEmpty)
            }
        }
        #expect(traced >= 10)

        // Spans: one trace, the Kustomizations under the GitRepository, #1172 ids, apps' real duration.
        let spans = Self.spans(sink.requests)
        #expect(spans.allSatisfy { $0.traceID == Self.traceID })
        let git = try #require(spans.first { $0.name == "GitRepository: flux-system/flux-system" })
        #expect(
            git.spanID
                == FluxCorrelationState.spanID(uid: "10f37fad-840b-4d46-955a-7f18350de0fc", revision: Self.commit))
        let apps = try #require(
            spans.first { $0.name == "Kustomization: flux-system/apps" && $0.parentSpanID == git.spanID })
        #expect(
            apps.spanID
                == FluxCorrelationState.spanID(uid: "756e00de-90ec-4f8d-9156-de124ad055e9", revision: Self.commit))
        let duration = Int64(apps.endTimeUnixNano) - Int64(apps.startTimeUnixNano)
        #expect(abs(duration - 16_803_347_112) <= 1_000_000)  // "Reconciliation finished in 16.803347112s"
        try await api.shutdown()
    }

    static func records(_ requests: [HTTPSink.RecordedRequest]) -> [OTLP.LogRecord] {
        requests.filter { $0.path == "/v1/logs" }.flatMap { request in
            ((try? OTLP.ExportLogsServiceRequest(decoding: request.body ?? []))?.resourceLogs ?? [])
                .flatMap { $0.scopeLogs.flatMap(\.logRecords) }
        }
    }

    static func spans(_ requests: [HTTPSink.RecordedRequest]) -> [OTLP.Span] {
        requests.filter { $0.path == "/v1/traces" }.flatMap { request in
            ((try? OTLP.ExportTraceServiceRequest(decoding: request.body ?? []))?.resourceSpans ?? [])
                .flatMap { $0.scopeSpans.flatMap(\.spans) }
        }
    }
}
