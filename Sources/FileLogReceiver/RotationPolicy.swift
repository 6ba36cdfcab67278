/// The tailer's rules about a tailed file's neighbours, as pure functions of what it observed of them
/// (name, inode, fingerprint of the first bytes, size, modification time): which are generations rotated
/// away unseen, and which are the copies a copy-truncate left. `Tailer+Rotation` does the I/O (readdir,
/// stat, pread) and acts on the answers; what happens to the tailed file itself is its `TailedFileState`'s.
/// Tested as values in `RotationPolicyTests`.
///
/// A fingerprint comparison costs a read, so it is passed as an autoclosure: it runs only when the rule
/// needs it.
enum RotationPolicy {
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
