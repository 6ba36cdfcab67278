import OTLPWire

/// The pipeline over a queue that stores what it takes (a persistent queue). Batching, sealing, the ready
/// queue and the workers are the memory pipeline's; what changes is what a batch holds: `StoredRecord`s
/// (positions in the queue's files) instead of bytes, so queued bodies live there only.
///
/// - Full: the queue answers `.full` as the memory queue does, or (`drop_oldest`) drops the oldest queued
///   batches (counted here) through `admit`'s `evictOldest` until the chunk fits.
/// - A chunk the queue cannot store (`.inMemory`) is held in batches of its own within `max_bytes` and
///   delivered as the memory queue delivers it (its source hears `.exported`, not `.persisted`).
/// - Export: a worker reads the batch's bodies back (`loadStored`), without the records that expired or were
///   damaged; exported or refused records are released. A batch the exporter gave up on goes back to the
///   queue; one interrupted by shutdown stays stored for the next start.
extension Pipeline {
    /// Queues the records found at start-up, in order, as sealed batches.
    func replay(_ records: [StoredRecord]) {
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

    /// Counts the batches `offer` dropped to make room (`drop_oldest`).
    func account(dropped: [PendingBatch]) {
        for victim in dropped {
            metrics.queueDropped(victim.batch.signal, reason: "full").increment(by: Int64(victim.batch.itemCount))
            metrics[victim.batch.signal].queuedBytes.set(
                Int64(state.withLock { $0.bytesBySignal[victim.batch.signal] ?? 0 }))
        }
        queue.evicted(batches: dropped.count, items: dropped.reduce(0) { $0 + $1.batch.itemCount })
    }

    /// Reads the batch's bodies back from the queue. False when nothing is left to send (all expired or
    /// damaged): the batch was completed here.
    func loadStored(_ pending: inout PendingBatch) -> Bool {
        guard !pending.records.isEmpty else { return true }
        let loaded = queue.load(pending.records, signal: pending.batch.signal)
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

    /// `complete` for a batch of stored records: releases delivered records, puts a batch the exporter
    /// gave up on back in the queue, keeps one interrupted by shutdown stored. False when the batch went
    /// back to the queue (its bytes stay counted).
    func completeStored(_ batch: PendingBatch, outcome: DeliveryOutcome) -> Bool {
        switch outcome {
        case .exported, .rejected, .persisted:
            queue.release(batch.records)
            return true
        case .failed:
            let requeued: Bool = state.withLock { state in
                if state.closed || Task.isCancelled { return false }  // stays stored for the next start
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
