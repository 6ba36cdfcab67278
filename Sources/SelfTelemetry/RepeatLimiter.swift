/// Keeps a log from filling with the same warning: the first of identical lines is written; the next
/// ones within `window` of it are held back and counted; the first one after the window is written with
/// the count of those held back (`"repeated": N`), and opens a new window.
///
/// A pure value: the caller says what the line is and when. `JSONLogHandler` keeps one for all
/// `warning` and higher lines of the process.
struct RepeatLimiter {
    enum Decision: Equatable {
        /// Write it; `suppressed` identical lines were held back since the last one written.
        case write(suppressed: Int)
        case suppress
    }

    private struct Entry {
        var lastWritten: UInt64
        var suppressed: Int
    }

    let window: UInt64
    let capacity: Int
    private var entries: [[UInt8]: Entry] = [:]

    init(window: UInt64 = 60_000_000_000, capacity: Int = 256) {
        self.window = window
        self.capacity = max(1, capacity)
    }

    /// Decides for one line, identified by `key` (level, message and metadata), at `now` (nanoseconds).
    mutating func admit(_ key: [UInt8], now: UInt64) -> Decision {
        if var entry = entries[key] {
            if now &- entry.lastWritten < window {
                entry.suppressed += 1
                entries[key] = entry
                return .suppress
            }
            entries[key] = Entry(lastWritten: now, suppressed: 0)
            return .write(suppressed: entry.suppressed)
        }
        if entries.count >= capacity {
            // Forget lines whose window is over (they have nothing held back worth more than a new line).
            entries = entries.filter { now &- $0.value.lastWritten < window }
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        }
        entries[key] = Entry(lastWritten: now, suppressed: 0)
        return .write(suppressed: 0)
    }
}
