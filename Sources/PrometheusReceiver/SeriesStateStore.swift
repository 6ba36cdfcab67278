import Pipeline

/// Where the receiver keeps each target's series start times across agent restarts
/// (`receivers.prometheus.state_dir`): one `SeriesStateFile` per target, named by a hash of its id,
/// replaced atomically. Only matters for targets without `process_start_time_seconds`.
///
/// Bounded: at most `maxSeries` series per target (live ones first); the others get a new start time
/// after a restart, as without a state directory. Written when a series appeared or a start time moved,
/// at most every `minInterval`, at least every `refreshInterval` (so the last values stay close, for
/// resets that happen while the agent is down), and when the target's loop ends (shutdown, removal).
struct SeriesStateStore: Sendable {
    let directory: String
    static let maxSeries = 20_000
    static let minInterval: UInt64 = 30 * 1_000_000_000
    static let refreshInterval: UInt64 = 5 * 60 * 1_000_000_000

    func path(forTarget id: String) -> String {
        let name = String(stableHash(id), radix: 16)
        return directory + "/prometheus-" + String(repeating: "0", count: 16 - name.count) + name + ".series"
    }

    /// The kept series of a target; empty when there is no file. A file that cannot be read or decoded
    /// also gives none, with the reason (the caller logs it): it never blocks a scrape.
    func load(target id: String) -> (entries: [SeriesStateFile.Entry], problem: String?) {
        let path = path(forTarget: id)
        do {
            let limit = 64 + id.utf8.count + Self.maxSeries * SeriesStateFile.entryBytes
            guard let bytes = try AtomicFile.contents(of: path, maxBytes: limit) else { return ([], nil) }
            return (try SeriesStateFile.decode(bytes, target: id), nil)
        } catch let error as FileIOError {
            return ([], "\(error)")
        } catch {
            return ([], "\(path): \(error)")
        }
    }

    func save(target id: String, tracker: SeriesTracker) throws(FileIOError) {
        let entries = tracker.persistentSeries(limit: Self.maxSeries)
        try AtomicFile.replace(
            path(forTarget: id), in: directory, with: SeriesStateFile.encode(target: id, entries: entries))
    }

    /// A target gone for good (removed past the staleness window): its file goes too.
    func remove(target id: String) { AtomicFile.remove(path(forTarget: id)) }

    /// Whether a write is due at `now`, given the last one (0: never).
    static func isDue(now: UInt64, lastWrite: UInt64, changed: Bool) -> Bool {
        let elapsed = now &- lastWrite
        return lastWrite == 0 ? changed : (changed && elapsed >= minInterval) || elapsed >= refreshInterval
    }
}
