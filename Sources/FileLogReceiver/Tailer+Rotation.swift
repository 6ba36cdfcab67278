#if canImport(Glibc)
import Glibc
#endif

/// Rotation and copy-truncate: finding what was rotated away unseen, and reading what a truncation left
/// only in the copy. Which neighbours are generations or copies is `RotationPolicy`'s rule, when a file
/// was truncated its `TailedFileState`'s; this is their I/O.
extension Tailer {
    /// After a restart, files that were rotated away (renamed in their directory) while the agent was
    /// down still hold lines past their checkpoint: find them by inode next to the path they had.
    func recoverRotatedFiles(seen: Set<FileKey>) {
        for checkpoint in restored.values where !seen.contains(checkpoint.key) && files[checkpoint.key] == nil {
            let directory = Self.split(checkpoint.path).directory
            let match = Self.entries(of: directory)?
                .first { $0.inode == checkpoint.key.inode && !$0.name.hasSuffix(".gz") }
                .map { directory + "/" + $0.name }
            if let match, let file = open(match, expected: checkpoint.key, start: .checkpointOnly, matched: false) {
                logger.info("Reading the rest of a file rotated while stopped", metadata: ["file.path": "\(match)"])
                openMissedGenerations(after: file, base: (checkpoint.path, checkpoint.path), found: seen)
            }
        }
    }

    /// Opens, from their beginning, the generations rotated away after `predecessor` that were never
    /// seen at the tailed path `base` (as found, and with symlinks resolved): files next to it whose
    /// name extends its name (`0.log.1`, `0.log.20261203-130000`; not `.gz`), that no glob matches, that
    /// are not open or already read whole, and that were written after the predecessor (modified no
    /// earlier than its last write; timestamps are coarse). Oldest first, named as `base`.
    /// A starved tailer (backpressure, a busy node) or a restart used to skip them whole.
    func openMissedGenerations(
        after predecessor: TailedFile, base: (path: String, resolved: String),
        found: Set<FileKey>
    ) {
        var st = stat()
        guard fstat(predecessor.fd, &st) == 0 else { return }
        let writtenUntil = Self.nanos(st.st_mtim)
        let (directory, name) = Self.split(base.resolved)
        guard let entries = Self.entries(of: directory) else { return }
        var generations: [(path: String, key: FileKey, mtime: Int)] = []
        for (entryName, _) in entries where RotationPolicy.isGenerationName(entryName, of: name) {
            let path = directory + "/" + entryName
            guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            let key = FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            let mtime = Self.nanos(st.st_mtim)
            guard
                RotationPolicy.isMissedGeneration(
                    isOpen: files[key] != nil, wasFound: found.contains(key), modified: mtime,
                    predecessorWrittenUntil: writtenUntil, wasFinished: wasFinished(key, path: path))
            else { continue }
            generations.append((path, key, mtime))
        }
        for generation in generations.sorted(by: { $0.mtime < $1.mtime }) {
            guard
                open(
                    generation.path, expected: generation.key, start: .checkpointOrBeginning, matched: false,
                    labels: base) != nil
            else { continue }
            counters.missedGenerations.increment()
            logger.info(
                "Reading a log file rotated away before it was seen",
                metadata: ["file.path": "\(generation.path)", "file.rotated_from": "\(base.path)"])
        }
    }

    /// The file at `path` is one already read whole (same inode, same first bytes).
    func wasFinished(_ key: FileKey, path: String) -> Bool {
        guard let fingerprint = finished.fingerprint(of: key) else { return false }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        return readFingerprint(fd, length: fingerprint.length) == fingerprint
    }

    /// The file was truncated (copy-truncate). Lines written after the last read and before the
    /// truncation are only in the copy: when a file next to it starts with the same fingerprint and
    /// is long enough, the missing tail is read from there first (closing copy-truncate's race). If the
    /// tailer fell more than one rotation behind, the newer copies (by modification time) are read whole.
    func truncated(_ file: TailedFile, reason: TailedFileState.Truncation) async throws {
        logger.info(
            "Log file truncated, reading it again from its start",
            metadata: [
                "file.path": "\(file.path)", "reason": "\(reason.rawValue)", "file.offset": "\(file.state.readOffset)",
            ])
        counters.truncations.increment()
        let copies = findCopies(of: file)
        defer { for copy in copies { close(copy) } }
        for (index, copy) in copies.enumerated() {
            if index > 0 {  // a newer copy, read whole
                file.state.rewind(to: 0)
                file.bufferOffset = 0
                file.filled = 0
            }
            var st = stat()
            guard fstat(copy, &st) == 0 else { continue }
            let size = Int64(st.st_size)
            while file.state.readOffset < size {
                guard try await read(file, from: copy, size: size) else { break }
            }
            try await flushTail(file)
        }
        let fd = file.fd
        let fingerprint = file.state.restarted(firstBytes: { readFingerprint(fd, length: $0) })
        file.clearBuffer()
        ledger.reset(file.key, fingerprint: fingerprint)
    }

    /// Copies of the file's old content next to it: the one with the same fingerprint (at least as long
    /// as what was read), then any newer ones, oldest first. Empty when there is no such copy.
    func findCopies(of file: TailedFile) -> [Int32] {
        let (fingerprint, readOffset) = (file.state.fingerprint, file.state.readOffset)
        guard fingerprint.length > 0 else { return [] }
        let directory = Self.split(file.path).directory
        guard let entries = Self.entries(of: directory) else { return [] }
        var candidates: [RotationPolicy.CopyCandidate<Int32>] = []
        for (name, _) in entries where !name.hasSuffix(".gz") {
            let fd = Glibc.open(directory + "/" + name, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG,
                files[FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))] == nil
            else {
                close(fd)
                continue
            }
            let size = Int64(st.st_size)
            candidates.append(
                .init(
                    id: fd, modified: Self.nanos(st.st_mtim), size: size,
                    // read only from copies long enough to be the one (the policy asks for that too)
                    fingerprintMatches: size >= readOffset
                        && readFingerprint(fd, length: fingerprint.length) == fingerprint))
        }
        let chain = RotationPolicy.copiesToRead(candidates, readOffset: readOffset)
        for candidate in candidates where !chain.contains(candidate.id) { close(candidate.id) }
        return chain
    }

}
