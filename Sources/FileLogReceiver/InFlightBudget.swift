import Synchronization

/// Bounds the bytes the file tailer has handed to the pipeline and not yet seen acknowledged.
///
/// The file is the buffer: records read ahead of the exporter only take memory (and queue space the
/// OTLP and Prometheus receivers share) without getting anything out sooner. The agent allows one
/// batch plus up to 1 MiB of the next: the exporter stays busy most of the time while a backlog is
/// caught up, and a burst of log lines can no longer fill the whole queue and answer Flux's spans with 429.
///
/// One waiter at most (the tailer is one task); a chunk larger than the whole budget still passes
/// when nothing else is held, so an over-long record can never stall a file.
final class InFlightBudget: Sendable {
    let limit: Int
    private let state = Mutex<State>(State())

    private struct State {
        var held = 0
        var waiter: (bytes: Int, continuation: CheckedContinuation<Void, any Error>)?
    }

    init(limit: Int) { self.limit = max(1, limit) }

    /// Bytes currently held (handed over, not yet acknowledged).
    var held: Int { state.withLock { $0.held } }

    private static func fits(_ bytes: Int, _ held: Int, _ limit: Int) -> Bool { held == 0 || held + bytes <= limit }

    /// Takes `bytes` of the budget, waiting until acknowledgements free enough. Throws `CancellationError`
    /// when the calling task is cancelled meanwhile (nothing was taken then).
    func acquire(_ bytes: Int) async throws {
        let limit = self.limit
        if state.withLock({ state -> Bool in
            guard Self.fits(bytes, state.held, limit) else { return false }
            state.held += bytes
            return true
        }) {
            return
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case wait, taken, cancelled }
                let now: Now = state.withLock { state in
                    if Task.isCancelled { return .cancelled }
                    if Self.fits(bytes, state.held, limit) {
                        state.held += bytes
                        return .taken
                    }
                    precondition(state.waiter == nil, "InFlightBudget has one waiter at most")
                    state.waiter = (bytes, continuation)
                    return .wait
                }
                switch now {
                case .wait: break
                case .taken: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives `bytes` back (an acknowledgement arrived, or the hand-over failed); wakes the waiter when it now fits.
    func release(_ bytes: Int) {
        let limit = self.limit
        let woken: CheckedContinuation<Void, any Error>? = state.withLock { state in
            state.held = max(0, state.held - bytes)
            guard let waiter = state.waiter, Self.fits(waiter.bytes, state.held, limit) else { return nil }
            state.held += waiter.bytes
            state.waiter = nil
            return waiter.continuation
        }
        woken?.resume()
    }
}
