import FluxtelTestSupport
import Foundation
import OTLPWire
import Processors
import Testing

/// Issue 18, acceptance 1 and 2 with the real binary: the fake API server serves the fixture's otel Alert
/// (uid `bc0276ea-…`) and Provider, GitRepositories and Kustomizations; fluxtel tails source- and
/// kustomize-controller's lines and receives notification-controller's flat spans (`otel-spans.json`) on
/// its OTLP receiver. apps' "Reconciliation finished in 16.803347112s" line is written only after its spans
/// were received and answered: the hold (`processors.hold`) keeps them until the line is read, so they still
/// get the real duration. A span that comes with a parent is exported byte for byte.
@Suite(.serialized) struct FluxCorrelationProcessTests {
    static let commit = FluxCorrelationAgentTests.commit
    static let traceID = FluxCorrelationAgentTests.traceID
    static let gitUID = "10f37fad-840b-4d46-955a-7f18350de0fc"
    static let appsUID = "756e00de-90ec-4f8d-9156-de124ad055e9"
    static let infraUID = "e910bd8e-88ca-4f7e-9843-60c49ed70ab1"

    static func config(_ directory: String, api: FakeKubernetesAPI, sink: HTTPSink) throws -> String {
        let path = directory + "/fluxtel.yaml"
        try """
        receivers:
          otlp: { endpoint: "127.0.0.1:0" }
          filelog:
            include: ["\(directory)/*.log"]
            start_at: beginning
            checkpoint_dir: \(directory)/checkpoints
            poll_interval: 50ms
          flux_objects:
            api_server: \(api.baseURL)
            token_path: ""
            events: false
            interval: 1h
            leader_election: { enabled: false }
        processors:
          batch: { timeout: 50ms }
          max_age: 0  # the fixture's lines and spans are from August 2026
          # Far longer than the test takes: apps' spans can only go early because their line was read.
          hold: 1h
        \(TestConfig.exportToSink(
            sink.port, compression: "none", retry: "{ initial_interval: 10ms, max_elapsed_time: 10s }"))
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The Flux objects the agent's `/status` counts.
    static func objects(_ agent: AgentProcess) async throws -> Int {
        let port = try await agent.telemetryPort
        guard let response = await LoopbackHTTP.fetch(port: port, path: "/status"),
            let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let receivers = json["receivers"] as? [String: Any],
            let flux = receivers["flux_objects"] as? [String: Any]
        else { return 0 }
        return flux["objects"] as? Int ?? 0
    }

    static func heldSpans(_ agent: AgentProcess) async throws -> Double? {
        AgentProcess.sample("fluxtel_spans_held", in: try await agent.metrics())
    }

    static func duration(_ span: OTLP.Span) -> Int64 { Int64(span.endTimeUnixNano) - Int64(span.startTimeUnixNano) }

    @Test func logsAndSpansShareTheTraceFormATreeAndLateLinesStillSetTheDuration() async throws {
        let api = try await FluxCorrelationAgentTests.cluster()
        let sink = try await HTTPSink.start()
        let directory = temporaryPath("flux-correlation")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let agent = try startFluxtel(["--config", try Self.config(directory, api: api, sink: sink)])
        defer { if agent.isRunning { agent.signal(SIGKILL) } }
        let port = try await agent.otlpPort

        // The objects first (Alert, 2 Providers, 2 GitRepositories, 8 Kustomizations, …), then the lines.
        #expect(await eventually { ((try? await Self.objects(agent)) ?? 0) >= 12 })
        let lines = try String(
            contentsOf: packageRoot.appendingPathComponent("Tests/Interop/flux-logs.jsonl"), encoding: .utf8
        ).split(separator: "\n").map(String.init)
        // source-controller's lines about GitRepository flux-system (13, 14), kustomize-controller's (20–36)
        // but apps' reconcile line (29), which comes after apps' spans.
        let late = lines[28]
        #expect(late.contains("Reconciliation finished in 16.803347112s") && late.contains(#""name":"apps""#))
        let early = [lines[12], lines[13]] + lines[19..<36].filter { $0 != late }
        let log = directory + "/flux.log"
        try (early.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        #expect(await eventually { FluxCorrelationAgentTests.records(sink.requests).count >= early.count })

        // NC's requests: GitRepository, apps ×3, infra-configs; and one span that already has a parent.
        let requests = try FluxCorrelationAgentTests.spanRequests()
        var parented = try OTLP.ExportTraceServiceRequest(decoding: requests[1])
        parented.resourceSpans[0].scopeSpans[0].spans[0].parentSpanID = [0xF1, 0x0F, 1, 2, 3, 4, 5, 6]
        parented.resourceSpans[0].scopeSpans[0].spans[0].name = "already placed"
        let parentedBytes = parented.serializedBytes()
        for request in requests + [parentedBytes] {
            let answer = await httpRequest(
                port: port, method: "POST", path: "/v1/traces",
                headers: [("Content-Type", "application/x-protobuf")], body: request)
            #expect(answer?.status == 200, "answered while apps' spans wait")
        }
        // GitRepository (its controller logs no duration), infra-configs (its line was read) and the placed span
        // pass; apps' three wait for its line.
        #expect(await eventually { FluxCorrelationAgentTests.spans(sink.requests).count >= 3 })
        #expect(await eventually { (try? await Self.heldSpans(agent)) == 3 })
        #expect(
            !FluxCorrelationAgentTests.spans(sink.requests).contains { $0.name == "Kustomization: flux-system/apps" })

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((late + "\n").utf8))
        try handle.close()
        #expect(await eventually { FluxCorrelationAgentTests.spans(sink.requests).count >= 6 })
        #expect(await eventually { FluxCorrelationAgentTests.records(sink.requests).count >= early.count + 1 })
        #expect(try await Self.heldSpans(agent) == 0)
        agent.signal(SIGTERM)
        _ = try await agent.finish()

        // Logs: every line about GitRepository flux-system and the commit's Kustomizations has the spans' trace.
        var traced = 0
        for record in FluxCorrelationAgentTests.records(sink.requests) {
            let name = FluxCorrelationAgentTests.attribute(record.attributes, "name")
            let kind =
                FluxCorrelationAgentTests.attribute(record.attributes, "controllerKind")
                ?? FluxCorrelationAgentTests.attribute(record.attributes, "reconciler kind")
            let ofTheCommit =
                (kind == "GitRepository" && name == "flux-system")
                || (kind == "Kustomization" && ["flux-system", "apps", "infra-configs"].contains(name ?? ""))
            guard ofTheCommit else { continue }
            #expect(record.traceID == Self.traceID, "\(kind ?? "") \(name ?? "")")
            traced += 1
        }
        #expect(traced >= 12)

        // Spans: one trace, #1172 ids, the Kustomizations under the GitRepository, real durations.
        let spans = FluxCorrelationAgentTests.spans(sink.requests)
        let placed = spans.filter { $0.name != "already placed" }
        #expect(placed.count == 5)
        #expect(placed.allSatisfy { $0.traceID == Self.traceID })
        let git = try #require(placed.first { $0.name == "GitRepository: flux-system/flux-system" })
        #expect(git.spanID == FluxCorrelationState.spanID(uid: Self.gitUID, revision: Self.commit))
        #expect(git.parentSpanID.isEmpty)
        let apps = try #require(
            placed.first { $0.spanID == FluxCorrelationState.spanID(uid: Self.appsUID, revision: Self.commit) })
        #expect(apps.name == "Kustomization: flux-system/apps")
        #expect(apps.parentSpanID == git.spanID)
        #expect(abs(Self.duration(apps) - 16_803_347_112) <= 1_000_000, "the line read after the span still set it")
        let infra = try #require(placed.first { $0.name == "Kustomization: flux-system/infra-configs" })
        #expect(infra.spanID == FluxCorrelationState.spanID(uid: Self.infraUID, revision: Self.commit))
        #expect(infra.parentSpanID == git.spanID)
        #expect(abs(Self.duration(infra) - 2_350_981_127) <= 1_000_000)
        // apps' further events keep NC's ids, under apps' span.
        #expect(placed.filter { $0.parentSpanID == apps.spanID }.count == 2)

        // The span that came with a parent: exported exactly as it was sent.
        let sent = try OTLP.ExportTraceServiceRequest(decoding: parentedBytes)
        let original = try #require(sent.resourceSpans.first)
        let bodies = sink.requests.filter { $0.path == "/v1/traces" }.compactMap(\.body)
        let resourceBytes = OTLP.ExportTraceServiceRequest(resourceSpans: [original]).serializedBytes()
        #expect(parentedBytes == resourceBytes)
        #expect(bodies.contains { Self.contains($0, resourceBytes) }, "byte-identical in an export request")
        try await api.shutdown()
    }

    /// Whether `needle` occurs in `haystack`.
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
