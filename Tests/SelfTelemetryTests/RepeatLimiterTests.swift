import Testing

@testable import SelfTelemetry

/// Repeated identical warnings are rate-limited with a count (issue 16, point 4).
@Suite struct RepeatLimiterTests {
    let second: UInt64 = 1_000_000_000

    @Test func identicalLinesWithinTheWindowAreHeldBackAndCounted() {
        var limiter = RepeatLimiter(window: 60 * second)
        let line = Array("warning Export failed: connection refused (127.0.0.1:4318)".utf8)
        #expect(limiter.admit(line, now: 0) == .write(suppressed: 0))
        for t in 1...59 { #expect(limiter.admit(line, now: UInt64(t) * second) == .suppress) }
        #expect(limiter.admit(line, now: 60 * second) == .write(suppressed: 59))
        #expect(limiter.admit(line, now: 61 * second) == .suppress)
        #expect(limiter.admit(line, now: 200 * second) == .write(suppressed: 1))
    }

    @Test func differentLinesAreIndependent() {
        var limiter = RepeatLimiter(window: 60 * second)
        #expect(limiter.admit(Array("a".utf8), now: 0) == .write(suppressed: 0))
        #expect(limiter.admit(Array("b".utf8), now: 1) == .write(suppressed: 0))
        #expect(limiter.admit(Array("a".utf8), now: 2) == .suppress)
        #expect(limiter.admit(Array("b".utf8), now: 3) == .suppress)
    }

    @Test func memoryIsBounded() {
        var limiter = RepeatLimiter(window: 60 * second, capacity: 4)
        for n in 0..<100 { #expect(limiter.admit(Array("line \(n)".utf8), now: UInt64(n)) == .write(suppressed: 0)) }
    }
}
