public import Pipeline
import Synchronization

/// A `TimerClock` the test moves by hand: timers (the pipeline's batch timeout, the exporter's
/// back-off) fire when the test calls ``advance(by:)``, never because wall time passed.
///
/// With `autoAdvance: true` every sleep returns at once, moving the clock to its deadline: a
/// back-off then costs no wall time and ``sleeps`` tells how long each would have been.
public final class ManualClock: Sendable {
    private struct Sleeper {
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State: ~Copyable {
        var now: ContinuousClock.Instant
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        /// Every sleep asked for, as a duration from the instant it was asked.
        var sleeps: [Duration] = []
        var waiters = ConditionWaiters<Int>()
    }

    private let state: Mutex<State>
    private let autoAdvance: Bool

    public init(autoAdvance: Bool = false) {
        self.autoAdvance = autoAdvance
        state = Mutex(State(now: .now))
    }

    /// The clock to inject (`Pipeline(clock:)`, `OTLPHTTPExporter(backoffClock:)`).
    public var clock: TimerClock {
        TimerClock(now: { [self] in now }, sleepUntil: { [self] deadline in try await sleep(until: deadline) })
    }

    public var now: ContinuousClock.Instant { state.withLock { $0.now } }

    /// Every sleep asked for so far, in order (duration from the moment it was asked).
    public var sleeps: [Duration] { state.withLock { $0.sleeps } }

    /// Sleeps that have not been woken yet.
    public var pendingSleepers: Int { state.withLock { $0.sleepers.count } }

    /// Moves the clock forward and wakes every sleeper whose deadline is reached.
    public func advance(by duration: Duration) {
        let woken: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.map(\.value.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Waits until `count` sleeps in total were asked for (the component reached its timer), at
    /// most `timeout` (scaled), which only catches a hang.
    public func waitForSleeps(_ count: Int, within timeout: Duration = .seconds(60)) async throws {
        try await waitBounded(
            { "no \(count) sleeps on the manual clock (\(self.sleeps.count) so far)" }, within: timeout,
            makeID: { state.withLock { $0.waiters.makeID() } },
            register: { id, continuation in
                state.withLock { state in
                    if state.sleeps.count >= count { return true }
                    state.waiters.add(id, { $0 >= count }, continuation)
                    return false
                }
            },
            remove: { [self] id in state.withLock { $0.waiters.remove(id) } })
    }

    private func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id: UInt64 = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case wait, done, cancelled }
                let (now, waiters): (Now, [CheckedContinuation<Void, any Error>]) = state.withLock { state in
                    if Task.isCancelled { return (.cancelled, []) }
                    state.sleeps.append(deadline - state.now)
                    let woken = state.waiters.takeSatisfied(state.sleeps.count)
                    if autoAdvance, deadline > state.now { state.now = deadline }
                    if deadline <= state.now { return (.done, woken) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (.wait, woken)
                }
                for waiter in waiters { waiter.resume() }
                switch now {
                case .wait: break
                case .done: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}
