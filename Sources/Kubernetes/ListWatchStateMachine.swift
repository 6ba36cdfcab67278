/// What a list-then-watch loop does next, as a value: list or watch from which resourceVersion, and how
/// long to wait after a failure. The policy of client-go's Reflector (FLUX-OBJECTS.md §8):
/// - list (a consistent read, paged), then watch from the list's resourceVersion;
/// - every event and BOOKMARK moves the resourceVersion; a watch that ends or drops resumes from it
///   (no re-list);
/// - 410 Gone (HTTP status, or an ERROR event with code 410) and 504 "Too large resource version" mean
///   a re-list; the first one in a quiet period re-lists at once;
/// - other failures back off exponentially (800 ms doubling to 30 s) with jitter, at least as long as a
///   `Retry-After`; the back-off starts over after 2 minutes without a failure.
public struct ListWatchStateMachine: Sendable {
    public enum Step: Sendable, Equatable {
        case list
        case watch(resourceVersion: String)
    }

    public enum Failure: Sendable, Equatable {
        /// The resourceVersion is too old: list again.
        case gone
        /// Anything else (network, 5xx, 429, 403, a malformed answer); `retryAfter` if the server sent one.
        case other(retryAfter: Duration?)

        /// The failure an error from the client stands for.
        public init(_ error: any Error) {
            switch error {
            case KubernetesError.gone: self = .gone
            // 504 with "Too large resource version": this server is behind the resourceVersion.
            case KubernetesError.failed(let status) where status.code == 504: self = .gone
            case let error as KubernetesError: self = .other(retryAfter: error.status?.retryAfter)
            default: self = .other(retryAfter: nil)
            }
        }
    }

    public struct Backoff: Sendable, Equatable {
        public var initial: Duration = .milliseconds(800)
        public var maximum: Duration = .seconds(30)
        /// A failure this long after the previous one starts the back-off over.
        public var resetAfter: Duration = .seconds(120)
        /// `Retry-After` is honoured up to this.
        public var maxRetryAfter: Duration = .seconds(300)

        public init() {}
    }

    public private(set) var step: Step = .list
    /// The last resourceVersion seen (list, event, bookmark); empty before the first list.
    public private(set) var resourceVersion = ""
    let backoff: Backoff
    private var failures = 0
    private var lastFailure: ContinuousClock.Instant?

    public init(backoff: Backoff = Backoff()) { self.backoff = backoff }

    /// A list (all pages) succeeded: watch from its resourceVersion.
    public mutating func listed(resourceVersion: String) {
        self.resourceVersion = resourceVersion
        step = .watch(resourceVersion: resourceVersion)
    }

    /// A watch event or BOOKMARK carried `resourceVersion`: a dropped watch resumes after it.
    public mutating func observed(resourceVersion: String) {
        guard !resourceVersion.isEmpty, case .watch = step else { return }
        self.resourceVersion = resourceVersion
        step = .watch(resourceVersion: resourceVersion)
    }

    /// A list or watch failed at `now`. Returns how long to wait before ``step``; `jitter` is a random
    /// number in [0, 1) (the wait is between half and all of the back-off).
    public mutating func failed(_ failure: Failure, at now: ContinuousClock.Instant, jitter: Double) -> Duration {
        if let lastFailure, lastFailure.duration(to: now) >= backoff.resetAfter { failures = 0 }
        let quiet = failures == 0
        failures += 1
        lastFailure = now
        var wait: Duration
        switch failure {
        case .gone:
            step = .list
            if quiet { return .zero }
            wait = backoffDelay(jitter: jitter)
        case .other(let retryAfter):
            wait = backoffDelay(jitter: jitter)
            if let retryAfter { wait = max(wait, min(retryAfter, backoff.maxRetryAfter)) }
        }
        return wait
    }

    private func backoffDelay(jitter: Double) -> Duration {
        var delay = backoff.initial
        for _ in 1..<failures where delay < backoff.maximum { delay *= 2 }
        delay = min(delay, backoff.maximum)
        return delay * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }
}
