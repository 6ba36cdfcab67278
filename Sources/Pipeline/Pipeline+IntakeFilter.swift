public import OTLPWire

/// Drops items that must not enter the pipeline (`processors.max_age`: items older than the backend
/// ingests) before batching. Returns the chunk's bytes without them and how many were dropped, or nil
/// when nothing is dropped (the common case, which must stay cheap).
public typealias IntakeFilter = @Sendable (_ signal: Signal, _ bytes: [UInt8]) -> (bytes: [UInt8], dropped: Int)?

extension Pipeline {
    /// The chunk as admitted: without the items the intake filter drops, which are counted in
    /// `fluxtel_items_discarded_total{reason="too_old"}`. Nil when nothing is left: the chunk is then
    /// done (acknowledged as delivered, `queued` called), so the sender sees success and one old item
    /// never fails a request.
    func applyIntakeFilter(_ chunk: TelemetryChunk, queued: (@Sendable () -> Void)?) -> TelemetryChunk? {
        guard let intakeFilter, let (bytes, dropped) = intakeFilter(chunk.signal, chunk.bytes) else { return chunk }
        metrics.discardedItems(chunk.signal, reason: "too_old").increment(by: Int64(dropped))
        var admitted = chunk
        admitted.bytes = bytes
        admitted.itemCount = max(0, chunk.itemCount - dropped)
        guard admitted.itemCount == 0 else { return admitted }
        chunk.acknowledgement?(.exported)
        queued?()
        return nil
    }
}
