public import OTLPWire
public import Pipeline

/// A framed chunk of `n` bytes (content irrelevant to the pipeline).
public func chunk(
    _ signal: Signal = .logs, bytes: Int, items: Int, ack: Acknowledgement? = nil, fill: UInt8 = 0x0A
) -> TelemetryChunk {
    TelemetryChunk(
        signal: signal, bytes: [UInt8](repeating: fill, count: bytes), itemCount: items, acknowledgement: ack)
}
