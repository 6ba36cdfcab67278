import FluxObjects
import FluxtelConfig
import FluxtelTestSupport
import Kubernetes
import Logging
import OTLPJSON
import Testing

/// One writer among several agents, against a fake API server's Leases. Each candidate has its own
/// manual clock (its own process), so a test can stop one agent's time — a frozen or killed process —
/// while the others go on; every step waits for the candidates' rounds, never for time to pass.
struct LeaderElectorTests {
    struct Candidate {
        let elector: LeaderElector
        let clock: ManualClock
        let task: Task<Void, Never>
    }

    static let retry = Duration.seconds(2)
    /// More than a follower's sleep (retry period plus up to 1.2 × of it as jitter).
    static let step = Duration.seconds(5)

    static func start(_ api: FakeKubernetesAPI, _ name: String) async throws -> Candidate {
        let clock = ManualClock()
        let elector = LeaderElector(
            client: KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL)),
            config: LeaderElectionConfiguration(), namespace: "fluxtel", identity: name, clock: clock.clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { await elector.run() }
        try await clock.waitForSleeps(1)  // its first round is done
        return Candidate(elector: elector, clock: clock, task: task)
    }

    /// One more round of each candidate.
    static func round(_ candidates: [Candidate], by duration: Duration = step) async throws {
        for candidate in candidates {
            let done = candidate.clock.sleeps.count
            candidate.clock.advance(by: duration)
            try await candidate.clock.waitForSleeps(done + 1)
        }
    }

    static func holder(_ api: FakeKubernetesAPI) -> String? {
        api.object(namespace: "fluxtel", name: "fluxtel-flux-objects", in: "/apis/coordination.k8s.io/v1/leases")?[
            "spec"]?["holderIdentity"]?.string
    }

    @Test func oneLeaderAFrozenLeaderIsReplacedAndAReleasedLeaseIsTakenAtOnce() async throws {
        let api = try await FakeKubernetesAPI.start()
        let candidates = [
            try await Self.start(api, "a"), try await Self.start(api, "b"), try await Self.start(api, "c"),
        ]
        defer { for candidate in candidates { candidate.task.cancel() } }
        // The first to create the Lease leads; the others follow it.
        #expect(candidates.filter(\.elector.isLeading).map(\.elector.identity) == ["a"])
        #expect(Self.holder(api) == "a")
        try await Self.round(candidates)
        #expect(candidates.filter(\.elector.isLeading).map(\.elector.identity) == ["a"])

        // "a" stops (its clock and task frozen, like SIGSTOP or kill -9: no release). The others see the
        // Lease unchanged for one lease duration by their own clocks, then exactly one takes it.
        let others = Array(candidates.dropFirst())
        var rounds = 0
        while Self.holder(api) == "a", rounds < 10 {
            try await Self.round(others)
            rounds += 1
        }
        // 15 s of lease at 5 s a round: the takeover comes within four rounds (20 s).
        #expect(rounds <= 4)
        let leaders = others.filter(\.elector.isLeading)
        #expect(leaders.count == 1)
        #expect(Self.holder(api) == leaders.first?.elector.identity)
        try await Self.round(others)
        #expect(others.filter(\.elector.isLeading).count == 1)

        // The old leader wakes up: it sees another holder and does not write.
        try await Self.round([candidates[0]])
        #expect(!candidates[0].elector.isLeading)
        #expect(Self.holder(api) == leaders.first?.elector.identity)
    }

    @Test func aLeaderThatCannotRenewStopsBeforeItsLeaseRunsOut() async throws {
        let api = try await FakeKubernetesAPI.start()
        let leader = try await Self.start(api, "a")
        defer { leader.task.cancel() }
        #expect(leader.elector.isLeading)
        // Every Lease request fails from now on.
        api.failNext(1000, code: 500, pathContains: "leases")
        var elapsed = Duration.zero
        while leader.elector.isLeading, elapsed < .seconds(30) {
            try await Self.round([leader], by: Self.retry)
            elapsed += Self.retry
        }
        // Not leading once the renew deadline (10 s) passed, before the 15 s lease ran out.
        #expect(!leader.elector.isLeading)
        #expect(elapsed >= .seconds(10) && elapsed < .seconds(15))
    }

    @Test func aStoppedLeaderReleasesTheLease() async throws {
        let api = try await FakeKubernetesAPI.start()
        let leader = try await Self.start(api, "a")
        let follower = try await Self.start(api, "b")
        defer { follower.task.cancel() }
        #expect(leader.elector.isLeading && !follower.elector.isLeading)
        leader.task.cancel()
        await leader.task.value
        #expect(Self.holder(api) == "")
        // An empty holder is free at once: the next round takes it, no lease duration to wait.
        try await Self.round([follower])
        #expect(follower.elector.isLeading)
        #expect(Self.holder(api) == "b")
    }
}
