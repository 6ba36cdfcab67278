public import OTLPWire

/// Splits a chunk larger than a batch (`processors.batch.max_bytes` or `max_items`) into parts that
/// respect the limits, repeating the resource and scope around subsets of the items
/// (`OTLPWalker.split`), so oversize input is split, never dropped.
public struct Splitter: Sendable {
    public init() {}

    /// The parts of `bytes` (framed `Resource*` fields of `signal`), each with its item count. Throws on
    /// malformed input; the pipeline then queues the chunk whole.
    public func split(
        _ signal: Signal, _ bytes: [UInt8], maxBytes: Int, maxItems: Int
    ) throws -> [(bytes: [UInt8], items: Int)] {
        try OTLPWalker.split(signal: signal, body: bytes, maxBytes: maxBytes, maxItems: maxItems)
    }
}
