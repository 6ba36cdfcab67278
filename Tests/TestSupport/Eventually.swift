import Foundation

/// How long tests may wait for an event, as one factor of the machine's speed.
///
/// Every bound a test waits under is a *hang detector*, never a performance claim: it only has to be
/// long enough that a healthy agent on a loaded machine always gets there. `FLUXTEL_TEST_TIME_SCALE`
/// (default 1) multiplies all of them at once, e.g. `FLUXTEL_TEST_TIME_SCALE=4` under valgrind.
public enum TestTime {
    public static let scale: Double = {
        guard let text = ProcessInfo.processInfo.environment["FLUXTEL_TEST_TIME_SCALE"], let value = Double(text),
            value > 0
        else { return 1 }
        return value
    }()

    /// `duration` times the scale.
    public static func scaled(_ duration: Duration) -> Duration { duration * scale }

    /// The default bound for waiting on an event (60 s, scaled).
    public static var patience: Duration { scaled(.seconds(60)) }
}

/// Waits until `condition` holds, looking every 10 ms, for at most `timeout` (scaled by
/// `FLUXTEL_TEST_TIME_SCALE`). Returns whether it held. The bound only catches a hang: wait for an
/// *event* (a count, an acknowledgement), never for time to pass.
public func eventually(
    _ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + TestTime.scaled(timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
