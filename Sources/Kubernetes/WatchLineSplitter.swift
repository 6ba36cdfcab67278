/// Cuts a watch response body (chunks of any size) into its newline-terminated JSON lines, with a
/// bound on one line so a hostile server cannot make the agent buffer without end.
struct WatchLineSplitter {
    let maxLineBytes: Int
    private var line: [UInt8] = []

    init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Calls `body` with every complete, non-blank line in `bytes` (the rest waits for more bytes).
    mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws {
        for byte in bytes {
            if byte != 0x0A {
                line.append(byte)
                guard line.count <= maxLineBytes else {
                    throw KubernetesError.invalidResponse("watch event over \(maxLineBytes) bytes")
                }
                continue
            }
            defer { line.removeAll(keepingCapacity: line.capacity <= 1 << 20) }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            try line.withUnsafeBufferPointer { try body($0) }
        }
    }

    /// Bytes of an unfinished line (a stream that ends here was cut in the middle of an event).
    var pending: Int { line.count }
}
