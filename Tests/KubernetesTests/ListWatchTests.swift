import FluxtelTestSupport
import Kubernetes
import Logging
import OTLPJSON
import Synchronization
import Testing

/// The list-then-watch loop against the fake API server. The back-off runs on a manual clock that
/// advances by itself: no test waits for wall time, and `clock.sleeps` tells each wait it chose.
@Suite struct ListWatchTests {
    /// A running `ListWatch` over the fixture Kustomizations and what it delivered.
    final class Harness: Sendable {
        let api: FakeKubernetesAPI
        let client: KubernetesClient
        let clock: ManualClock
        let updates = Mutex<[ListWatch.Update]>([])
        let task = Mutex<Task<Void, Never>?>(nil)

        /// - Parameter autoAdvance: false to hold the loop in its back-off until the test advances the clock.
        init(autoAdvance: Bool = true) async throws {
            clock = ManualClock(autoAdvance: autoAdvance)
            api = try await FakeKubernetesAPI.start()
            try api.load(listFile: Fixtures.url("list/kustomizations.json"), in: Fixtures.kustomizations)
            client = KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL))
        }

        /// List requests the server had seen when each page was handed over.
        let requestsAtPage = Mutex<[Int]>([])

        func start(pages: Bool = false) {
            let loop = ListWatch(
                client: client, path: Fixtures.kustomizations, pageSize: 5, pages: pages, clock: clock.clock,
                jitter: { 0.5 }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            task.withLock {
                $0 = Task { [self] in
                    await loop.run { update in
                        if case .page = update {
                            let seen = api.requests.filter { $0.path == Fixtures.kustomizations && !$0.isWatch }.count
                            requestsAtPage.withLock { $0.append(seen) }
                        }
                        updates.withLock { $0.append(update) }
                    }
                }
            }
        }

        func stop() async throws {
            let task = task.withLock { $0 }
            task?.cancel()
            await task?.value
            await client.shutdown()
            try await api.shutdown()
        }

        var lists: [KubernetesList] {
            updates.withLock { $0.compactMap { if case .listed(let list) = $0 { list } else { nil } } }
        }
        var events: [WatchEvent] {
            updates.withLock { $0.compactMap { if case .event(let event) = $0 { event } else { nil } } }
        }
        /// The list requests (first pages only: one per list).
        var listRequests: [FakeKubernetesAPI.Request] {
            api.requests.filter { $0.path == Fixtures.kustomizations && !$0.isWatch && $0.query["continue"] == nil }
        }
        var watchRequests: [FakeKubernetesAPI.Request] {
            api.requests.filter { $0.path == Fixtures.kustomizations && $0.isWatch }
        }

        /// Sets `status.observedGeneration` of a fixture Kustomization (a MODIFIED event).
        @discardableResult
        func modify(_ name: String, generation: Int) -> Int {
            var object = api.object(namespace: "flux-system", name: name, in: Fixtures.kustomizations)!
            object["status"]?["observedGeneration"] = .number(Double(generation))
            return api.put(object, in: Fixtures.kustomizations)
        }
    }

    @Test func listsThenStreamsEventsFromTheListsResourceVersion() async throws {
        let h = try await Harness()
        h.start()
        #expect(await eventually { h.lists.count == 1 && h.api.openWatches == 1 })
        #expect(h.lists.first?.items.count == 8)
        let rv = h.modify("apps", generation: 3)
        #expect(await eventually { h.events.count == 1 })
        try await h.stop()
        #expect(h.events.first?.type == .modified)
        #expect(h.events.first?.resourceVersion == "\(rv)")
        #expect(h.watchRequests.first?.query["resourceVersion"] == "483571")
        #expect(h.watchRequests.first?.query["allowWatchBookmarks"] == "true")
    }

    /// With `pages`, each page is handed over before the next is asked for (no list is held decoded whole),
    /// then `.listed` with the list's resourceVersion ends it.
    @Test func pagesArriveOneAtATimeThenListedEndsTheList() async throws {
        let h = try await Harness()
        h.start(pages: true)
        #expect(await eventually { h.lists.count == 1 && h.api.openWatches == 1 })
        try await h.stop()
        let pages = h.updates.withLock {
            $0.compactMap { if case .page(let items, let first) = $0 { (items.count, first) } else { nil } }
        }
        #expect(pages.map(\.0) == [5, 3])
        #expect(pages.map(\.1) == [true, false])
        #expect(h.requestsAtPage.withLock { $0 } == [1, 2])
        #expect(h.lists.first?.items.isEmpty == true)
        #expect(h.lists.first?.resourceVersion == "483571")
        #expect(h.watchRequests.first?.query["resourceVersion"] == "483571")
    }

    @Test func aDroppedWatchResumesFromTheLastResourceVersionWithoutAReList() async throws {
        let h = try await Harness(autoAdvance: false)
        h.start()
        #expect(await eventually { h.api.openWatches == 1 })
        let first = h.modify("apps", generation: 3)
        #expect(await eventually { h.events.count == 1 })
        h.api.dropWatches()
        try await h.clock.waitForSleeps(1)
        // A change while no watch is open arrives through the resumed watch.
        h.modify("infra-configs", generation: 4)
        h.clock.advance(by: .seconds(60))
        #expect(await eventually { h.events.count == 2 })
        try await h.stop()
        #expect(h.listRequests.count == 1)
        #expect(h.watchRequests.count == 2)
        #expect(h.watchRequests.last?.query["resourceVersion"] == "\(first)")
        #expect(h.events.last?.object["metadata"]?["name"]?.string == "infra-configs")
    }

    @Test func aWatchTheServerEndsIsResumedWithoutAReList() async throws {
        let h = try await Harness()
        h.start()
        #expect(await eventually { h.api.openWatches == 1 })
        let rv = h.modify("apps", generation: 3)
        #expect(await eventually { h.events.count == 1 })
        h.api.endWatches()
        #expect(await eventually { h.watchRequests.count == 2 && h.api.openWatches == 1 })
        try await h.stop()
        #expect(h.watchRequests.last?.query["resourceVersion"] == "\(rv)")
        #expect(h.listRequests.count == 1)
        #expect(h.clock.sleeps.isEmpty)  // a watch that delivered events and ended is renewed at once
    }

    @Test func bookmarksMoveTheResourceVersionToResumeFrom() async throws {
        let h = try await Harness()
        h.start()
        #expect(await eventually { h.api.openWatches == 1 })
        // A change elsewhere moves the server's resourceVersion; the bookmark tells the watcher.
        let elsewhere = try h.api.put(
            json: #"{"kind":"GitRepository","metadata":{"name":"x","namespace":"flux-system"}}"#,
            in: Fixtures.gitRepositories)
        h.api.sendBookmarks()
        h.api.dropWatches()
        #expect(await eventually { h.watchRequests.count == 2 })
        try await h.stop()
        #expect(h.watchRequests.last?.query["resourceVersion"] == "\(elsewhere)")
        #expect(h.events.isEmpty)
        #expect(h.listRequests.count == 1)
    }

    @Test(arguments: [false, true])
    func goneReListsOnceAndMissesNoChange(asStatus: Bool) async throws {
        let h = try await Harness(autoAdvance: false)
        h.api.setGoneAsStatus(asStatus)
        h.start()
        #expect(await eventually { h.api.openWatches == 1 })
        h.api.dropWatches()
        try await h.clock.waitForSleeps(1)
        // While disconnected: a change, then the history is compacted away.
        h.modify("tenants", generation: 9)
        h.api.compact()
        #expect(
            await eventually {
                h.clock.advance(by: .seconds(60))
                return h.lists.count == 2 && h.api.openWatches == 1
            })
        try await h.stop()
        #expect(h.listRequests.count == 2)
        let tenants = h.lists.last?.items.first { $0["metadata"]?["name"]?.string == "tenants" }
        #expect(tenants?["status"]?["observedGeneration"]?.int == 9)
        #expect(h.watchRequests.last?.query["resourceVersion"] == "\(h.api.resourceVersion)")
    }

    @Test func retryAfterIsHonoured() async throws {
        let h = try await Harness()
        h.api.failNext(code: 429, reason: "TooManyRequests", retryAfter: 7, pathContains: "kustomizations")
        h.start()
        #expect(await eventually { h.lists.count == 1 })
        try await h.stop()
        #expect(h.clock.sleeps.first == .seconds(7))
        #expect(h.listRequests.count == 2)
    }
}
