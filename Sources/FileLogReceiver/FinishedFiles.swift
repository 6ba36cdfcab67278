/// Rotated files the tailer read to their end and let go, by identity (device + inode, and the
/// fingerprint of their first bytes, since an inode is reused once its file is deleted).
///
/// A rotation scan (`Tailer.openMissedGenerations`) must not read such a file again when a writer that
/// kept it open touched it after the rotation. Bounded: the oldest entries go first; an entry only
/// matters while its file still sits next to the tailed one, for a few rotations.
struct FinishedFiles {
    private var fingerprints: [FileKey: Fingerprint] = [:]
    private var order: [FileKey] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
    }

    var count: Int { fingerprints.count }

    mutating func insert(_ key: FileKey, fingerprint: Fingerprint) {
        if fingerprints.updateValue(fingerprint, forKey: key) == nil { order.append(key) }
        while fingerprints.count > capacity, head < order.count {
            fingerprints[order[head]] = nil
            head += 1
        }
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }

    /// The fingerprint the file had when it was let go, if it was.
    func fingerprint(of key: FileKey) -> Fingerprint? { fingerprints[key] }
}
