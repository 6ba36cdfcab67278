/// The clock behind the agent's timers: the pipeline's batch timeout and the exporter's retry
/// back-off. Production code uses ``continuous`` (the process's `ContinuousClock`); tests pass a
/// clock they advance by hand, so a timer fires when the test says so instead of after a sleep.
///
/// Two stored closures, called once per timer (when a batch opens, when a back-off starts), never
/// per item: the hot path pays no existential.
public struct TimerClock: Sendable {
    /// The current instant.
    public let now: @Sendable () -> ContinuousClock.Instant
    /// Suspends until `deadline`; throws `CancellationError` when the calling task is cancelled.
    public let sleepUntil: @Sendable (_ deadline: ContinuousClock.Instant) async throws -> Void

    public init(
        now: @escaping @Sendable () -> ContinuousClock.Instant,
        sleepUntil: @escaping @Sendable (_ deadline: ContinuousClock.Instant) async throws -> Void
    ) {
        self.now = now
        self.sleepUntil = sleepUntil
    }

    /// The real clock (`ContinuousClock`).
    public static let continuous = TimerClock(
        now: { ContinuousClock.now },
        sleepUntil: { deadline in try await Task.sleep(until: deadline, clock: .continuous) })

    /// Suspends for `duration` from now.
    public func sleep(for duration: Duration) async throws {
        try await sleepUntil(now().advanced(by: duration))
    }
}
