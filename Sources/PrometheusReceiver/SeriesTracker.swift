/// The per-target memory of the converter: when each cumulative series started, its last value (to see
/// resets), and what to emit when it disappears (staleness). Owned by the target's scrape loop.
///
/// Start times (issue 16): `_created` when served; else the target's `process_start_time_seconds`
/// (the Collector's `start_time_metric`); else the first observation, kept across failed scrapes and a
/// short absence (`retired`, for `retention`), and across agent restarts (`SeriesStateStore`). A value
/// that went down, or a new process start time, is a reset: the series starts again.
public struct SeriesTracker: Sendable {
    struct Series: Sendable {
        var start: UInt64
        var last: Double
        var generation: UInt64
        var stale: StaleTemplate
    }

    /// Enough to write one "no recorded value" point for a series that disappeared.
    struct StaleTemplate: Sendable {
        var kind: MetricType
        var name: [UInt8]
        /// Encoded `KeyValue` fields (with the tag of the point type's `attributes` field).
        var attributes: [UInt8]
    }

    /// A cumulative series that went stale (a failed scrape, the target gone) or was restored from the
    /// state file after an agent restart: its start time is kept for `SeriesTracker.retention`, so a
    /// series that comes back keeps it (no false counter reset).
    struct Retired: Sendable, Equatable {
        var start: UInt64
        var last: Double
        /// When it went stale (nanoseconds since the epoch).
        var at: UInt64
    }

    /// How long a stale series keeps its start time: Prometheus' staleness lookback.
    static let retention: UInt64 = 5 * 60 * 1_000_000_000

    var series: [UInt64: Series] = [:]
    var retired: [UInt64: Retired] = [:]
    /// The target's `process_start_time_seconds` (nanoseconds), 0 until served: the start time of its
    /// cumulative series without `_created` (the Collector's `start_time_metric`), stable across agent
    /// restarts and failed scrapes.
    var processStart: UInt64 = 0
    /// `process_start_time_seconds` changed at this scrape: the target restarted, every series restarts.
    var processRestarted = false
    var generation: UInt64 = 0
    /// A cumulative series appeared or its start time moved since the state file was last written.
    var startsChanged = false
    var filterCache: [UInt64: Bool] = [:]
    // Scratch space reused by every scrape.
    var order: [Int32] = []
    var counts: [Int32] = []
    var groupOf: [Int32] = []
    var groupIndex: [UInt64: Int32] = [:]
    var groupOrder: [Int32] = []
    var bounds: [Double] = []
    var bucketCounts: [UInt64] = []

    public init() {}

    /// Series currently tracked (tests).
    public var trackedSeries: Int { series.count }
}

extension SeriesTracker {
    /// Takes this scrape's `process_start_time_seconds` (nil when not served or the scrape failed).
    mutating func observeProcessStart(_ nanos: UInt64?) {
        guard let nanos, nanos != 0 else {
            processRestarted = false
            return
        }
        processRestarted = processStart != 0 && nanos != processStart
        if processRestarted { retired.removeAll() }
        processStart = nanos
    }

    /// Forgets stale series older than `retention`.
    mutating func expireRetired(now: UInt64) {
        guard !retired.isEmpty else { return }
        retired = retired.filter { now &- $0.value.at < Self.retention }
    }

    /// The start time of a cumulative point of a series seen before (nil: a new series, see
    /// `addCumulative`): `_created` if served, the new process start time after a target restart,
    /// just before this point when the value went down (a reset), else unchanged.
    @inline(__always)
    mutating func knownCumulativeStart(_ hash: UInt64, value: Double, created: Double?, time: UInt64) -> UInt64? {
        guard var known = series[hash] else { return nil }
        let before = known.start
        if let created, created.isFinite, created > 0 {
            known.start = nanos(fromSeconds: created)
        } else if processRestarted {
            known.start = processStart
        } else if value < known.last {
            known.start = Self.justBefore(time)
        }
        if known.start != before { startsChanged = true }
        known.last = value
        known.generation = generation
        series[hash] = known
        return known.start
    }

    /// Starts tracking a cumulative series and returns its start time: `_created`, else the target's
    /// process start time, else the kept start time of a retired (or restored) series unless its value
    /// went down meanwhile, else this point's time.
    mutating func addCumulative(
        _ hash: UInt64, value: Double, created: Double?, time: UInt64, stale: StaleTemplate
    ) -> UInt64 {
        var start = time
        if let created, created.isFinite, created > 0 {
            start = nanos(fromSeconds: created)
        } else if processStart != 0 {
            start = processStart
        } else if let retired = retired.removeValue(forKey: hash) {
            // Back after a failed scrape, a short absence or an agent restart: the same series, unless it
            // went down (a reset).
            start = value >= retired.last ? retired.start : Self.justBefore(time)
        }
        startsChanged = true
        series[hash] = Series(start: start, last: value, generation: generation, stale: stale)
        return start
    }

    /// Marks a gauge series as seen (for staleness); true when it is new.
    @inline(__always)
    mutating func touchKnown(_ hash: UInt64) -> Bool {
        guard series[hash] != nil else { return false }
        series[hash]!.generation = generation
        return true
    }

    mutating func addGauge(_ hash: UInt64, stale: StaleTemplate) {
        series[hash] = Series(start: 0, last: 0, generation: generation, stale: stale)
    }

    /// Forgets series that went stale; cumulative ones keep their start time for `retention`.
    mutating func retire(_ keys: [UInt64], at time: UInt64) {
        for key in keys {
            guard let gone = series.removeValue(forKey: key), gone.start != 0 else { continue }
            retired[key] = Retired(start: gone.start, last: gone.last, at: time)
        }
    }

    static func justBefore(_ time: UInt64) -> UInt64 { time > 1_000_000 ? time - 1_000_000 : time }
}

extension SeriesTracker {
    /// What survives an agent restart: each cumulative series' start time and last value, live series
    /// first, at most `limit` of them.
    func persistentSeries(limit: Int) -> [SeriesStateFile.Entry] {
        var entries: [SeriesStateFile.Entry] = []
        entries.reserveCapacity(min(limit, series.count + retired.count))
        for (hash, live) in series where live.start != 0 {
            if entries.count == limit { return entries }
            entries.append(.init(hash: hash, start: live.start, last: live.last))
        }
        for (hash, kept) in retired {
            if entries.count == limit { return entries }
            entries.append(.init(hash: hash, start: kept.start, last: kept.last))
        }
        return entries
    }

    /// Takes the series of the state file as retired at `now`: each comes back with its start time
    /// within `retention`, or with a new one if its value went down while the agent was away.
    mutating func restore(_ entries: [SeriesStateFile.Entry], at now: UInt64) {
        for entry in entries where series[entry.hash] == nil && entry.start != 0 {
            retired[entry.hash] = Retired(start: entry.start, last: entry.last, at: now)
        }
    }
}
