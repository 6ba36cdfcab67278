import Synchronization

/// Tells waiters which port a listener bound (useful with port 0), or that binding failed.
/// Shared by every server of the agent (telemetry, receivers) so readiness waits the same way.
public final class ListenerReadiness: Sendable {
    private let state = Mutex<(done: Bool, port: Int?, waiters: [CheckedContinuation<Int?, Never>])>((false, nil, []))

    public init() {}

    /// The listener is bound to `port`.
    public func bound(_ port: Int) { finish(port) }

    /// The listener could not bind; waiters get nil.
    public func failed() { finish(nil) }

    /// The bound port, if the listener is up now (nil before binding, after a failure).
    public var port: Int? { state.withLock { $0.port } }

    /// The bound port once the listener is up, or nil if it failed.
    public func wait() async -> Int? {
        await withCheckedContinuation { continuation in
            let ready: Int?? = state.withLock { state in
                if state.done { return .some(state.port) }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func finish(_ port: Int?) {
        let waiters = state.withLock { state in
            guard !state.done else { return [CheckedContinuation<Int?, Never>]() }
            state.done = true
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }
}
