#if canImport(Glibc)
import Glibc
#endif

/// Byte-level timestamp parsing for the formats Flux, the kubelet and docker write.
public enum Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM]` (ISO 8601 as zap writes it, and RFC 3339 /
    /// RFC 3339 Nano as the kubelet and docker write it) into nanoseconds since the Unix epoch.
    /// A missing zone means UTC. `nil` when the bytes are not such a timestamp.
    public static func parseISO8601(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64? {
        guard n >= 19 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int? {
            let c = p[i] &- 0x30
            return c < 10 ? Int(c) : nil
        }
        @inline(__always) func two(_ i: Int) -> Int? {
            guard let a = digit(i), let b = digit(i + 1) else { return nil }
            return a * 10 + b
        }
        guard let y1 = two(0), let y2 = two(2), p[4] == UInt8(ascii: "-"), let month = two(5),
            p[7] == UInt8(ascii: "-"), let day = two(8), p[10] == UInt8(ascii: "T") || p[10] == UInt8(ascii: " "),
            let hour = two(11), p[13] == UInt8(ascii: ":"), let minute = two(14), p[16] == UInt8(ascii: ":"),
            let second = two(17)
        else { return nil }
        let year = y1 * 100 + y2
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var nanos = 0
        if i < n, p[i] == UInt8(ascii: ".") || p[i] == UInt8(ascii: ",") {
            i += 1
            var digits = 0
            while i < n, let d = digit(i) {
                if digits < 9 {
                    nanos = nanos * 10 + d
                    digits += 1
                }
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { nanos *= 10 }
        }
        var offsetSeconds = 0
        if i < n {
            let c = p[i]
            if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                i += 1
            } else if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                guard i + 3 <= n, let hh = two(i + 1) else { return nil }
                var j = i + 3
                var mm = 0
                if j < n, p[j] == UInt8(ascii: ":") { j += 1 }
                if j + 2 <= n, let m = two(j) {
                    mm = m
                    j += 2
                }
                offsetSeconds = (hh * 3600 + mm * 60) * (c == UInt8(ascii: "-") ? -1 : 1)
                i = j
            }
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        guard seconds >= 0, seconds <= maxSeconds else { return nil }  // year 2554: time_unix_nano is a uint64
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(nanos)
    }

    /// Epoch seconds (possibly fractional, as other zap configurations write `ts`) to nanoseconds.
    public static func fromEpochSeconds(_ seconds: Double) -> UInt64? {
        // Not beyond what nanoseconds in a UInt64 hold (`UInt64(_:)` traps above it: 1e11 s crashed the agent).
        guard seconds.isFinite, seconds > 0, seconds <= Double(maxSeconds) else { return nil }
        return UInt64(seconds * 1e9)
    }

    /// Latest second whose nanoseconds (plus a fraction) still fit a UInt64 (2554-07-21).
    public static let maxSeconds = Int(UInt64.max / 1_000_000_000) - 1

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `parseISO8601` over a string (Kubernetes API times: `2026-08-12T09:14:02Z`, MicroTime with six digits).
    public static func parseISO8601(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return nil }
            return parseISO8601(base, buffer.count)
        }
    }

    /// The wall clock, nanoseconds since the Unix epoch (`CLOCK_REALTIME`).
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
