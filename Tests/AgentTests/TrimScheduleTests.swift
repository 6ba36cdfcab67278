import Testing

@testable import Agent

/// `TrimSchedule`: the heap is trimmed once a burst of work is over, only every `busyTicks` ticks while
/// work goes on, and not at all while nothing happens.
@Suite struct TrimScheduleTests {
    /// Feeds one activity count per tick; returns the ticks (1-based) that trimmed.
    static func trims(_ schedule: inout TrimSchedule, _ activity: [UInt64]) -> [Int] {
        activity.enumerated().compactMap { index, count in schedule.tick(activity: count) ? index + 1 : nil }
    }

    @Test func aQuietTickAfterWorkTrims() {
        var schedule = TrimSchedule(busyTicks: 5, activity: 0)
        // Work on tick 1, quiet on tick 2: trimmed on tick 2, then nothing while idle.
        #expect(Self.trims(&schedule, [1, 1, 1, 1]) == [2])
        // Another burst (a scrape every 30 s): trimmed again once it is over.
        #expect(Self.trims(&schedule, [2, 2, 2]) == [2])
    }

    @Test func startUpIsTrimmedAtTheFirstQuietTick() {
        var schedule = TrimSchedule(busyTicks: 5, activity: 7)
        #expect(Self.trims(&schedule, [7, 7]) == [1])
    }

    @Test func uninterruptedWorkIsTrimmedEveryBusyTicks() {
        var schedule = TrimSchedule(busyTicks: 5, activity: 0)
        // Something sealed at every tick (a scrape every second, ticks every 2 s): every 5th tick only.
        #expect(Self.trims(&schedule, Array(1...12)) == [5, 10])
        // The work stops: the next quiet tick trims what the last ticks left.
        #expect(Self.trims(&schedule, [12, 12]) == [1])
    }

    @Test func busyTicksOfOneIsATrimAtEveryTick() {
        var schedule = TrimSchedule(busyTicks: 0, activity: 0)
        #expect(schedule.busyTicks == 1)
        #expect(Self.trims(&schedule, [1, 2, 3]) == [1, 2, 3])
    }
}
