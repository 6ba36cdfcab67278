import Synchronization

/// The shared `FluxCorrelationState`: the Flux object source writes it (every list and watch event), the
/// log tailer and the trace intake read it. Reads that cannot match (no Alert exports spans) cost one
/// atomic load and no lock.
public final class FluxCorrelation: Sendable {
    private struct Shared {
        var correlation = FluxCorrelationState()
        var spanTree = FluxSpanTree()
    }
    private let shared = Mutex(Shared())
    private let tracing = Atomic<Bool>(false)
    /// Called (outside the lock) when a reconcile duration was learned: the pipeline's `wakeHeld`.
    private let durationLearned = Mutex<(@Sendable () -> Void)?>(nil)

    public init() {}

    public func upsert(_ objects: [FluxCorrelatedObject]) {
        update { state in for object in objects { state.upsert(object) } }
    }

    public func delete(uids: [String]) {
        update { state in for uid in uids { state.delete(uid: uid) } }
    }

    /// A read of the whole state (tests, the span processor).
    public func withState<R>(_ body: (FluxCorrelationState) -> R) -> R {
        shared.withLock { body($0.correlation) }
    }

    /// Whether some Alert exports spans (nothing to correlate otherwise).
    public var isTracing: Bool { tracing.load(ordering: .relaxed) }

    /// A log line about the object `kind`/`namespace`/`name` (raw UTF-8 from the line), naming `revision`
    /// and saying `message`: learns its reconcile duration ("Reconciliation finished in …"), and answers
    /// its trace id (at `revision` when the line names one). nil when no otel Alert covers the object.
    public func line(
        kind: UnsafeRawBufferPointer, namespace: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer,
        revision: UnsafeRawBufferPointer?, message: UnsafeRawBufferPointer?
    ) -> [UInt8]? {
        guard isTracing else { return nil }
        let ref = FluxObjectRef(
            kind: String(decoding: kind, as: UTF8.self), namespace: String(decoding: namespace, as: UTF8.self),
            name: String(decoding: name, as: UTF8.self))
        let revision = revision.flatMap { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
        let duration = message.flatMap { GoDuration.reconcileDuration(message: $0) }
        let (traceID, learned) = shared.withLock { shared in
            let learned = duration.map { shared.correlation.recordDuration(ref, revision: revision, nanos: $0) }
            return (shared.correlation.traceID(for: ref, revision: revision), learned ?? false)
        }
        if learned, let wake = durationLearned.withLock({ $0 }) { wake() }
        return traceID
    }

    /// `body` runs whenever a reconcile duration is learned (after the lock is released): the pipeline lets
    /// in the spans that waited for it (`processors.hold`).
    public func whenDurationLearned(_ body: @escaping @Sendable () -> Void) {
        durationLearned.withLock { $0 = body }
    }

    /// The hold's question (`processors.hold`): does this trace request carry a Flux span that would take a
    /// reconcile duration not known yet (`FluxSpanTree.awaitsDuration`)? One atomic load when nothing is
    /// traced, a byte scan when the request names no `object.uid`.
    public func awaitsDuration(_ body: [UInt8]) -> Bool {
        guard isTracing, FluxSpanTree.mayHaveFluxSpans(body) else { return false }
        return shared.withLock { shared in
            let state = shared.correlation
            return shared.spanTree.awaitsDuration(
                body, state: state, duration: { state.duration(uid: $0, revision: $1) })
        }
    }

    /// Places Flux's parentless spans of a trace request in the tree (`FluxSpanTree`); nil: keep the bytes.
    public func rewriteSpans(_ body: [UInt8]) -> [UInt8]? {
        guard isTracing, FluxSpanTree.mayHaveFluxSpans(body) else { return nil }
        return shared.withLock { shared in
            let state = shared.correlation
            return try? shared.spanTree.rewrite(
                body, state: state, duration: { state.duration(uid: $0, revision: $1) })
        }
    }

    private func update(_ body: (inout FluxCorrelationState) -> Void) {
        shared.withLock { shared in
            body(&shared.correlation)
            tracing.store(shared.correlation.tracing, ordering: .relaxed)  // under the lock: updates never reorder it
        }
    }
}
