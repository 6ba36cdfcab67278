import Synchronization

/// Liveness and readiness as the probes see them.
public final class HealthState: Sendable {
    private let ready = Atomic<Bool>(false)
    public init() {}
    /// Set once every service has started (sockets bound); cleared when shutdown begins.
    public var isReady: Bool {
        get { ready.load(ordering: .acquiring) }
        set { ready.store(newValue, ordering: .releasing) }
    }
}
