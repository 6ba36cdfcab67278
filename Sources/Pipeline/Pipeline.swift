import DequeModule
public import FluxtelConfig
public import OTLPWire
import Prometheus
public import SelfTelemetry
import Synchronization

/// Splits an oversize chunk into parts that respect the batch limits (by repeating the resource and
/// scope around subsets of the items). Injected so the pipeline stays independent of how.
public typealias ChunkSplitter =
    @Sendable (_ signal: Signal, _ bytes: [UInt8], _ maxBytes: Int, _ maxItems: Int)
    throws -> [(bytes: [UInt8], items: Int)]

/// The "enrich" step of DESIGN.md's data flow (the `resource` processor): rewrites a chunk's bytes
/// before batching. Throwing leaves the chunk unchanged.
public typealias ChunkEnricher = @Sendable (_ signal: Signal, _ bytes: [UInt8]) throws -> [UInt8]

/// The result of a non-blocking `offer`.
public enum OfferResult: Sendable, Equatable {
    case accepted
    /// The queue is full: tell the sender to come back later.
    case full
    /// The pipeline is shutting down and takes nothing new.
    case closed
}

public struct PipelineClosedError: Error, CustomStringConvertible {
    public var description: String { "the pipeline is shutting down" }
}

/// The one batching pipeline of DESIGN.md: sources hand over encoded chunks; the pipeline appends them
/// to a per-signal open batch (a memcpy, never a re-encode), seals a batch when it reaches
/// `processors.batch`'s `max_items`, `max_bytes` or `timeout`, queues sealed batches, and hands them to the
/// export workers. Every byte from intake to export completion counts against `processors.queue.max_bytes`,
/// so memory is bounded: `offer` says `.full`, `submit` waits. When a batch completes, the
/// acknowledgement of every chunk in it is called. Where the bodies wait is the `ChunkQueue`'s business:
/// in memory, or in a persistent queue (see `Pipeline+Queue.swift`).
public final class Pipeline: Sendable {
    /// `processors.batch`, with at least one item and 64 bytes per batch.
    public let batching: BatchConfiguration
    let metrics: AgentMetrics
    let splitter: ChunkSplitter?
    let enricher: ChunkEnricher?
    /// Drops too-old items at intake (`Pipeline+IntakeFilter.swift`).
    let intakeFilter: IntakeFilter?
    /// Where queued bodies live: `MemoryQueue`, or the persistent queue when `processors.queue.directory`
    /// is set (batches then hold `StoredRecord`s instead of bytes).
    public let queue: any ChunkQueue
    /// Bytes held in open batches, the ready queue and in flight, together (`processors.queue.max_bytes`).
    /// Sources are pushed back beyond it.
    let maxBytes: Int
    /// Times the batch timeout and the hold (the real clock but in tests).
    public let clock: TimerClock
    /// `processors.hold`'s predicate, nil when nothing waits (`Pipeline+Hold.swift`).
    let holdWaits: HoldPredicate?
    /// `fluxtel_spans_held`, registered only when the hold is on.
    let heldSpans: Gauge?
    let state: Mutex<State>

    /// - Parameters:
    ///   - batch: `processors.batch`.
    ///   - queue: `processors.queue`: its `max_bytes` bounds what the memory queue holds.
    ///   - store: the persistent queue, opened (and replayed) by the caller; nil keeps the queue in memory.
    ///   - hold: `processors.hold`, how long a chunk `holdWaits` says waits may wait before intake; the hold
    ///     is off when zero, without a predicate, or with a persistent queue.
    public init(
        batch: BatchConfiguration = .init(), queue: QueueConfiguration = .init(), metrics: AgentMetrics,
        splitter: ChunkSplitter? = nil, enricher: ChunkEnricher? = nil, intakeFilter: IntakeFilter? = nil,
        store: (any ChunkQueue)? = nil, hold: Duration = .zero, holdWaits: HoldPredicate? = nil,
        clock: TimerClock = .continuous
    ) {
        var batch = batch
        batch.maxItems = max(1, batch.maxItems)
        batch.maxBytes = max(64, batch.maxBytes)
        self.batching = batch
        self.clock = clock
        self.metrics = metrics
        self.splitter = splitter
        self.enricher = enricher
        self.intakeFilter = intakeFilter
        let queue = store ?? MemoryQueue(capacityBytes: max(1, queue.maxBytes))
        self.queue = queue
        self.maxBytes = queue.capacityBytes
        let holding = hold > .zero && !queue.isPersistent ? holdWaits : nil
        self.holdWaits = holding
        self.heldSpans = holding == nil ? nil : metrics.spansHeld()
        var initial = State()
        initial.held = SpanHoldState(hold: hold)
        self.state = Mutex(initial)
        metrics.queueCapacityBytes.set(Int64(queue.capacityBytes))
        replay(queue.takeReplayed())
    }

