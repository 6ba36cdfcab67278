import Synchronization

/// Counts the parts of one chunk still in the pipeline; calls the source's acknowledgement once,
/// with the worst outcome of its parts, when the last part completes.
final class AckGroup: Sendable {
    private let acknowledgement: Acknowledgement
    private let state = Mutex<(pending: Int, worst: DeliveryOutcome)>((0, .exported))

    init(_ acknowledgement: Acknowledgement) { self.acknowledgement = acknowledgement }

    func expect(_ parts: Int) { state.withLock { $0.pending = parts } }

    func complete(_ outcome: DeliveryOutcome) {
        let done: DeliveryOutcome? = state.withLock { state in
            state.pending -= 1
            if outcome.severity > state.worst.severity { state.worst = outcome }
            return state.pending == 0 ? state.worst : nil
        }
        if let done { acknowledgement(done) }
    }
}

extension DeliveryOutcome {
    var severity: Int {
        switch self {
        case .exported: 0
        case .rejected: 1
        case .failed: 2
        case .persisted: 0
        }
    }
}
