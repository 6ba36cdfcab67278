public import FluxtelConfig

/// The retry policy of one export, as a value: it is told how each attempt failed and answers
/// whether (and when) to try again. No sockets, no sleeping: the exporter performs the actions.
///
/// Behaviour follows the OTLP/HTTP specification and the OpenTelemetry Collector's exporter helper:
/// - only 429, 502, 503, 504 and transport errors are retryable (any other status is permanent);
/// - the delay grows as `initialInterval × multiplier^n`, capped at `maxInterval`, and is randomised
///   by ±`randomizationFactor` (50 %) like the Collector's exponential backoff;
/// - `Retry-After` is honoured as a lower bound on the delay;
/// - if the next attempt would start after `start + maxElapsedTime`, it gives up instead.
///
/// Generic over the instant type so tests drive time with plain values.
public struct RetryStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// `exporters.otlp_http.retry`.
    public typealias Policy = RetryConfiguration

    /// Jitter as a fraction of the interval: the delay is uniform in `interval × [1 - f, 1 + f]` (the
    /// Collector's default).
    public static var randomizationFactor: Double { 0.5 }

    /// How an attempt failed.
    public enum Failure: Sendable, Hashable {
        /// The server answered with this status (anything but 2xx).
        case status(Int, retryAfter: Duration?)
        /// No usable response: connection refused/reset, timeout, TLS failure.
        case transport
    }

    public enum Action: Sendable, Hashable {
        /// Sleep this long, then try again.
        case retry(after: Duration)
        /// The server refused the data permanently: drop it.
        case drop
        /// Retryable, but the policy is exhausted (disabled, or the deadline would pass).
        case giveUp
    }

    public let policy: Policy
    public let start: Instant
    /// Failed attempts so far.
    public private(set) var failures = 0
    /// The un-randomised interval for the next retry.
    public private(set) var currentInterval: Duration

    public init(policy: Policy, start: Instant) {
        self.policy = policy
        self.start = start
        self.currentInterval = min(policy.initialInterval, policy.maxInterval)
    }

    /// The statuses the OTLP/HTTP specification lists as retryable.
    public static func isRetryable(status: Int) -> Bool {
        status == 429 || status == 502 || status == 503 || status == 504
    }

    public var deadline: Instant? {
        policy.maxElapsedTime > .zero ? start.advanced(by: policy.maxElapsedTime) : nil
    }

    /// Records a failed attempt at `now` and decides what happens next. `random` is a uniform
    /// sample in `0..<1` (injected so tests can pin the jitter).
    public mutating func failed(_ failure: Failure, now: Instant, random: Double) -> Action {
        failures += 1
        let retryAfter: Duration?
        switch failure {
        case .status(let status, let after):
            guard Self.isRetryable(status: status) else { return .drop }
            retryAfter = after
        case .transport:
            retryAfter = nil
        }
        guard policy.enabled else { return .giveUp }

        let f = Self.randomizationFactor
        let jittered = currentInterval * (1 - f + 2 * f * min(max(random, 0), 1))
        // Grow for next time, capped.
        let grown = currentInterval * max(policy.multiplier, 1)
        currentInterval = min(grown, policy.maxInterval)

        var delay = jittered
        if let retryAfter, retryAfter > delay { delay = retryAfter }
        if let deadline, now.advanced(by: delay) > deadline { return .giveUp }
        return .retry(after: delay)
    }

    /// Convenience for the exporter: samples the jitter from the system generator.
    public mutating func failed(_ failure: Failure, now: Instant) -> Action {
        failed(failure, now: now, random: Double.random(in: 0..<1))
    }
}
