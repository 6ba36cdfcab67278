/// One open file being tailed: its descriptor, names and read buffer. What happens to it on rotation,
/// truncation and idleness is `state`'s (a value state machine); this holds what the reading needs.
final class TailedFile {
    let fd: Int32
    var path: String
    /// `path` with symlinks resolved: rotated generations are named next to it.
    let resolvedPath: String
    var state: TailedFileState
    /// Unprocessed bytes `storage[0..<filled]`; `storage[0]` is at file offset `bufferOffset`.
    var storage: [UInt8]
    var filled = 0
    var bufferOffset: Int64
    var decoder: LineDecoder
    var chunk: LogChunkBuilder
    /// Discarding the rest of a line that was longer than the buffer (its head went out already).
    var skipping = false

    init(
        path: String, resolvedPath: String, fd: Int32, state: TailedFileState, format: LineFormat, maxLogSize: Int,
        nodeName: String = ""
    ) {
        self.fd = fd
        self.path = path
        self.resolvedPath = resolvedPath
        self.state = state
        self.bufferOffset = state.readOffset
        self.storage = []
        self.decoder = LineDecoder(format: format, maxLogSize: maxLogSize)
        self.chunk = LogChunkBuilder(path: path, resolvedPath: resolvedPath, nodeName: nodeName)
    }

    var key: FileKey { state.key }

    /// The offset up to which every line has been turned into records (the rest is buffered or half-joined).
    var safeOffset: Int64 { decoder.pendingStart ?? bufferOffset }

    /// Drops what is buffered: reading goes on at `state.readOffset`, at a line's start.
    func clearBuffer() {
        bufferOffset = state.readOffset
        filled = 0
        skipping = false
        decoder.reset()
    }
}
