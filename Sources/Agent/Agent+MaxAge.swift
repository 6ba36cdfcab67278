import OTLPWire
import PersistentQueue
import Pipeline

extension Agent {
    /// `processors.max_age` as the pipeline's intake filter (`AgeFilter` over each chunk's bytes); nil
    /// when it is 0 (off). A chunk that does not parse passes unchanged: intake validation decides.
    static func maxAgeFilter(
        _ maxAge: Duration, wallClock: @escaping DiskQueue.WallClock = DiskQueue.systemWallClock
    )
        -> IntakeFilter?
    {
        let (seconds, attoseconds) = maxAge.components
        let age = UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000)
        guard age > 0 else { return nil }
        return { signal, bytes in
            let now = UInt64(clamping: wallClock())
            guard now > age else { return nil }
            return try? AgeFilter.dropOlder(than: now - age, signal: signal, body: bytes)
        }
    }
}
