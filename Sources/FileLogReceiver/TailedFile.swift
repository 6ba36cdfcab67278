/// One open file being tailed.
final class TailedFile {
    let key: FileKey
    var path: String
    /// `path` with symlinks resolved: rotated generations are named next to it.
    let resolvedPath: String
    let fd: Int32
    /// Next byte to read.
    var readOffset: Int64
    /// Unprocessed bytes `storage[0..<filled]`; `storage[0]` is at file offset `bufferOffset`.
    var storage: [UInt8]
    var filled = 0
    var bufferOffset: Int64
    var decoder: LineDecoder
    var chunk: LogChunkBuilder
    var fingerprint: Fingerprint
    /// Matched by the include globs at the last poll (else it was rotated away or deleted: read to its end, then let go).
    var matched = true
    /// Discarding the rest of a line that was longer than the buffer (its head went out already).
    var skipping = false
    var lastGrowth: ContinuousClock.Instant
    var idlePolls = 0

    init(
        key: FileKey, path: String, fd: Int32, offset: Int64, format: LineFormat, maxLogSize: Int,
        fingerprint: Fingerprint, resolvedPath: String, nodeName: String = ""
    ) {
        self.key = key
        self.path = path
        self.resolvedPath = resolvedPath
        self.fd = fd
        self.readOffset = offset
        self.bufferOffset = offset
        self.storage = []
        self.decoder = LineDecoder(format: format, maxLogSize: maxLogSize)
        self.chunk = LogChunkBuilder(path: path, resolvedPath: resolvedPath, nodeName: nodeName)
        self.fingerprint = fingerprint
        self.lastGrowth = .now
    }

    /// The offset up to which every line has been turned into records (the rest is buffered or half-joined).
    var safeOffset: Int64 { decoder.pendingStart ?? bufferOffset }
}
