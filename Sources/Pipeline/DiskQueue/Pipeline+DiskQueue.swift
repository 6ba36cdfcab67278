import OTLPWire

/// The pipeline over a persistent queue. Batching, sealing, the ready queue and the workers are the
/// memory pipeline's; what changes is what a batch holds: `DiskRecord`s (positions in segment files)
/// instead of bytes, so queued bodies live on disk only.
///
/// - Intake: each chunk (enriched, split) is appended to the current segment at once, before batching;
///   the chunk's acknowledgement (`.persisted`) and the `queued` callback fire when it is durable
///   (group commit, see `DiskQueue`). A tailer's checkpoint therefore moves on durability, and the OTLP
///   receiver answers 200 within about one fsync, not a batch timeout.
/// - Full (`max_bytes`, or no space on the disk): `backpressure` answers `.full` as the memory queue
///   does; `drop_oldest` drops the oldest queued batches (counted) until the append fits, and answers
///   `.full` only when nothing is left to drop (what remains is in flight). Other write errors answer
///   `.full` (nothing is dropped for an I/O error). A failed write is retried once in a new segment.
/// - Too large for any file (the chunk fails with EFBIG even in an empty one: a file size limit below
///   the chunk): it is queued in memory instead, in batches of its own, logged and counted in
///   `fluxtel_queue_write_errors_total`. It is delivered like the memory queue delivers (its source
///   hears `.exported`, not `.persisted`), so its source goes on; only a crash before delivery loses it.
/// - Export: a worker reads the batch's bodies back (`loadFromDisk`), leaving out expired and corrupt
///   records; exported or refused records are released, and a segment goes when all of its are. A batch
///   the exporter gave up on goes back to the queue (until `max_age`); one interrupted by shutdown
///   stays on disk for the next start.
extension Pipeline {
    /// Queues the records found at start-up, in order, as sealed batches.
    func replay(_ records: [DiskRecord]) {
        guard !records.isEmpty else { return }
        state.withLock { state in
            for record in records {
                append(
                    [Part(bytes: [], items: record.items, ack: nil, record: record)], signal: record.signal,
                    state: &state)
            }
            for signal in Signal.allCases { seal(signal, state: &state) }
        }
        for signal in Signal.allCases {
            metrics[signal].queuedBytes.set(Int64(state.withLock { $0.bytesBySignal[signal] ?? 0 }))
        }
    }

