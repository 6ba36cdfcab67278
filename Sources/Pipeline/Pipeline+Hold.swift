public import OTLPWire

/// Whether a chunk still waits before intake (`processors.hold`): the Flux span tree's "is its reconcile
/// duration still unknown?". Called at offer time, and again for every held chunk when `wakeHeld()` says
/// something was learned. Must be cheap for chunks that never wait.
public typealias HoldPredicate = @Sendable (_ signal: Signal, _ bytes: [UInt8]) -> Bool

/// The hold (issue 18, part 3; policy in `SpanHoldState`): a chunk the predicate says waits is accepted at
/// once (the OTLP receiver answers as it would, `queued` is called), counted against `max_bytes`, and kept
/// out of the batches (before the enrich step) until the first of: the predicate no longer says so
/// (`wakeHeld`), `processors.hold` has passed (the hold timer, `releaseExpiredHeld`), or the pipeline
/// closes (held chunks go in first). Its acknowledgement fires once its batch is exported, as any chunk's.
///
/// Not with a persistent queue (durability first: a chunk is acknowledged as `.persisted` only once it is
/// on disk, and a chunk waiting in memory would be lost by a crash after the sender was told it is safe),
/// and nothing waits when the queue is near full (`SpanHoldState.admits`).
///
/// Released chunks are enriched and batched under the pipeline's lock, so that a release and `close()`
/// never interleave (a chunk taken from the hold is in a batch before the pipeline can close). The lock
/// order is pipeline → correlation: the predicate and the enricher may take their own locks, and nothing
/// calls the pipeline while holding those.
extension Pipeline {
    /// `.accepted` (held, or `.closed`) when the chunk waits and may; nil: it goes in now.
    func holdIfWaiting(_ chunk: TelemetryChunk) -> OfferResult? {
        guard let holdWaits, holdWaits(chunk.signal, chunk.bytes) else { return nil }
        let size = chunk.bytes.count
        let (result, timer): (OfferResult?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            if state.closed { return (.closed, nil) }
            guard state.held.admits(bytes: size, used: state.usedBytes, capacity: maxBytes) else { return (nil, nil) }
            state.held.hold(chunk, bytes: size, items: chunk.itemCount, now: clock.now())
            state.usedBytes += size
            state.bytesBySignal[chunk.signal, default: 0] += size
            defer { state.holdWaiter = nil }
            return (.accepted, state.holdWaiter)
        }
        if result == .accepted {
            account(.accepted, chunk)
            updateHeldGauge()
        }
        timer?.resume()
        return result
    }

    /// Something the predicate depends on was learned (a reconcile duration): held chunks that no longer
    /// wait go in now.
    public func wakeHeld() {
        guard let holdWaits else { return }
        let released = state.withLock { state in
            admitHeld(state.held.take { !holdWaits($0.signal, $0.bytes) }, state: &state)
        }
        if released { afterRelease() }
    }

    /// The hold timer: lets in the chunks whose `hold` has passed; the next deadline, if any is held.
    func releaseExpiredHeld(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let (released, next) = state.withLock { state in
            (admitHeld(state.held.takeExpired(now: now), state: &state), state.held.nextDeadline)
        }
        if released { afterRelease() }
        return next
    }

    /// Waits until something is held (or the pipeline closes).
    func waitForHeld() async {
        await state.park(
            unless: { $0.closed || !$0.held.entries.isEmpty }, in: { state, slot in slot(&state.holdWaiter) })
    }

    /// Whether the hold is on (a predicate, a positive `processors.hold`, a memory queue).
    public var holds: Bool { holdWaits != nil }

    /// Spans held right now.
    public var heldItems: Int { state.withLock { $0.held.items } }

    /// Batches held chunks (their bytes were counted when they were held). True when there were any.
    func admitHeld(_ entries: [SpanHoldState<TelemetryChunk>.Entry], state: inout State) -> Bool {
        for entry in entries {
            state.usedBytes -= entry.bytes
            state.bytesBySignal[entry.item.signal, default: 0] -= entry.bytes
            append(parts(of: entry.item), signal: entry.item.signal, state: &state)
            if state.closed { seal(entry.item.signal, state: &state) }
        }
        return !entries.isEmpty
    }

    private func afterRelease() {
        updateHeldGauge()
        notifyTimerAndWorkers()
    }

    func updateHeldGauge() {
        guard let heldSpans else { return }
        heldSpans.set(Int64(heldItems))
    }
}
