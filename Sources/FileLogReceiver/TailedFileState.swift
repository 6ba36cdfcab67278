/// What the tailer does with one tailed file, as a value state machine over the file's identity: its
/// fingerprint (device and inode are its key), the offset read so far, whether the include globs still
/// find it at its path, and how long it has been idle. What the tailer observed (a size, the first bytes,
/// a poll's findings) goes in; the action to perform (read, recover from a truncation, flush the half
/// line, let the file go, give the ledger a new fingerprint) comes out. `Tailer` does the I/O and
/// performs the actions; the rules are tested as values, without files, in `TailedFileStateTests`.
///
/// The file's first bytes are asked for through `firstBytes(length)`, the fingerprint of its first
/// `length` bytes (of fewer when the file is shorter). That is a read, so the machine asks only when a
/// rule needs the answer. The closure is non-escaping: no allocation on the read path.
struct TailedFileState: Sendable, Equatable {
    /// The configuration the rules read.
    struct Policy: Sendable, Equatable {
        /// Bytes at the start of a file that identify it (with device and inode).
        var fingerprintSize: Int
        /// A half line waits this long for its `\n` once the file stops growing.
        var flushAfter: Duration
        /// `start_at: beginning`.
        var startAtBeginning: Bool
    }

    /// Where a newly opened file starts when it has no usable checkpoint.
    enum Start: Sendable, Equatable {
        /// `start_at` (files present at the first poll).
        case checkpointOrStartAt
        /// Its beginning (files that appeared later, missed rotated generations).
        case checkpointOrBeginning
        /// Only from a checkpoint; not opened without one.
        case checkpointOnly
    }

    /// Why a tailed file is read again from its start.
    enum Truncation: String, Sendable, Equatable {
        /// Copy-truncate: the file is shorter than what was read.
        case sizeBelowOffset = "size below offset"
        /// Truncated and rewritten (past the offset, or not yet): the first bytes are not the ones read.
        case fingerprintChanged = "fingerprint changed"
    }

    /// Before a read.
    enum ReadAction: Sendable, Equatable {
        /// Nothing new.
        case none
        /// Read from `readOffset`.
        case read
        /// Read what only the copy holds (`RotationPolicy.copiesToRead`), then `restarted`.
        case truncated(Truncation)
    }

    /// At a poll.
    enum PollAction: Sendable, Equatable {
        /// Read what only the copy holds (`RotationPolicy.copiesToRead`), then `restarted`.
        case truncated(Truncation)
        /// `fingerprintGrew`: the ledger is told the longer fingerprint; `flushTail`: emit the buffered
        /// half line without its `\n`; `letGo`: close the file (rotated away or deleted, read to its end,
        /// idle for two polls), after the flush.
        case tail(fingerprintGrew: Bool, flushTail: Bool, letGo: Bool)
    }

    let key: FileKey
    let policy: Policy
    /// The first bytes as read (up to `fingerprintSize`; shorter while the file is).
    private(set) var fingerprint: Fingerprint
    /// Next byte to read (of the file, or of its copy while recovering from a truncation).
    private(set) var readOffset: Int64
    /// The include globs found it at its path at the last poll (else it was rotated away or deleted:
    /// it is read to its end, then let go).
    private(set) var matched: Bool
    /// Polls in a row at which it was read to its end.
    private(set) var idlePolls = 0
    /// When it last grew (a read got bytes).
    private(set) var lastGrowth: ContinuousClock.Instant

    init(
        key: FileKey, fingerprint: Fingerprint, readOffset: Int64, matched: Bool, policy: Policy,
        now: ContinuousClock.Instant
    ) {
        self.key = key
        self.fingerprint = fingerprint
        self.readOffset = readOffset
        self.matched = matched
        self.policy = policy
        self.lastGrowth = now
    }