    // MARK: intake

    /// Hands a chunk over without waiting. `.full` means nothing was taken: the caller keeps it
    /// (and e.g. answers 429 with Retry-After). When `.accepted`, `queued` is called once the chunk is
    /// safely queued: before `offer` returns (memory queue), or once durable (persistent queue), maybe
    /// on another thread.
    ///
    /// A persistent queue stores the chunk (enriched, split) at once, before batching, and the chunk's
    /// acknowledgement (`.persisted`) and `queued` fire when it is durable: a tailer's checkpoint moves on
    /// durability, and the OTLP receiver answers within about one fsync, not a batch timeout. What the
    /// queue does not store (a memory queue: everything) is held within `max_bytes` and acknowledged on export.
    public func offer(_ offered: TelemetryChunk, queued: (@Sendable () -> Void)? = nil) -> OfferResult {
        guard let chunk = applyIntakeFilter(offered, queued: queued) else { return .accepted }
        return offerAdmitted(chunk, queued: queued)
    }

    func offerAdmitted(_ chunk: TelemetryChunk, queued: (@Sendable () -> Void)?) -> OfferResult {
        if let held = holdIfWaiting(chunk) {
            if held == .accepted { queued?() }
            return held
        }
        let parts = self.parts(of: chunk)
        let staged = queue.stage(parts.lazy.map { ($0.bytes, $0.items) }, signal: chunk.signal)
        var dropped: [PendingBatch] = []
        let (result, admission): (OfferResult, QueueAdmission) = state.withLock { state in
            if state.closed { return (.closed, .full) }
            let admission = queue.admit(staged, signal: chunk.signal) {
                // drop_oldest: the oldest queued batch makes room (sealing open ones when none is ready).
                if state.ready.isEmpty { for signal in Signal.allCases { seal(signal, state: &state) } }
                guard let victim = state.ready.popFirst() else { return nil }
                state.usedBytes -= victim.bytes
                state.bytesBySignal[victim.batch.signal, default: 0] -= victim.bytes
                dropped.append(victim)
                return victim.records
            }
            switch admission {
            case .stored(let records, _):
                append(
                    records.map { Part(bytes: [], items: $0.items, ack: nil, record: $0) }, signal: chunk.signal,
                    state: &state)
            case .inMemory(let alone):
                guard state.hasSpace(for: parts.reduce(0) { $0 + $1.size }, capacity: maxBytes) else {
                    return (.full, admission)
                }
                if alone { seal(chunk.signal, state: &state) }
                append(parts, signal: chunk.signal, state: &state)
                if alone { seal(chunk.signal, state: &state) }
            case .full:
                return (.full, admission)
            }
            return (.accepted, admission)
        }
        if !dropped.isEmpty { account(dropped: dropped) }
        account(result, chunk)
        guard result == .accepted else { return result }
        notifyTimerAndWorkers()
        if case .stored(_, let ticket) = admission {
            let acknowledgement = chunk.acknowledgement
            let durable: @Sendable () -> Void = {
                acknowledgement?(.persisted)
                queued?()
            }
            if queue.whenDurable(ticket, durable) { durable() }
        } else {
            queued?()
        }
        return result
    }

