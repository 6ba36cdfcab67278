public import Pipeline
import Synchronization

/// Records the acknowledgements; tests await them (`waitFor`), nothing polls.
public final class AckLog: Sendable {
    public init() {}

    private let state = Mutex<
        (outcomes: [DeliveryOutcome], waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)])
    >(([], []))
    public var ack: Acknowledgement {
        Acknowledgement { outcome in
            let woken = self.state.withLock { state in
                state.outcomes.append(outcome)
                let count = state.outcomes.count
                let woken = state.waiters.filter { $0.count <= count }.map(\.continuation)
                state.waiters.removeAll { $0.count <= count }
                return woken
            }
            for waiter in woken { waiter.resume() }
        }
    }
    public var all: [DeliveryOutcome] { state.withLock { $0.outcomes } }

    /// Waits until `count` acknowledgements came, bounded by the kit's patience (a hang fails).
    public func waitFor(_ count: Int) async throws {
        _ = try await awaitBounded("\(count) acknowledgements (have \(all.count))") { [self] in
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.outcomes.count >= count { return true }
                    state.waiters.append((count, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        }
    }
}
