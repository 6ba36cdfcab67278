import Synchronization

/// Idle ``GzipCompressor``s kept for the next request, so that an exporter pays `deflateInit2`
/// (five allocations, about 256 KiB of zlib state at level 6) once rather than at every export.
/// Those short-lived 64 KiB blocks were the largest churn in the malloc arenas under the soak
/// (about 1,500 exports in 13 minutes), and what the arenas keep after churn is RSS.
///
/// Exports that run at the same time each take their own compressor; at most `maxIdle` of them
/// stay behind, so the memory kept is bounded whatever the concurrency was.
public final class GzipCompressorPool: Sendable {
    public let level: Int
    public let format: CompressionFormat
    public let maxIdle: Int
    private let idle = Mutex<[GzipCompressor]>([])
    private let made = Atomic<Int>(0)

    public init(level: Int = 6, format: CompressionFormat = .gzip, maxIdle: Int = 1) {
        self.level = level
        self.format = format
        self.maxIdle = max(0, maxIdle)
    }

    /// Compressors created so far (for tests and the curious).
    public var created: Int { made.load(ordering: .relaxed) }

    public func compress(_ bytes: [UInt8]) -> [UInt8] {
        let compressor = idle.withLock { $0.popLast() } ?? make()
        let output = compressor.compress(bytes)
        idle.withLock { if $0.count < maxIdle { $0.append(compressor) } }
        return output
    }

    private func make() -> GzipCompressor {
        made.add(1, ordering: .relaxed)
        return GzipCompressor(level: level, format: format)
    }
}