    /// Hands a chunk over, waiting while the queue is full (the caller is pushed back, e.g. the file
    /// tailer stops reading). Throws `PipelineClosedError` when the pipeline shuts down meanwhile,
    /// and `CancellationError` when the calling task is cancelled; nothing was taken then.
    public func submit(_ offered: TelemetryChunk) async throws {
        guard let chunk = applyIntakeFilter(offered, queued: nil) else { return }
        while true {
            switch offerAdmitted(chunk, queued: nil) {
            case .accepted: return
            case .closed: throw PipelineClosedError()
            case .full:
                // The persistent queue frees space by segments and may be waiting for the disk: poll it.
                if queue.isPersistent {
                    try await Task.sleep(for: .milliseconds(100))
                } else {
                    try await waitForSpace(chunk.bytes.count)
                }
            }
        }
    }

    /// Stops intake: held chunks go in, waiting submitters fail, open batches are sealed, workers drain
    /// the queue and then see `nil` from `nextBatch()`.
    public func close() {
        var holdTimer: CheckedContinuation<Void, Never>?
        let (waiters, workers, timer):
            ([SpaceWaiter], [CheckedContinuation<PendingBatch?, Never>], CheckedContinuation<Void, Never>?) =
                state.withLock { state in
                    _ = admitHeld(state.held.close(), state: &state)
                    holdTimer = state.holdWaiter
                    state.holdWaiter = nil
                    state.closed = true
                    for signal in Signal.allCases { seal(signal, state: &state) }
                    let waiters = Array(state.spaceWaiters)
                    state.spaceWaiters.removeAll()
                    var workers: [CheckedContinuation<PendingBatch?, Never>] = []
                    var handed: [(CheckedContinuation<PendingBatch?, Never>, PendingBatch)] = []
                    while let worker = state.workerWaiters.popFirst() {
                        if let batch = state.ready.popFirst() {
                            handed.append((worker, batch))
                        } else {
                            workers.append(worker)
                        }
                    }
                    for (worker, batch) in handed { worker.resume(returning: batch) }
                    let timer = state.timerWaiter
                    state.timerWaiter = nil
                    return (waiters, workers, timer)
                }
        for waiter in waiters { waiter.continuation.resume(throwing: PipelineClosedError()) }
        for worker in workers { worker.resume(returning: nil) }
        timer?.resume()
        holdTimer?.resume()
        updateHeldGauge()
        queue.close()
    }

    /// Whether `close()` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Bytes currently held (open batches, queued, in flight).
    public var usedBytes: Int { state.withLock { $0.usedBytes } }

    /// Batches sealed since start: grows while any source delivers (the malloc trimmer's measure of work).
    public var batchesSealed: UInt64 { state.withLock { $0.nextID } }

    /// Whether `offer` would answer `.full` to any chunk of at least `bytes` right now. A receiver asks
    /// before it decompresses and decodes a request, so that overload costs no decoding. False with a
    /// persistent queue, whose room is known only when it appends.
    public func isFull(forAtLeast bytes: Int) -> Bool {
        guard !queue.isPersistent else { return false }
        return state.withLock { !$0.closed && !$0.hasSpace(for: bytes, capacity: maxBytes) }
    }

    // MARK: export side