    func offerDurably(_ original: TelemetryChunk, disk: DiskQueue, queued: (@Sendable () -> Void)?) -> OfferResult {
        var chunk = original
        let acknowledgement = chunk.acknowledgement
        chunk.acknowledgement = nil  // called on durability, not per batch
        let signal = chunk.signal
        let prepared = disk.prepare(parts(of: chunk).map { ($0.bytes, $0.items) }, signal: signal)
        var dropped: [PendingBatch] = []
        var inMemory = false
        let outcome: (result: OfferResult, seq: UInt64) = state.withLock { state in
            if state.closed { return (.closed, 0) }
            var retried = false
            while true {
                switch disk.append(prepared, signal: signal) {
                case .success(let (records, seq)):
                    append(
                        records.map { Part(bytes: [], items: $0.items, ack: nil, record: $0) }, signal: signal,
                        state: &state)
                    return (.accepted, seq)
                case .failure(.tooLarge):
                    // Held within the same max_bytes as the disk, in batches of its own: a batch's body
                    // is either read from disk or held, never both.
                    let held = parts(of: original)
                    guard state.hasSpace(for: held.reduce(0) { $0 + $1.size }, capacity: configuration.queueMaxBytes)
                    else {
                        return (.full, 0)
                    }
                    seal(signal, state: &state)
                    append(held, signal: signal, state: &state)
                    seal(signal, state: &state)
                    inMemory = true
                    return (.accepted, 0)
                case .failure(let error):
                    // A failed write is tried once more in a fresh segment (a file size limit is per
                    // file); only running out of room makes drop_oldest drop anything.
                    if error != .full && !retried {
                        retried = true
                        continue
                    }
                    guard error != .writeFailed, disk.configuration.fullPolicy == .dropOldest else { return (.full, 0) }
                    if state.ready.isEmpty { for signal in Signal.allCases { seal(signal, state: &state) } }
                    guard let victim = state.ready.popFirst() else { return (.full, 0) }
                    state.usedBytes -= victim.bytes
                    state.bytesBySignal[victim.batch.signal, default: 0] -= victim.bytes
                    disk.release(victim.records)
                    dropped.append(victim)
                }
            }
        }
        for victim in dropped {
            metrics.queueDropped(victim.batch.signal, reason: "full").increment(by: Int64(victim.batch.itemCount))
            metrics[victim.batch.signal].queuedBytes.set(
                Int64(state.withLock { $0.bytesBySignal[victim.batch.signal] ?? 0 }))
        }
        if !dropped.isEmpty {
            disk.logger.warning(
                "Disk queue full: dropped the oldest batches",
                metadata: [
                    "batches.dropped": "\(dropped.count)",
                    "items.dropped": "\(dropped.reduce(0) { $0 + $1.batch.itemCount })",
                ])
        }
        account(outcome.result, original)
        guard outcome.result == .accepted else { return outcome.result }
        notifyTimerAndWorkers()
        if inMemory {
            if !disk.reportedTooLarge.exchange(true, ordering: .relaxed) {
                disk.logger.warning(
                    "A chunk is larger than the disk queue may write into one file; queued in memory instead",
                    metadata: [
                        "signal": "\(signal)", "chunk.bytes": "\(original.bytes.count)",
                        "items": "\(original.itemCount)",
                        "hint":
                            "raise the file size limit (ulimit -f) above the largest chunk; counted in fluxtel_queue_write_errors_total",
                    ])
            }
            queued?()
            return .accepted
        }
        let durable: @Sendable () -> Void = {
            acknowledgement?(.persisted)
            queued?()
        }
        if disk.whenDurable(outcome.seq, durable) { durable() }
        return .accepted
    }

    /// Reads the batch's bodies from disk. False when nothing is left to send (all expired or
    /// corrupt): the batch was completed here.
    func loadFromDisk(_ pending: inout PendingBatch) -> Bool {
        guard let disk, !pending.records.isEmpty else { return true }
        let loaded = disk.load(pending.records)
        let signal = pending.batch.signal
        let expired = loaded.expired.reduce(0) { $0 + $1.items }
        let lost = loaded.lost.reduce(0) { $0 + $1.items }
        if expired > 0 {
            metrics.queueDropped(signal, reason: "expired").increment(by: Int64(expired))
            disk.logger.warning(
                "Dropped queued items older than max_age",
                metadata: [
                    "signal": "\(signal)", "items.dropped": "\(expired)",
                ])
        }
        if lost > 0 { metrics.queueDropped(signal, reason: "corrupt").increment(by: Int64(lost)) }
        disk.release(loaded.expired + loaded.lost)
        pending.records = loaded.sent
        pending.batch.body = loaded.body
        pending.batch.itemCount = loaded.items
        pending.batch.persistent = true
        if loaded.sent.isEmpty {
            complete(pending, outcome: .exported)
            return false
        }
        return true
    }

    /// The persistent queue's part of `complete`: releases delivered records, puts a batch the
    /// exporter gave up on back in the queue, keeps one interrupted by shutdown on disk. False when
    /// the batch went back to the queue (its bytes stay counted).
    func completeDurably(_ batch: PendingBatch, outcome: DeliveryOutcome) -> Bool {
        guard let disk else { return true }
        switch outcome {
        case .exported, .rejected, .persisted:
            disk.release(batch.records)
            return true
        case .failed:
            if batch.records.isEmpty { return true }  // held in memory (too large for a file): as without a disk
            let requeued: Bool = state.withLock { state in
                if state.closed || Task.isCancelled { return false }  // stays on disk for the next start
                var again = batch
                again.batch.body = []
                state.ready.append(again)
                return true
            }
            if requeued { notifyTimerAndWorkers() }
            return !requeued
        }
    }
}
