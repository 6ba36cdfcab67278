import FluxObjects
import FluxtelTestSupport
import Testing

/// The source against an API server that answers the Kustomizations with garbage before it answers well:
/// each hostile answer is a logged warning and a retry after a back-off, nothing is lost once the answers
/// are good again, and the agent never crashes.
@Suite struct FluxObjectsReceiverHostileTests {
    typealias Support = FluxObjectsReceiverTests
    typealias Answer = FakeKubernetesHostileAnswer
    static let kustomizations = "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"

    @Test func hostileAnswersAreLoggedAndRetriedAndNothingIsLost() async throws {
        let api = try await Support.cluster()
        // The lists of the watch (500 a page; API discovery asks for 1), then its watches, in this order.
        let lists: [Answer] = [.truncatedList, .deepList, .statusAsList]
        let watches: [Answer] = [.twoGBChunk, .unknownEventType, .statusInEvent, .deepEvent]
        for answer in lists { api.answerNext(raw: answer.raw, uriContains: Self.kustomizations + "?limit=500") }
        for answer in watches { api.answerNext(raw: answer.raw, uriContains: Self.kustomizations, watch: true) }
        let clock = ManualClock()
        let sink = Support.Sink()
        let logs = LogRecorder()
        let receiver = try Support.receiver(api, clock: clock, sink: sink, logger: logs.logger())
        let run = Task { try await receiver.run() }
        func warnings() -> [LogRecorder.Entry] {
            logs.entries.filter { $0.level == .warning && $0.metadata["k8s.api.path"] == Self.kustomizations }
        }
        func requests(watch: Bool) -> Int {
            api.requests.filter { $0.path == Self.kustomizations && $0.isWatch == watch && $0.query["limit"] != "1" }
                .count
        }

        // The first answer fails; the retry waits for the back-off (the manual clock has not moved).
        #expect(await eventually { warnings().count == 1 })
        #expect(requests(watch: false) == 1)
        // Moving the clock on, every hostile answer in turn, then a good list and a watch that stays open.
        #expect(
            await eventually {
                clock.advance(by: .seconds(1))
                return requests(watch: true) == watches.count + 1 && api.openWatches == 15
            })
        #expect(requests(watch: false) == lists.count + 1)
        let said = warnings().map { $0.metadata["error"] ?? "" }
        #expect(said.count == lists.count + watches.count)
        for answer in lists + watches where !answer.says.isEmpty {
            #expect(said.contains { $0.contains(answer.says) }, "\(answer)")
        }

        // Nothing lost: the first state write holds every object, label for label.
        #expect(await eventually { sink.metricRequests.count >= 1 })
        let expected = try KubeStateMetricsParityTests.expectedSeries(try KubeStateMetricsParityTests.configRules())
        #expect(Support.info(try #require(sink.metricRequests.first)).live == expected)

        // An object of an unknown kind in the Kustomizations' watch is said and left out.
        try api.put(
            json: #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"flux-system","uid":"s1"}}"#,
            in: Self.kustomizations)
        #expect(await eventually { warnings().contains { $0.message.contains("not Kustomization objects") } })
        #expect(receiver.objectCount == 31)
        run.cancel()
        try? await run.value
        try await api.shutdown()
    }
}
