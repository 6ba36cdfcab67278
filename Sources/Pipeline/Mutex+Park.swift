public import Synchronization

extension Mutex where Value: ~Copyable {
    /// Parks the calling task in a slot of the state until whoever wakes it takes the continuation out of
    /// the slot and resumes it; returns at once when `ready` holds (checked under the lock) or the task is
    /// cancelled. Cancellation takes the continuation back out of the slot and resumes it. `slot` hands
    /// its second argument the slot in the state it is given. How the pipeline's batch timer and the
    /// persistent queue's syncer wait for work.
    public func park(
        unless ready: (borrowing Value) -> Bool,
        in slot: @Sendable (inout Value, (inout CheckedContinuation<Void, Never>?) -> Void) -> Void
    ) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = withLock { value in
                    if ready(value) || Task.isCancelled { return true }
                    slot(&value) { $0 = continuation }
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = withLock { value in
                var taken: CheckedContinuation<Void, Never>?
                slot(&value) { swap(&taken, &$0) }
                return taken
            }
            waiter?.resume()
        }
    }
}
