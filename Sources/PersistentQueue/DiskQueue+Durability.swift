import Dispatch
import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// Durability (group commit): one syncer fsyncs what was appended, and the directory after a new segment,
/// then tells the waiting sources; with `sync: interval` it runs every interval instead.
extension DiskQueue {
    /// Calls `callback` once the append with sequence `seq` is durable per the sync policy: returns
    /// true when it already is (the caller calls it, outside its own lock), else it is called later by
    /// the syncer (or at close).
    public func whenDurable(_ seq: UInt64, _ callback: @escaping @Sendable () -> Void) -> Bool {
        if configuration.sync == .interval { return true }
        let now: Bool? = state.withLock { state in
            if seq <= state.durableSeq { return true }
            if state.closed { return nil }  // the syncer may be gone: sync here
            state.durabilityWaiters.append((seq, callback))
            return false
        }
        guard let now else {
            flush()
            return true
        }
        return now
    }

    /// The group-commit loop: fsyncs what was appended (and the directory after a new segment), then
    /// tells the waiting sources. Runs until `close()`, with a final sync on the way out.
    public func run() async {
        while true {
            switch configuration.sync {
            case .batch:
                await waitForAppends()
            case .interval:
                try? await Task.sleep(for: configuration.syncInterval)
            }
            let finished = state.withLock { $0.closed } || Task.isCancelled
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                syncQueue.async {
                    self.flush()
                    done.resume()
                }
            }
            if finished { return }
        }
    }

    func waitForAppends() async {
        await state.park(
            unless: { $0.closed || $0.appendSeq != $0.durableSeq }, in: { state, slot in slot(&state.syncerWaiter) })
    }

    /// One fsync pass over every segment written since the last one.
    public func flush() {
        let (targets, syncDirectory, seq) = state.withLock { state -> ([(UInt64, Int32, String)], Bool, UInt64) in
            var targets: [(UInt64, Int32, String)] = []
            for (id, var segment) in state.segments where segment.dirty {
                segment.dirty = false
                segment.syncing = true
                state.segments[id] = segment
                targets.append((id, segment.fd, segment.path))
            }
            defer { state.directoryDirty = false }
            return (targets, state.directoryDirty, state.appendSeq)
        }
        for (_, fd, path) in targets {
            do { try SegmentIO.sync(fd, path: path) } catch {
                metrics.queueWriteErrors.increment()
                logger.error("Disk queue fsync failed", metadata: ["error": "\(error)"])
            }
        }
        if syncDirectory { _ = fsync(directoryFD) }
        let waiters = state.withLock { state -> [@Sendable () -> Void] in
            for (id, _, _) in targets { state.segments[id]?.syncing = false }
            for fd in state.closeAfterSync { SegmentIO.close(fd) }
            state.closeAfterSync.removeAll()
            state.durableSeq = max(state.durableSeq, seq)
            var ready: [@Sendable () -> Void] = []
            while let first = state.durabilityWaiters.first, first.seq <= state.durableSeq || state.closed {
                ready.append(state.durabilityWaiters.removeFirst().callback)
            }
            return ready
        }
        for waiter in waiters { waiter() }
    }

    /// No more appends: the syncer makes one last pass and returns.
    public func close() {
        let syncer = state.withLock { state in
            state.closed = true
            defer { state.syncerWaiter = nil }
            return state.syncerWaiter
        }
        syncer?.resume()
    }
}
