import Pipeline
import Testing

/// `processors.hold`'s policy without a pipeline: who may wait, until when, and who is let in.
@Suite struct SpanHoldStateTests {
    let start = ContinuousClock.now

    @Test func waitsOnlyWhileTheQueueStaysHalfEmptyAndTheHoldIsOpen() {
        var hold = SpanHoldState<Int>(hold: .seconds(2))
        #expect(hold.admits(bytes: 50, used: 0, capacity: 100))
        #expect(hold.admits(bytes: 20, used: 30, capacity: 100))
        #expect(!hold.admits(bytes: 21, used: 30, capacity: 100), "past half of max_bytes: straight through")
        #expect(!hold.admits(bytes: 1, used: 100, capacity: 100), "a full queue holds nothing")
        #expect(!SpanHoldState<Int>(hold: .zero).admits(bytes: 1, used: 0, capacity: 100), "hold: 0 is off")
        hold.hold(1, bytes: 10, items: 1, now: start)
        #expect(hold.close().map(\.item) == [1])
        #expect(!hold.admits(bytes: 1, used: 0, capacity: 100), "nothing waits after shutdown began")
        #expect(hold.bytes == 0 && hold.items == 0 && hold.entries.isEmpty)
    }

    @Test func releasesAtTheDeadlineInArrivalOrder() {
        var hold = SpanHoldState<Int>(hold: .seconds(2))
        hold.hold(1, bytes: 10, items: 1, now: start)
        hold.hold(2, bytes: 20, items: 3, now: start.advanced(by: .milliseconds(500)))
        #expect(hold.nextDeadline == start.advanced(by: .seconds(2)))
        #expect(hold.bytes == 30 && hold.items == 4)
        #expect(hold.takeExpired(now: start.advanced(by: .milliseconds(1999))).isEmpty)
        #expect(hold.takeExpired(now: start.advanced(by: .seconds(2))).map(\.item) == [1])
        #expect(hold.nextDeadline == start.advanced(by: .milliseconds(2500)))
        #expect(hold.bytes == 20 && hold.items == 3)
        #expect(hold.takeExpired(now: start.advanced(by: .seconds(10))).map(\.item) == [2])
        #expect(hold.nextDeadline == nil && hold.bytes == 0 && hold.items == 0)
    }

    @Test func releasesEarlyWhatNoLongerWaitsAndKeepsTheRestInOrder() {
        var hold = SpanHoldState<Int>(hold: .seconds(2))
        for item in 1...4 { hold.hold(item, bytes: item, items: 1, now: start.advanced(by: .milliseconds(item))) }
        #expect(hold.take { $0 % 2 == 0 }.map(\.item) == [2, 4])
        #expect(hold.entries.map(\.item) == [1, 3])
        #expect(hold.bytes == 4 && hold.items == 2)
        #expect(hold.nextDeadline == start.advanced(by: .milliseconds(2001)))
        #expect(hold.close().map(\.item) == [1, 3])
    }
}
