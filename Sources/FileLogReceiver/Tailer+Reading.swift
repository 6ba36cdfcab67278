import OTLPWire
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// Reading: new bytes of a file (or of its copy) into lines, lines into records, records into one
/// chunk per read for the pipeline.
extension Tailer {
    /// Reads up to `readSize` new bytes of one file and hands their records over. False when there was nothing new.
    func readSome(_ file: TailedFile) async throws -> Bool {
        let fd = file.fd
        var st = stat()
        guard fstat(fd, &st) == 0 else { return false }
        switch file.state.beforeRead(size: Int64(st.st_size), firstBytes: { readFingerprint(fd, length: $0) }) {
        case .none: return false
        case .read: return try await read(file, from: fd, size: Int64(st.st_size))
        case .truncated(let truncation):
            try await truncated(file, reason: truncation)
            // read from the start again, as the file is now
            guard fstat(fd, &st) == 0,
                file.state.beforeRead(size: Int64(st.st_size), firstBytes: { readFingerprint(fd, length: $0) })
                    == .read
            else { return false }
            return try await read(file, from: fd, size: Int64(st.st_size))
        }
    }

    /// Reads the next bytes at the file's read offset from `fd` (the file, or its copy) and hands their records over.
    func read(_ file: TailedFile, from fd: Int32, size: Int64) async throws -> Bool {
        let readOffset = file.state.readOffset
        let want = Int(min(size - readOffset, Int64(readSize)))
        if file.storage.count < file.filled + want {
            file.storage.append(contentsOf: repeatElement(0, count: file.filled + want - file.storage.count))
        }
        let n = file.storage.withUnsafeMutableBytes { raw in
            pread(fd, raw.baseAddress! + file.filled, want, off_t(readOffset))
        }
        guard n > 0 else { return false }
        let start = file.filled
        let tookFingerprint = file.state.didRead(
            n, fromCopy: fd != file.fd, now: clock.now(),
            firstBytes: { length in
                file.storage.withUnsafeBytes {
                    Fingerprint.of(UnsafeRawBufferPointer(rebasing: $0[start..<start + length]))
                }
            })
        if tookFingerprint { ledger.updateFingerprint(file.key, file.state.fingerprint) }
        file.filled += n
        decodeBuffered(file, final: false)
        try await submit(file)
        return true
    }

    /// Emits what is buffered even without its `\n` (the file stopped growing, or is being let go).
    func flushTail(_ file: TailedFile) async throws {
        decodeBuffered(file, final: true)
        try await submit(file)
    }

    func decodeBuffered(_ file: TailedFile, final: Bool) {
        let now = Timestamp.now()
        file.chunk.open(reservingCapacity: min(file.filled * 2 + 1024, 4 << 20))
        encoder.countersResource = file.chunk.metricResourceField
        let maxLineBytes = self.maxLineBytes
        let consumed: Int = file.storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var lineStart = 0
            let emit: (DecodedRecord) -> Void = { record in
                if record.truncated { self.counters.truncatedRecords.increment() }
                file.chunk.withWriter { w, attributes in
                    self.encoder.append(record, fileAttributes: attributes, observedNow: now, into: &w)
                }
            }
            while lineStart < file.filled {
                guard let found = memchr(base + lineStart, 0x0A, file.filled - lineStart) else { break }
                let newline = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                if file.skipping {
                    file.skipping = false
                } else {
                    file.decoder.decode(
                        UnsafeRawBufferPointer(start: base + lineStart, count: newline - lineStart),
                        startOffset: file.bufferOffset + Int64(lineStart), emit: emit)
                }
                lineStart = newline + 1
            }
            let rest = file.filled - lineStart
            if rest > 0 && (final || rest >= maxLineBytes) {
                // Over-long line (its head goes out cut and flagged), or a last line that will not get its `\n`.
                if !file.skipping {
                    file.decoder.decode(
                        UnsafeRawBufferPointer(start: base + lineStart, count: rest),
                        startOffset: file.bufferOffset + Int64(lineStart), cut: !final, emit: emit)
                }
                file.skipping = !final
                lineStart = file.filled
            }
            if final { file.decoder.flush(emit: emit) }
            return lineStart
        }
        if consumed > 0 {
            let rest = file.filled - consumed
            if rest > 0 {
                file.storage.withUnsafeMutableBytes { raw in
                    let base = raw.baseAddress!
                    base.copyMemory(from: base + consumed, byteCount: rest)
                }
            }
            file.filled = rest
            file.bufferOffset += Int64(consumed)
            if file.storage.count > 2 * readSize && rest < readSize {
                file.storage = Array(file.storage[0..<rest])
            }
        }
    }

    /// Hands the file's open chunk to the pipeline (waiting while it is full), registered in the
    /// ledger so its acknowledgement moves the checkpoint.
    func submit(_ file: TailedFile) async throws {
        let safe = file.safeOffset
        guard let (bytes, records) = file.chunk.finish() else {
            ledger.skip(file.key, to: safe)
            return
        }
        let key = file.key
        let ledger = self.ledger
        let budget = self.budget
        let size = bytes.count
        try await budget.acquire(size)  // before the ledger entry: a cancelled wait hands nothing over
        let token = ledger.append(key, end: safe)
        let chunk = TelemetryChunk(
            signal: .logs, bytes: bytes, itemCount: records,
            acknowledgement: Acknowledgement { outcome in
                budget.release(size)
                ledger.acknowledge(key, token, outcome)
            })
        do {
            try await pipeline.submit(chunk)
        } catch {
            budget.release(size)
            ledger.acknowledge(key, token, .failed)
            throw error
        }
    }
}
