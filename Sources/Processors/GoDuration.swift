/// Go's `time.Duration.String()` form as Flux logs it ("1.834512907s", "2m3.5s", "150ms", "1h0m0s"),
/// parsed to nanoseconds: the reconcile durations of "Reconciliation finished in …" lines (issue 18, part 3).
public enum GoDuration {
    /// The messages that end a reconcile with its duration, each followed by `<duration>[, next run in …]`:
    /// - kustomize-controller (and source-controller before v1), `Reconciliation finished in `;
    /// - helm-controller v0.36 (`controllers/helmrelease_controller.go`), `reconciliation finished in `;
    /// - helm-controller before v0.36 (the same line with its old typo, fixed in ee3f232, 2023-07),
    ///   `reconcilation finished in `.
    ///
    /// helm-controller v0.37 and later (Flux 2.2+, the v2 reconciler) log no duration line: their spans keep
    /// notification-controller's start.
    static let reconcileFinished: [[UInt8]] = [
        Array("Reconciliation finished in ".utf8), Array("reconciliation finished in ".utf8),
        Array("reconcilation finished in ".utf8),
    ]

    /// A reconcile-finished message's duration (`reconcileFinished`), or nil for any other message.
    public static func reconcileDuration<C: Collection>(message: C) -> UInt64? where C.Element == UInt8 {
        guard let prefix = reconcileFinished.first(where: { message.starts(with: $0) }) else { return nil }
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