    /// The next sealed batch, waiting if there is none; `nil` once the pipeline is closed and drained.
    func nextBatch() async -> PendingBatch? {
        if let immediate = state.withLock({ state -> PendingBatch?? in
            if let batch = state.ready.popFirst() { return .some(batch) }
            return state.closed ? .some(nil) : nil
        }) {
            return immediate
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PendingBatch?, Never>) in
                let resumeWith: PendingBatch?? = state.withLock { state in
                    if let batch = state.ready.popFirst() { return .some(batch) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.workerWaiters.append(continuation)
                    return nil
                }
                if let value = resumeWith { continuation.resume(returning: value) }
            }
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.workerWaiters.removeAll() }
                return Array(state.workerWaiters)
            }
            for waiter in waiters { waiter.resume(returning: nil) }
        }
    }

    /// Takes every batch still queued (after the drain deadline), so they can be failed.
    func takeRemaining() -> [PendingBatch] {
        state.withLock { state in
            for signal in Signal.allCases { seal(signal, state: &state) }
            defer { state.ready.removeAll() }
            return Array(state.ready)
        }
    }

    /// Marks a batch done: frees its bytes, wakes pushed-back sources, acknowledges its chunks.
    func complete(_ batch: consuming PendingBatch, outcome: DeliveryOutcome) {
        if !batch.records.isEmpty, !completeStored(batch, outcome: outcome) { return }
        let count = batch.bytes
        // Keep one full-size buffer for the next open batch: a fresh 4 MiB mapping costs 1,024 page
        // faults (≈ 0.1 CPU-s per million log lines). At most one, dropped when no batch is open.
        var spare = batch.batch.body
        batch.batch.body = []
        let keep = spare.capacity >= Self.openCapacity(batching.maxBytes, first: 0)
        if keep { spare.removeAll(keepingCapacity: true) }  // no copy: the exporter is done with it
        let waiters: [SpaceWaiter] = state.withLock { state in
            state.usedBytes -= count
            state.bytesBySignal[batch.batch.signal, default: 0] -= count
            if keep && state.spare.capacity == 0 && !state.open.isEmpty { swap(&state.spare, &spare) }
            return state.takeSatisfiedWaiters(capacity: maxBytes)
        }
        metrics[batch.batch.signal].queuedBytes.set(Int64(state.withLock { $0.bytesBySignal[batch.batch.signal] ?? 0 }))
        for waiter in waiters { waiter.continuation.resume() }
        for ack in batch.acknowledgements { ack.complete(outcome) }
    }

    // MARK: timer

    /// Seals batches older than `batchTimeout`. Returns the instant of the next deadline, if any.
    func sealExpired(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        let (next, workers) = state.withLock {
            state -> (ContinuousClock.Instant?, [(CheckedContinuation<PendingBatch?, Never>, PendingBatch)]) in
            var next: ContinuousClock.Instant?
            for signal in Signal.allCases {
                guard let open = state.open[signal] else { continue }
                let deadline = open.openedAt.advanced(by: batching.timeout)
                if deadline <= now {
                    seal(signal, state: &state)
                } else {
                    next = next.map { min($0, deadline) } ?? deadline
                }
            }
            if state.open.isEmpty { state.spare = [] }  // idle: give the spare buffer back
            return (next, state.matchWorkers())
        }
        for (worker, batch) in workers { worker.resume(returning: batch) }
        return next
    }

    /// Waits until a batch is opened (or the pipeline closes).
    func waitForOpenBatch() async {
        await state.park(unless: { $0.closed || !$0.open.isEmpty }, in: { state, slot in slot(&state.timerWaiter) })
    }

    // MARK: internals

    func parts(of original: TelemetryChunk) -> [Part] {
        var chunk = original
        if let enricher, let enriched = try? enricher(chunk.signal, chunk.bytes) { chunk.bytes = enriched }
        let ack = chunk.acknowledgement.map { AckGroup($0) }
        let oversize = chunk.bytes.count > batching.maxBytes || chunk.itemCount > batching.maxItems
        if oversize, let splitter,
            let pieces = try? splitter(
                chunk.signal, chunk.bytes, batching.maxBytes, batching.maxItems),
            pieces.count > 1
        {
            ack?.expect(pieces.count)
            return pieces.map { Part(bytes: $0.bytes, items: $0.items, ack: ack) }
        }
        ack?.expect(1)
        return [Part(bytes: chunk.bytes, items: chunk.itemCount, ack: ack)]
    }

    func append(_ parts: [Part], signal: Signal, state: inout State) {
        for part in parts {
            if let open = state.open[signal],
                open.bytes + part.size > batching.maxBytes
                    || open.items + part.items > batching.maxItems
            {
                seal(signal, state: &state)
            }
            var open = state.open.removeValue(forKey: signal) ?? OpenBatch(openedAt: clock.now())
            if let record = part.record {
                open.records.append(record)
            } else {
                if open.body.isEmpty {
                    open.body = state.takeSpare()
                    open.body.reserveCapacity(Self.openCapacity(batching.maxBytes, first: part.bytes.count))
                }
                open.body.append(contentsOf: part.bytes)
            }
            open.bytes += part.size
            open.items += part.items
            if let ack = part.ack { open.acks.append(ack) }
            state.usedBytes += part.size
            state.bytesBySignal[signal, default: 0] += part.size
            state.open[signal] = open
            if open.bytes >= batching.maxBytes || open.items >= batching.maxItems {
                seal(signal, state: &state)
            }
        }
    }

    func seal(_ signal: Signal, state: inout State) {
        guard var open = state.open.removeValue(forKey: signal) else { return }
        state.nextID &+= 1
        Self.trim(&open.body)
        let batch = ExportBatch(signal: signal, body: open.body, itemCount: open.items, id: state.nextID)
        state.ready.append(
            PendingBatch(batch: batch, acknowledgements: open.acks, bytes: open.bytes, records: open.records))
    }

    /// Capacity of a new open batch: the whole `maxBatchBytes` at once (up to 16 MiB), so appending
    /// never reallocates and copies what is already there. Doubling from the first chunk (42 KB for a
    /// 100-span request) took 7 reallocations and copied every byte about twice more before a 4 MiB batch
    /// sealed, and left up to 5.4 MB of capacity behind it. The reservation costs address space, not
    /// memory: glibc serves it with `mmap` above the threshold `fluxtel` sets at start-up, and only the
    /// pages written become resident.
    static func openCapacity(_ maxBatchBytes: Int, first: Int) -> Int {
        max(first, min(maxBatchBytes, 16 << 20))
    }

    /// A batch sealed early (by the timer, or by item count) keeps its bytes in a right-sized copy, so
    /// its memory follows the bytes the queue counts: a queue of many small batches (a trickle of
    /// spans while the backend is down) must not hold a full batch's capacity for each of them.
    static func trim(_ body: inout [UInt8]) {
        guard body.capacity - body.count > max(body.count, 64 << 10) else { return }
        let bytes = body
        body = [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            count = bytes.withUnsafeBufferPointer { source in
                guard let from = source.baseAddress, let to = buffer.baseAddress else { return 0 }
                to.initialize(from: from, count: source.count)
                return source.count
            }
        }
    }

    func account(_ result: OfferResult, _ chunk: TelemetryChunk) {
        let signalMetrics = metrics[chunk.signal]
        switch result {
        case .accepted:
            signalMetrics.received.increment(by: Int64(chunk.itemCount))
            signalMetrics.queuedBytes.set(Int64(state.withLock { $0.bytesBySignal[chunk.signal] ?? 0 }))
        case .full, .closed:
            break  // the caller decides whether this is a refusal (receiver) or a wait (tailer)
        }
    }

    func notifyTimerAndWorkers() {
        let (timer, workers) = state.withLock { state in
            let timer = state.open.isEmpty ? nil : state.timerWaiter
            if timer != nil { state.timerWaiter = nil }
            return (timer, state.matchWorkers())
        }
        timer?.resume()
        for (worker, batch) in workers { worker.resume(returning: batch) }
    }

    private func waitForSpace(_ bytes: Int) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID &+= 1
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case wait, retry, closed, cancelled }
                let now: Now = state.withLock { state in
                    if state.closed { return .closed }
                    if Task.isCancelled { return .cancelled }
                    if state.hasSpace(for: bytes, capacity: maxBytes) { return .retry }
                    state.spaceWaiters.append(SpaceWaiter(id: id, bytes: bytes, continuation: continuation))
                    return .wait
                }
                switch now {
                case .wait: break
                case .retry: continuation.resume()
                case .closed: continuation.resume(throwing: PipelineClosedError())
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter: SpaceWaiter? = state.withLock { state in
                guard let index = state.spaceWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.spaceWaiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
