/// Go's `time.Duration.String()` form as Flux logs it ("1.834512907s", "2m3.5s", "150ms", "1h0m0s"),
/// parsed to nanoseconds: the reconcile durations of "Reconciliation finished in …" lines (issue 18, part 3).
public enum GoDuration {
    /// "Reconciliation finished in <duration>, next run in …": the duration, or nil for any other message.
    public static func reconcileDuration<C: Collection>(message: C) -> UInt64? where C.Element == UInt8 {
        let prefix = Array("Reconciliation finished in ".utf8)
        guard message.starts(with: prefix) else { return nil }
        let rest = message.dropFirst(prefix.count)
        return parse(rest.prefix { $0 != UInt8(ascii: ",") })
    }

    /// Nanoseconds of a Go duration string; nil when it is not one (or negative).
    public static func parse<C: Collection>(_ text: C) -> UInt64? where C.Element == UInt8 {
        let bytes = Array(text)
        guard !bytes.isEmpty else { return nil }
        if bytes == [UInt8(ascii: "0")] { return 0 }
        var i = 0
        var total: Double = 0
        while i < bytes.count {
            let start = i
            while i < bytes.count, bytes[i] &- 0x30 < 10 || bytes[i] == UInt8(ascii: ".") { i += 1 }
            guard i > start, let number = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else { return nil }
            let unitStart = i
            while i < bytes.count, !(bytes[i] &- 0x30 < 10 || bytes[i] == UInt8(ascii: ".")) { i += 1 }
            let scale: Double
            switch String(decoding: bytes[unitStart..<i], as: UTF8.self) {
            case "h": scale = 3_600e9
            case "m": scale = 60e9
            case "s": scale = 1e9
            case "ms": scale = 1e6
            case "us", "µs", "μs": scale = 1e3
            case "ns": scale = 1
            default: return nil
            }
            total += number * scale
        }
        guard total.isFinite, total < 1.8e19 else { return nil }
        return UInt64(total.rounded())
    }
}
