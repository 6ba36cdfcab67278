public import Logging
public import OTLPJSON
public import Pipeline

/// List, then watch, a collection for as long as the task runs: an informer without a cache. The caller
/// gets the full list (``Update/listed(_:)``: replace what you hold) and then every ADDED, MODIFIED and
/// DELETED event; bookmarks, resumption after a dropped watch, re-lists after 410 Gone and back-off with
/// jitter are handled here, decided by ``ListWatchStateMachine``.
public struct ListWatch: Sendable {
    public enum Update: Sendable, Equatable {
        /// The whole collection as of `list.resourceVersion`; everything held before is replaced. With
        /// `pages`, the items came before as ``page(_:first:)`` and `list.items` is empty.
        case listed(KubernetesList)
        /// One page of a list being read (only with `pages`): `first` starts a new list (drop the pages of
        /// a list that failed halfway); ``listed(_:)`` ends it.
        case page([JSONValue], first: Bool)
        /// ADDED, MODIFIED or DELETED (DELETED carries the object's last state).
        case event(WatchEvent)
    }

    let client: KubernetesClient
    let path: String
    let query: [(String, String)]
    let pageSize: Int
    let pages: Bool
    let backoff: ListWatchStateMachine.Backoff
    let clock: TimerClock
    let jitter: @Sendable () -> Double
    let logger: Logger

    /// - Parameters:
    ///   - path: the collection (`/api/v1/namespaces/flux-system/pods`, `/apis/<group>/<version>/<resource>`).
    ///   - query: selectors sent with both list and watch.
    ///   - pages: hand over each list page as it arrives (``Update/page(_:first:)``), so that a caller that
    ///     keeps only what it needs of each item never holds a large list decoded all at once.
    ///   - clock: the back-off's clock (tests advance a manual one).
    ///   - jitter: a random number in [0, 1) per back-off and per watch timeout.
    public init(
        client: KubernetesClient, path: String, query: [(String, String)] = [], pageSize: Int = 500,
        pages: Bool = false, backoff: ListWatchStateMachine.Backoff = .init(), clock: TimerClock = .continuous,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, logger: Logger
    ) {
        self.client = client
        self.path = path
        self.query = query
        self.pageSize = pageSize
        self.pages = pages
        self.backoff = backoff
        self.clock = clock
        self.jitter = jitter
        self.logger = logger
    }

    /// Runs until the task is cancelled, calling `handle` in order, one update at a time.
    public func run(_ handle: (Update) async -> Void) async {
        var machine = ListWatchStateMachine(backoff: backoff)
        while !Task.isCancelled {
            do {
                switch machine.step {
                case .list where pages:
                    var first = true
                    let resourceVersion = try await client.list(path: path, query: query, pageSize: pageSize) {
                        await handle(.page($0, first: first))
                        first = false
                    }
                    machine.listed(resourceVersion: resourceVersion)
                    await handle(.listed(KubernetesList(items: [], resourceVersion: resourceVersion)))
                case .list:
                    let list = try await client.list(path: path, query: query, pageSize: pageSize)
                    machine.listed(resourceVersion: list.resourceVersion)
                    await handle(.listed(list))
                case .watch(let resourceVersion):
                    var events = 0
                    // client-go's choice: a random watch timeout in [5, 10) minutes spreads the re-watches.
                    let timeout = 300 + Int(jitter() * 300)
                    try await client.watch(
                        path: path, query: query, resourceVersion: resourceVersion, timeoutSeconds: timeout
                    ) { event in
                        events += 1
                        switch event.type {
                        case .error: throw event.error ?? .invalidResponse("ERROR event")
                        case .bookmark: break
                        case .added, .modified, .deleted:
                            // A Status where the object belongs: the server failed, whatever the type says.
                            if let error = event.statusError { throw error }
                            await handle(.event(event))
                        }
                        machine.observed(resourceVersion: event.resourceVersion)
                    }
                    // Ended by the server: watch again from the last resourceVersion. An empty watch that
                    // ended at once counts as a failure, so a server that closes at once is not hammered.
                    if events == 0 {
                        try await wait(machine.failed(.other(retryAfter: nil), at: clock.now(), jitter: jitter()))
                    }
                }
            } catch {
                if Task.isCancelled || error is CancellationError { return }
                let failure = ListWatchStateMachine.Failure(error)
                let delay = machine.failed(failure, at: clock.now(), jitter: jitter())
                logger.warning(
                    "Kubernetes list/watch failed; \(failure == .gone ? "listing again" : "retrying")",
                    metadata: ["k8s.api.path": "\(path)", "error": "\(error)", "retry_in": "\(delay)"])
                do { try await wait(delay) } catch { return }
            }
        }
    }

    private func wait(_ delay: Duration) async throws {
        if delay > .zero { try await clock.sleep(for: delay) }
    }
}
