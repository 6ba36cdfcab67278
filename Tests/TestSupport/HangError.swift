import Synchronization

/// Thrown by the test kit's waits when an event did not come within the hang bound
/// (`TestTime.patience`, or the given timeout scaled by `FLUXTEL_TEST_TIME_SCALE`). The bound only
/// catches a hang: a healthy component on a loaded machine always gets there long before.
public struct HangError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Awaits `operation` (e.g. `await task.value` after a cancel) and returns its result, or throws
/// `HangError` if it has not finished within `timeout` (scaled). The operation is not a
/// performance claim: only a hang fails. A hung operation is left running (its task is cancelled).
public func awaitBounded<T: Sendable>(
    _ what: String, within timeout: Duration = .seconds(60), _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let bound = TestTime.scaled(timeout)
    let slot = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let tasks = Mutex<[Task<Void, Never>]>([])
    defer { for task in tasks.withLock({ $0 }) { task.cancel() } }
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        slot.withLock { $0 = continuation }
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            slot.withLock { slot in
                defer { slot = nil }
                return slot
            }?.resume(with: result)
        }
        let work = Task {
            do { finish(.success(try await operation())) } catch { finish(.failure(error)) }
        }
        let timer = Task {
            guard (try? await Task.sleep(for: bound)) != nil else { return }
            finish(.failure(HangError("\(what): not done within \(bound)")))
            work.cancel()
        }
        tasks.withLock { $0 = [work, timer] }
    }
}

/// Continuations waiting for a condition on some state, each with a hang bound. The owner calls
/// `resumeSatisfied` (under its own lock) whenever its state changes.
struct ConditionWaiters<State>: ~Copyable {
    struct Waiter {
        var condition: @Sendable (State) -> Bool
        var continuation: CheckedContinuation<Void, any Error>
    }
    private var waiters: [UInt64: Waiter] = [:]
    private var nextID: UInt64 = 0

    init() {}

    mutating func makeID() -> UInt64 {
        nextID &+= 1
        return nextID
    }

    mutating func add(
        _ id: UInt64, _ condition: @escaping @Sendable (State) -> Bool,
        _ continuation: CheckedContinuation<Void, any Error>
    ) {
        waiters[id] = Waiter(condition: condition, continuation: continuation)
    }

    mutating func remove(_ id: UInt64) -> CheckedContinuation<Void, any Error>? {
        waiters.removeValue(forKey: id)?.continuation
    }

    /// Removes and returns the waiters whose condition now holds (resume them outside the lock).
    mutating func takeSatisfied(_ state: State) -> [CheckedContinuation<Void, any Error>] {
        guard !waiters.isEmpty else { return [] }
        let due = waiters.filter { $0.value.condition(state) }
        for id in due.keys { waiters[id] = nil }
        return due.map(\.value.continuation)
    }
}

/// Suspends until `register` stores the continuation (or resumes it at once), failing with
/// `HangError` after `timeout` (scaled): `remove` takes the continuation back by id.
func waitBounded(
    _ what: @escaping @Sendable () -> String, within timeout: Duration,
    makeID: () -> UInt64,
    register: (UInt64, CheckedContinuation<Void, any Error>) -> Bool,
    remove: @escaping @Sendable (UInt64) -> CheckedContinuation<Void, any Error>?
) async throws {
    let bound = TestTime.scaled(timeout)
    let id = makeID()
    let timer = Task {
        guard (try? await Task.sleep(for: bound)) != nil else { return }
        remove(id)?.resume(throwing: HangError("\(what()) (waited \(bound))"))
    }
    defer { timer.cancel() }
    try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            if register(id, continuation) { continuation.resume() }
        }
    } onCancel: {
        remove(id)?.resume(throwing: CancellationError())
    }
}
