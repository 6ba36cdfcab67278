import FluxtelTestSupport
import Kubernetes
import Logging
import OTLPJSON
import Synchronization
import Testing

/// Answers a broken or hostile API server sends (truncated JSON, a 2 GB chunk length, deep nesting, unknown
/// event types, a Status where an object belongs): a thrown error for the client and, for ListWatch, a
/// logged warning and a retry after a back-off, never a crash.
@Suite struct HostileAnswersTests {
    typealias Answer = FakeKubernetesHostileAnswer

    static var listAnswers: [Answer] { Answer.all.filter { !$0.watch } }

    // MARK: the client

    @Test(arguments: listAnswers)
    func aHostileListAnswerIsAThrownError(_ answer: Answer) async throws {
        let api = try await FakeKubernetesAPI.start()
        try api.load(listFile: Fixtures.url("list/kustomizations.json"), in: Fixtures.kustomizations)
        api.answerNext(raw: answer.raw, uriContains: "kustomizations", watch: false)
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        let error = await #expect(throws: (any Error).self) { try await client.list(path: Fixtures.kustomizations) }
        if !answer.says.isEmpty {
            #expect("\(String(describing: error))".contains(answer.says))
        }
        // The next answer is a good one again.
        #expect(try await client.list(path: Fixtures.kustomizations).items.count == 8)
        await client.shutdown()
        try await api.shutdown()
    }

    @Test func aStatusInAWatchEventIsItsError() throws {
        let event = try Array((#"{"type":"MODIFIED","object":"# + Answer.status + "}").utf8).withUnsafeBufferPointer {
            try WatchEvent(line: $0)
        }
        #expect(event.error == nil)
        #expect("\(String(describing: event.statusError))".contains("etcdserver: request timed out"))
        let good = try Array(Answer.bookmark.utf8.dropLast()).withUnsafeBufferPointer { try WatchEvent(line: $0) }
        #expect(good.statusError == nil)
    }

    // MARK: ListWatch

    final class Listed: Sendable {
        let count = Mutex(0)
    }

    /// After the hostile answer: one warning naming the collection and the error, a back-off, and the loop
    /// goes on (lists, then watches) against the next, good answers.
    @Test(arguments: Answer.all)
    func listWatchLogsBacksOffAndGoesOn(_ answer: Answer) async throws {
        let api = try await FakeKubernetesAPI.start()
        try api.load(listFile: Fixtures.url("list/kustomizations.json"), in: Fixtures.kustomizations)
        api.answerNext(raw: answer.raw, uriContains: "kustomizations", watch: answer.watch)
        let client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        let logs = LogRecorder()
        let clock = ManualClock(autoAdvance: true)
        let listed = Listed()
        let loop = ListWatch(
            client: client, path: Fixtures.kustomizations, clock: clock.clock, jitter: { 0.5 },
            logger: logs.logger())
        let task = Task {
            await loop.run { update in
                if case .listed = update { listed.count.withLock { $0 += 1 } }
            }
        }
        let watches = { api.requests.filter { $0.path == Fixtures.kustomizations && $0.isWatch }.count }
        #expect(
            await eventually {
                listed.count.withLock { $0 } == 1 && api.openWatches == 1 && watches() == (answer.watch ? 2 : 1)
            }
        )
        task.cancel()
        await task.value
        await client.shutdown()
        try await api.shutdown()

        let warnings = logs.entries.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["k8s.api.path"] == Fixtures.kustomizations)
        if !answer.says.isEmpty {
            #expect(warnings.first?.metadata["error"]?.contains(answer.says) == true)
        }
        // The first failure waits half to all of the initial 800 ms (jitter 0.5: 600 ms), not zero.
        #expect(clock.sleeps == [.milliseconds(600)])
        // A failed watch resumes without a re-list; a failed list lists again.
        let lists = api.requests.filter { $0.path == Fixtures.kustomizations && !$0.isWatch }.count
        #expect(lists == (answer.watch ? 1 : 2))
    }
}
