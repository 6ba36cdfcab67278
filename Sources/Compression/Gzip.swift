import CZlib

/// One-shot gzip / zlib compression and capped decompression over the system zlib.
public enum Gzip {
    /// Compresses `bytes` into one gzip member (or a zlib stream with `format: .deflate`).
    public static func compress(_ bytes: [UInt8], level: Int = 6, format: CompressionFormat = .gzip) -> [UInt8] {
        GzipCompressor(level: level, format: format).compress(bytes)
    }

    public static func compress(
        _ bytes: UnsafeRawBufferPointer, level: Int = 6, format: CompressionFormat = .gzip
    ) -> [UInt8] {
        GzipCompressor(level: level, format: format).compress(bytes)
    }

    /// Inflates `bytes`, failing with `.tooLarge` as soon as the output would pass `maxOutputBytes`
    /// (nothing past the cap is ever allocated), and `.corrupt` on invalid, truncated or trailing data.
    /// Concatenated gzip members are inflated one after another. Empty input gives empty output.
    public static func decompress(
        _ bytes: [UInt8], maxOutputBytes: Int, format: CompressionFormat = .auto
    ) throws(DecompressionError) -> [UInt8] {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(DecompressionError) -> [UInt8] in
                try decompress(buffer, maxOutputBytes: maxOutputBytes, format: format)
            }
        }
        return try result.get()
    }

    public static func decompress(
        _ input: UnsafeRawBufferPointer, maxOutputBytes: Int, format: CompressionFormat = .auto
    ) throws(DecompressionError) -> [UInt8] {
        if input.isEmpty { return [] }
        let cap = max(0, maxOutputBytes)
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard
            inflateInit2_(stream, format.inflateWindowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
                == Z_OK
        else { throw .corrupt("inflateInit2 failed (out of memory)") }
        defer { inflateEnd(stream) }

        let scratchSize = 64 * 1024
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchSize)
        defer { scratch.deallocate() }

        var output: [UInt8] = []
        // A first guess for typical OTLP ratios, never past the cap.
        output.reserveCapacity(min(cap, max(4096, input.count.multipliedReportingOverflow(by: 4).partialValue)))

        let base = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var consumed = 0
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
        stream.pointee.avail_in = uInt(min(input.count, Int(UInt32.max)))

        while true {
            // Ask for at most one byte more than the cap allows: producing it proves the cap is passed.
            let room = min(scratchSize, cap - output.count + 1)
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = uInt(room)
            let inBefore = Int(stream.pointee.avail_in)
            let rc = inflate(stream, Z_NO_FLUSH)
            let produced = room - Int(stream.pointee.avail_out)
            consumed += inBefore - Int(stream.pointee.avail_in)

            if produced > 0 {
                guard output.count + produced <= cap else { throw .tooLarge(limit: cap) }
                if output.count + produced > output.capacity {
                    output.reserveCapacity(min(cap, max(output.capacity * 2, output.count + produced)))
                }
                output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced))
            }
            // Refill avail_in for inputs larger than 4 GiB (chunks of UInt32.max).
            if stream.pointee.avail_in == 0 && consumed < input.count {
                stream.pointee.next_in = UnsafeMutablePointer(mutating: base + consumed)
                stream.pointee.avail_in = uInt(min(input.count - consumed, Int(UInt32.max)))
            }

            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                if consumed == input.count { return output }
                let rest = input.count - consumed
                // Another gzip member follows: inflate it too (as gzip(1) and Python do).
                if format.allowsMembers, rest >= 2, base[consumed] == 0x1F, base[consumed + 1] == 0x8B {
                    guard inflateReset(stream) == Z_OK else { throw .corrupt("inflateReset failed") }
                    continue
                }
                throw .corrupt("\(rest) bytes of trailing data after the compressed stream")
            case Z_BUF_ERROR:
                // No progress possible: with output room available this means the input ran out.
                throw .corrupt("unexpected end of compressed stream")
            case Z_NEED_DICT:
                throw .corrupt("stream needs a preset dictionary")
            case Z_MEM_ERROR:
                throw .corrupt("out of memory while inflating")
            default:
                throw .corrupt(zlibMessage(stream) ?? "invalid compressed data (zlib error \(rc))")
            }
        }
    }

    private static func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>) -> String? {
        guard let message = stream.pointee.msg else { return nil }
        return String(cString: message)
    }
}
