/// When the agent's periodic `malloc_trim` runs (`fluxtel`'s `MallocTuning`), decided once per tick
/// from a count of work done (`Pipeline.batchesSealed`).
///
/// A trim gives the kernel every free page of the heap, and the next burst of work faults them back in.
/// Once a burst is over that is what an idle agent should do, but a workload that runs every second
/// (a scrape of a large target every 1 s, a steady log stream) paid for it on every other burst: on a
/// 2,120-sample scrape every second, 102 page faults per scrape against 38 with this schedule, and
/// 0.3 ms of CPU (benchmarks/HISTORY.md, "the scrape workload's peak RSS"). So:
/// - after a quiet tick (no work since the tick before) that followed work: trim, as always: the idle
///   agent keeps only what it uses;
/// - while work goes on tick after tick: trim every `busyTicks` ticks only, so what one burst frees
///   stays mapped for the next one, and fragmentation still cannot build up for long;
/// - nothing done since the last trim: no trim (it would find nothing to give back).
public struct TrimSchedule: Equatable, Sendable {
    /// Ticks of uninterrupted work between two trims.
    public let busyTicks: Int
    var lastActivity: UInt64
    /// Work was done since the last trim.
    var dirty = true
    var ticksSinceTrim = 0

    public init(busyTicks: Int, activity: UInt64 = 0) {
        self.busyTicks = max(1, busyTicks)
        self.lastActivity = activity
    }

    /// One tick: `activity` is the work counter now. Returns whether to trim now.
    public mutating func tick(activity: UInt64) -> Bool {
        ticksSinceTrim += 1
        let busy = activity != lastActivity
        lastActivity = activity
        if busy { dirty = true }
        guard dirty, !busy || ticksSinceTrim >= busyTicks else { return false }
        dirty = false
        ticksSinceTrim = 0
        return true
    }
}
