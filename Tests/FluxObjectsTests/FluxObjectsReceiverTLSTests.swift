import FluxObjects
import FluxtelTestSupport
import Foundation
import Testing

/// The source against an https API server that requires a bearer token, with `token_path` and `ca_path`
/// files as a pod's service account has them: the whole way the agent talks to a real cluster.
@Suite struct FluxObjectsReceiverTLSTests {
    typealias Support = FluxObjectsReceiverTests

    /// An https fake API server that accepts only `cluster-token`, and a receiver reading `tokenFile`'s
    /// text from `token_path` and the test CA from `ca_path`, as a pod's service account has them.
    static func start(
        tokenFile: String, logs: LogRecorder? = nil
    ) async throws -> (TestCertificates, FakeKubernetesAPI, ManualClock, Support.Sink, FluxObjectsReceiver) {
        let pki = try TestCertificates.generate()
        let api = try await Support.cluster(certificates: pki)
        api.requireToken("cluster-token")
        let token = pki.directory.appendingPathComponent("token")
        try tokenFile.write(to: token, atomically: true, encoding: .utf8)
        let clock = ManualClock()
        let sink = Support.Sink()
        let receiver = try Support.receiver(
            api, clock: clock, sink: sink, tokenPath: token.path, caPath: pki.caCertificate,
            logger: logs?.logger() ?? Support.logger)
        return (pki, api, clock, sink, receiver)
    }

    @Test func objectsAndEventsArriveOverTLSWithTheBearerToken() async throws {
        let (pki, api, _, sink, receiver) = try await Self.start(tokenFile: "cluster-token\n")
        defer { pki.remove() }
        let run = Task { try await receiver.run() }

        #expect(await eventually { sink.metricRequests.count == 1 })
        let expected = try KubeStateMetricsParityTests.expectedSeries(try KubeStateMetricsParityTests.configRules())
        #expect(Support.info(try #require(sink.metricRequests.first)).live == expected)
        #expect(await eventually { sink.logRecords.count == 24 })
        run.cancel()
        try? await run.value
        try await api.shutdown()
        #expect(api.baseURL.hasPrefix("https://"))
        #expect(api.requests.count > 15)
        #expect(api.requests.allSatisfy { $0.authorization == "Bearer cluster-token" })
    }

    @Test func aWrongTokenIsALoggedErrorAndNoPoints() async throws {
        let logs = LogRecorder()
        let (pki, api, clock, sink, receiver) = try await Self.start(tokenFile: "an-old-token", logs: logs)
        defer { pki.remove() }
        let run = Task { try await receiver.run() }

        // Refused (TLS works: the requests reach the server), said, and tried again: the API discovery every
        // 5 s, the Events list after its back-off. Past two write intervals, nothing was written.
        func discoveries() -> Int { api.requests.filter { $0.path.hasPrefix("/apis/source.toolkit") }.count }
        #expect(
            await eventually {
                clock.advance(by: .seconds(5))
                return discoveries() >= 13
            })
        run.cancel()
        try? await run.value
        try await api.shutdown()
        #expect(api.requests.allSatisfy { $0.authorization == "Bearer an-old-token" })
        let refused = logs.entries.filter {
            $0.level >= .warning && $0.metadata["error"]?.contains("HTTP 401 Unauthorized") == true
                && $0.metadata["error"]?.contains("does not accept the bearer token of token_path") == true
        }
        #expect(refused.contains { $0.message.contains("cannot discover the Flux API groups") })
        #expect(refused.contains { $0.metadata["k8s.api.path"] == "/apis/events.k8s.io/v1/events" })
        #expect(sink.all.isEmpty)
        #expect(receiver.objectCount == 0)
    }
}