    /// Opening a file of `size` bytes: it starts at its checkpoint when that is the same file (the
    /// offset within the file, the checkpoint's fingerprint matching), else as `start` says. Nil: do not
    /// open it. Its fingerprint is the longer of its first bytes now and the matching checkpoint's.
    init?(
        opening key: FileKey, size: Int64, checkpoint: (offset: Int64, fingerprint: Fingerprint)?, start: Start,
        matched: Bool, policy: Policy, now: ContinuousClock.Instant, firstBytes: (Int) -> Fingerprint
    ) {
        var fingerprint = firstBytes(min(Int(size), policy.fingerprintSize))
        let offset: Int64
        if let checkpoint, checkpoint.offset <= size,
            firstBytes(checkpoint.fingerprint.length) == checkpoint.fingerprint
        {
            offset = checkpoint.offset
            if checkpoint.fingerprint.length > fingerprint.length { fingerprint = checkpoint.fingerprint }
        } else {
            switch start {
            case .checkpointOnly: return nil
            case .checkpointOrStartAt: offset = policy.startAtBeginning ? 0 : size
            case .checkpointOrBeginning: offset = 0
            }
        }
        self.init(key: key, fingerprint: fingerprint, readOffset: offset, matched: matched, policy: policy, now: now)
    }

    // MARK: transitions

    /// At a poll, whether the include globs found the file at its path. True when it just stopped being
    /// found (renamed away or deleted): generations rotated away unseen after it are to be looked for.
    mutating func found(atPath found: Bool) -> Bool {
        defer { matched = found }
        return matched && !found
    }

    /// Before reading a file of `size` bytes: truncated when the size fell below the read offset, or when
    /// the file grew past it but its first bytes changed (truncated, then rewritten past the offset).
    func beforeRead(size: Int64, firstBytes: (Int) -> Fingerprint) -> ReadAction {
        if size < readOffset { return .truncated(.sizeBelowOffset) }
        guard size > readOffset else { return .none }
        if readOffset > 0 && fingerprint.length > 0 && firstBytes(fingerprint.length) != fingerprint {
            return .truncated(.fingerprintChanged)
        }
        return .read
    }

    /// `count` bytes were read at the read offset, from the file itself or (`fromCopy`) from its copy.
    /// When they are the file's first bytes and its fingerprint is short, they are its fingerprint
    /// (`firstBytes`: of the bytes just read, not of what the file may hold by the next poll); true
    /// then, and the ledger is told.
    mutating func didRead(
        _ count: Int, fromCopy: Bool, now: ContinuousClock.Instant, firstBytes: (Int) -> Fingerprint
    ) -> Bool {
        let takesFingerprint = !fromCopy && readOffset == 0 && fingerprint.length < policy.fingerprintSize
        if takesFingerprint { fingerprint = firstBytes(min(count, policy.fingerprintSize)) }
        readOffset += Int64(count)
        lastGrowth = now
        return takesFingerprint
    }

    /// At a poll, the file has `size` bytes; `waiting`: bytes or a half-joined record are buffered.
    /// Truncated when its first bytes changed (it still holds at least as many). A short fingerprint
    /// grows with the file, only while its prefix still matches (else the file was rewritten and a
    /// truncation check catches it). A half line is flushed once the file stopped growing for
    /// `flushAfter`, or at once when it was rotated away; a rotated file is let go once read to its end
    /// at two polls in a row.
    mutating func atPoll(
        size: Int64, waiting: Bool, now: ContinuousClock.Instant, firstBytes: (Int) -> Fingerprint
    ) -> PollAction {
        if fingerprint.length > 0 && size >= Int64(fingerprint.length) && readOffset > 0
            && firstBytes(fingerprint.length) != fingerprint
        {
            return .truncated(.fingerprintChanged)
        }
        var grew = false
        if fingerprint.length > 0 && fingerprint.length < policy.fingerprintSize && size > Int64(fingerprint.length) {
            let longer = firstBytes(min(Int(size), policy.fingerprintSize))
            if firstBytes(fingerprint.length) == fingerprint {
                fingerprint = longer
                grew = true
            }
        }
        let atEnd = readOffset >= size
        idlePolls = atEnd ? idlePolls + 1 : 0
        return .tail(
            fingerprintGrew: grew,
            flushTail: atEnd && waiting && (!matched || now - lastGrowth >= policy.flushAfter),
            letGo: !matched && atEnd && idlePolls >= 2)
    }

    /// Reading goes on from `offset`: the checkpoint after a failed export, or the start of the next copy
    /// while recovering from a truncation.
    mutating func rewind(to offset: Int64) {
        readOffset = offset
    }

    /// After a truncation (and what only its copies held was read): the file is read again from its
    /// start, its fingerprint taken anew. Returns it, for the ledger.
    mutating func restarted(firstBytes: (Int) -> Fingerprint) -> Fingerprint {
        readOffset = 0
        fingerprint = firstBytes(policy.fingerprintSize)
        return fingerprint
    }
}
