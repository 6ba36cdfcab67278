import CZlib

/// A reusable deflate stream: `deflateReset` between calls is much cheaper than `deflateInit2`
/// (which allocates ~256 KiB of state). Not safe for concurrent use: one task at a time may use it
/// (``GzipCompressorPool`` hands one from task to task under its lock, hence `@unchecked Sendable`).
public final class GzipCompressor: @unchecked Sendable {
    private let stream: UnsafeMutablePointer<z_stream>
    private var initialized: Bool
    public let level: Int
    public let format: CompressionFormat

    /// - Parameters:
    ///   - level: 0 (store) ... 9 (best); values outside are clamped. 6 is zlib's default.
    ///   - format: `.gzip` (default) or `.deflate` (zlib wrapper).
    public init(level: Int = 6, format: CompressionFormat = .gzip) {
        self.level = min(max(level, 0), 9)
        self.format = format
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = deflateInit2_(
            stream, Int32(self.level), Z_DEFLATED, format.deflateWindowBits, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        initialized = rc == Z_OK
    }

    deinit {
        if initialized { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    public func compress(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { compress($0) }
    }

    /// Compresses `input` into one complete member. Output is sized with `deflateBound`, so a
    /// single `deflate(Z_FINISH)` pass always fits.
    public func compress(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        if !initialized {
            // deflateInit2 only fails on out-of-memory or bad parameters (which we clamp); retry once.
            let rc = deflateInit2_(
                stream, Int32(level), Z_DEFLATED, format.deflateWindowBits, 8, Z_DEFAULT_STRATEGY,
                ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else { return [] }
            initialized = true
        } else {
            deflateReset(stream)
        }
        let bound = Int(deflateBound(stream, uLong(input.count)))
        return [UInt8](unsafeUninitializedCapacity: bound) { out, count in
            stream.pointee.next_out = out.baseAddress
            stream.pointee.avail_out = uInt(truncatingIfNeeded: min(bound, Int(UInt32.max)))
            var offset = 0
            while true {
                let chunk = min(input.count - offset, Int(UInt32.max))
                stream.pointee.next_in = input.baseAddress.map {
                    UnsafeMutablePointer(mutating: $0.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
                }
                stream.pointee.avail_in = uInt(chunk)
                offset += chunk
                let last = offset == input.count
                let rc = deflate(stream, last ? Z_FINISH : Z_NO_FLUSH)
                if last {
                    count = rc == Z_STREAM_END ? Int(stream.pointee.total_out) : 0
                    break
                }
                guard rc == Z_OK else {
                    count = 0
                    break
                }
            }
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
    }
}
