import Exporters
import FluxtelConfig
import Testing

@Suite struct RetryStateMachineTests {
    typealias Machine = RetryStateMachine<ContinuousClock.Instant>
    let t0 = ContinuousClock.now

    func machine(
        initial: Duration = .milliseconds(100), max: Duration = .seconds(1), elapsed: Duration = .seconds(60),
        multiplier: Double = 2, enabled: Bool = true
    ) -> Machine {
        Machine(
            policy: RetryConfiguration(
                enabled: enabled, initialInterval: initial, maxInterval: max, maxElapsedTime: elapsed,
                multiplier: multiplier),
            start: t0)
    }

    @Test func backoffGrowsByMultiplierAndIsCapped() {
        var m = machine()
        var delays: [Duration] = []
        for _ in 0..<7 {
            // random 0.5 = the un-jittered midpoint.
            guard case .retry(let delay) = m.failed(.status(503, retryAfter: nil), now: t0, random: 0.5) else {
                Issue.record("expected retry")
                return
            }
            delays.append(delay)
        }
        #expect(
            delays == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
                .seconds(1),
                .seconds(1),
            ])
        #expect(m.failures == 7)
    }

    @Test func jitterStaysWithinPlusMinusHalf() {
        for random in [0.0, 0.25, 0.999_999] {
            var m = machine()
            guard case .retry(let delay) = m.failed(.transport, now: t0, random: random) else {
                Issue.record("expected retry")
                return
            }
            #expect(delay >= .milliseconds(50) && delay <= .milliseconds(150), "\(delay)")
        }
        var m = machine()
        #expect(m.failed(.transport, now: t0, random: 0) == .retry(after: .milliseconds(50)))
        #expect(m.failed(.transport, now: t0, random: 1) == .retry(after: .milliseconds(300)))
        // Live jitter, many samples: always in [0.5, 1.5] × interval.
        for _ in 0..<1000 {
            var fresh = machine()
            guard case .retry(let delay) = fresh.failed(.status(429, retryAfter: nil), now: t0) else {
                Issue.record("expected retry")
                return
            }
            #expect(delay >= .milliseconds(50) && delay <= .milliseconds(150))
        }
    }

    @Test func givesUpWhenTheNextAttemptWouldPassTheDeadline() {
        var m = machine(initial: .seconds(1), max: .seconds(1), elapsed: .seconds(10))
        #expect(m.failed(.transport, now: t0 + .seconds(8), random: 0.5) == .retry(after: .seconds(1)))
        #expect(m.failed(.transport, now: t0 + .seconds(9), random: 0.5) == .retry(after: .seconds(1)))  // lands on it
        #expect(m.failed(.transport, now: t0 + .milliseconds(9001), random: 0.5) == .giveUp)
    }

    @Test func zeroMaxElapsedTimeMeansNoDeadline() {
        var m = machine(elapsed: .zero)
        #expect(m.deadline == nil)
        #expect(
            m.failed(.transport, now: t0 + .seconds(86_400 * 365), random: 0.5) == .retry(after: .milliseconds(100)))
    }

    @Test func retryAfterIsALowerBound() {
        var m = machine()
        #expect(m.failed(.status(429, retryAfter: .seconds(2)), now: t0, random: 0.5) == .retry(after: .seconds(2)))
        // Retry-After may exceed max_interval: it is honoured.
        #expect(m.failed(.status(503, retryAfter: .seconds(5)), now: t0, random: 0.5) == .retry(after: .seconds(5)))
        // Shorter than the backoff: the backoff wins.
        #expect(
            m.failed(.status(503, retryAfter: .milliseconds(1)), now: t0, random: 0.5)
                == .retry(after: .milliseconds(400)))
    }

    @Test func retryAfterBeyondTheDeadlineGivesUp() {
        var m = machine(elapsed: .seconds(30))
        #expect(m.failed(.status(429, retryAfter: .seconds(31)), now: t0, random: 0.5) == .giveUp)
        var n = machine(elapsed: .seconds(30))
        #expect(n.failed(.status(429, retryAfter: .seconds(20)), now: t0 + .seconds(11), random: 0.5) == .giveUp)
    }

    @Test(arguments: [429, 502, 503, 504])
    func retryableStatuses(status: Int) {
        var m = machine()
        #expect(Machine.isRetryable(status: status))
        #expect(m.failed(.status(status, retryAfter: nil), now: t0, random: 0.5) == .retry(after: .milliseconds(100)))
    }

    @Test(arguments: [300, 400, 401, 403, 404, 408, 413, 415, 500, 501, 505, 599])
    func nonRetryableStatusesAreDropped(status: Int) {
        var m = machine()
        #expect(!Machine.isRetryable(status: status))
        #expect(m.failed(.status(status, retryAfter: .seconds(1)), now: t0, random: 0.5) == .drop)
    }

    @Test func disabledRetryGivesUpAtOnceButStillDropsPermanentErrors() {
        var m = machine(enabled: false)
        #expect(m.failed(.status(503, retryAfter: nil), now: t0, random: 0.5) == .giveUp)
        #expect(m.failed(.transport, now: t0, random: 0.5) == .giveUp)
        #expect(m.failed(.status(400, retryAfter: nil), now: t0, random: 0.5) == .drop)
    }

    @Test func initialIntervalAboveMaxIsCapped() {
        var m = machine(initial: .seconds(5), max: .seconds(2))
        #expect(m.failed(.transport, now: t0, random: 0.5) == .retry(after: .seconds(2)))
    }
}
