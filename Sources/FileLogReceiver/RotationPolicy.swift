/// The tailer's rotation and copy-truncate decisions, as pure functions of what it observed of a file's
/// identity (inode, fingerprint of the first bytes, size, modification time) and of its own position.
/// `Tailer` does the I/O (stat, pread, readdir) and acts on the answers; the rules live here, tested as
/// values in `RotationPolicyTests`.
///
/// A fingerprint comparison costs a read, so it is passed as an autoclosure: it runs only when the rule
/// needs it, as the tailer's inline checks did.
enum RotationPolicy {
    /// Why a tailed file is read again from its start.
    enum Truncation: String, Sendable, Equatable {
        /// Copy-truncate: the file is shorter than what was read.
        case sizeBelowOffset = "size below offset"
        /// Truncated and rewritten (past the offset, or not yet): the first bytes are not the ones read.
        case fingerprintChanged = "fingerprint changed"
    }

    /// Before reading new bytes: truncated when the size fell below the read offset, or when the file
    /// grew past it but its first bytes changed (truncated, then rewritten past the offset).
    static func truncationBeforeRead(
        size: Int64, readOffset: Int64, fingerprintLength: Int, firstBytesMatch: @autoclosure () -> Bool
    ) -> Truncation? {
        if size < readOffset { return .sizeBelowOffset }
        if readOffset > 0 && size > readOffset && fingerprintLength > 0 && !firstBytesMatch() {
            return .fingerprintChanged
        }
        return nil
    }

    /// At a poll: truncated when the first bytes changed (the file still holds at least as many).
    static func truncationAtPoll(
        size: Int64, readOffset: Int64, fingerprintLength: Int, firstBytesMatch: @autoclosure () -> Bool
    ) -> Truncation? {
        fingerprintLength > 0 && size >= Int64(fingerprintLength) && readOffset > 0 && !firstBytesMatch()
            ? .fingerprintChanged : nil
    }

    /// A fingerprint shorter than `fingerprintSize` grows once the file does (the caller extends it only
    /// while its prefix still matches: else the file was rewritten and a truncation check catches it).
    static func shouldExtendFingerprint(fingerprintLength: Int, fingerprintSize: Int, size: Int64) -> Bool {
        fingerprintLength > 0 && fingerprintLength < fingerprintSize && size > Int64(fingerprintLength)
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

    /// The offset a newly opened file of `size` bytes is read from: its checkpoint when that is the same
    /// file (offset within the file, fingerprint matching), else as `start` says. Nil: do not open it.
    static func startOffset(
        size: Int64, checkpointOffset: Int64?, checkpointMatches: @autoclosure () -> Bool, start: Start,
        startAtBeginning: Bool
    ) -> (offset: Int64, fromCheckpoint: Bool)? {
        if let checkpointOffset, checkpointOffset <= size, checkpointMatches() { return (checkpointOffset, true) }
        switch start {
        case .checkpointOnly: return nil
        case .checkpointOrStartAt: return (startAtBeginning ? 0 : size, false)
        case .checkpointOrBeginning: return (0, false)
        }
    }

    /// What a poll does with a tailed file once its new bytes are read.
    struct AtPoll: Sendable, Equatable {
        /// Emit the buffered half line without its `\n`.
        var flushTail: Bool
        /// Close the file: rotated away or deleted, read to its end, idle for two polls.
        var letGo: Bool
    }

    /// `atEnd`: everything was read; `waiting`: bytes or a half-joined record are buffered; `matched`:
    /// the include globs still found it at its path; `idlePolls`: polls in a row it was at its end (this
    /// one counted); `sinceGrowth`: since it last grew.
    static func atPoll(
        atEnd: Bool, waiting: Bool, matched: Bool, idlePolls: Int, sinceGrowth: Duration, flushAfter: Duration
    ) -> AtPoll {
        AtPoll(
            flushTail: atEnd && waiting && (!matched || sinceGrowth >= flushAfter),
            letGo: !matched && atEnd && idlePolls >= 2)
    }

    /// Whether a name next to a rotated file names one of its generations: it extends the tailed name
    /// (`0.log.1`, `0.log.20261203-130000`), and is not compressed (`.gz`).
    static func isGenerationName(_ name: String, of tailedName: String) -> Bool {
        name.count > tailedName.count && name.hasPrefix(tailedName) && !name.hasSuffix(".gz")
    }

    /// Whether a generation (a regular file with such a name) was rotated away before the tailer saw it:
    /// not open, not found by the globs, not already read whole, and written after the predecessor
    /// (modified no earlier than its last write; timestamps are coarse).
    static func isMissedGeneration(
        isOpen: Bool, wasFound: Bool, modified: Int, predecessorWrittenUntil: Int, wasFinished: @autoclosure () -> Bool
    ) -> Bool {
        !isOpen && !wasFound && modified >= predecessorWrittenUntil && !wasFinished()
    }

    /// A file next to a truncated one that may be its copy.
    struct CopyCandidate<ID: Equatable>: Equatable {
        var id: ID
        var modified: Int
        var size: Int64
        /// Its first bytes are the tailed file's fingerprint.
        var fingerprintMatches: Bool
    }

    /// The copies to read after a truncation, in order: the newest copy that starts with the file's
    /// fingerprint and is at least as long as what was read (its tail is what the tailer missed), then
    /// every newer one, oldest first (the tailer fell more than one rotation behind). A copy made in the
    /// same clock tick as the match counts as newer. Empty when no copy matches.
    static func copiesToRead<ID>(_ candidates: [CopyCandidate<ID>], readOffset: Int64) -> [ID] {
        let matching = candidates.filter { $0.size >= readOffset && $0.fingerprintMatches }
        guard let match = matching.max(by: { $0.modified < $1.modified }) else { return [] }
        var chain = [match.id]
        for candidate in candidates.sorted(by: { $0.modified < $1.modified }) where candidate.id != match.id {
            if candidate.modified >= match.modified { chain.append(candidate.id) }
        }
        return chain
    }
}
