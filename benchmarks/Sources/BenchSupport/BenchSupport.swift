import CMallocCount

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: clocks

@inline(__always)
func nanos(_ clock: clockid_t) -> UInt64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Monotonic wall clock, nanoseconds.
public func wallNanos() -> UInt64 { nanos(CLOCK_MONOTONIC) }
/// CPU time of the calling thread, nanoseconds (unaffected by time spent descheduled).
public func threadCPUNanos() -> UInt64 { nanos(CLOCK_THREAD_CPUTIME_ID) }

/// Allocation calls made so far by the process (needs CMallocCount linked into the executable).
public func mallocCount() -> UInt64 { fluxtel_malloc_count() }

/// Keeps values alive so the optimiser cannot drop the work that produced them.
nonisolated(unsafe) public var blackHoleSink: Int = 0
@inline(never)
public func blackHole(_ value: Int) { blackHoleSink &+= value }

// MARK: measuring

/// One measurement: per-iteration wall and CPU nanoseconds (medians over samples) and
/// allocations per iteration (over all timed iterations).
public struct Measurement: Sendable {
    public var wallNanosPerIteration: Double
    public var cpuNanosPerIteration: Double
    public var allocationsPerIteration: Double
    public var iterations: Int
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Runs `body` for a warm-up, then `samples` samples of at least `sampleSeconds` each.
/// Within one process the median sample is reported; `benchmarks/run` repeats processes.
public func measure(samples: Int = 7, sampleSeconds: Double = 0.12, _ body: () -> Void) -> Measurement {
    // Warm-up and calibration: how many iterations fill one sample?
    var n = 1
    while true {
        let t0 = wallNanos()
        for _ in 0..<n { body() }
        let dt = Double(wallNanos() - t0) / 1e9
        if dt >= sampleSeconds / 4 {
            n = max(1, Int(Double(n) * sampleSeconds / dt))
            break
        }
        n *= 2
    }
    var walls: [Double] = []
    var cpus: [Double] = []
    walls.reserveCapacity(samples)
    cpus.reserveCapacity(samples)
    var allocs: UInt64 = 0
    for _ in 0..<samples {
        let a0 = mallocCount()
        let c0 = threadCPUNanos()
        let t0 = wallNanos()
        for _ in 0..<n { body() }
        let t1 = wallNanos()
        let c1 = threadCPUNanos()
        allocs += mallocCount() - a0
        walls.append(Double(t1 - t0) / Double(n))
        cpus.append(Double(c1 - c0) / Double(n))
    }
    return Measurement(
        wallNanosPerIteration: median(walls), cpuNanosPerIteration: median(cpus),
        allocationsPerIteration: Double(allocs) / Double(samples * n), iterations: samples * n)
}

// MARK: output

/// A named figure. `better` is "higher" or "lower": `benchmarks/compare` uses it to decide what "worse" means.
public struct Figure: Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    public var better: String
    public init(_ name: String, _ value: Double, _ unit: String, better: String) {
        self.name = name
        self.value = value
        self.unit = unit
        self.better = better
    }
}

/// Collects figures and prints them as one JSON object on stdout:
/// `{"benchmark": NAME, "figures": [{"name":…, "value":…, "unit":…, "better":…}, …], "info": {…}}`.
public struct Report {
    public let benchmark: String
    public private(set) var figures: [Figure] = []
    public var info: [(String, String)] = []

    public init(benchmark: String) { self.benchmark = benchmark }

    public mutating func add(_ name: String, _ value: Double, _ unit: String, better: String) {
        figures.append(Figure(name, value, unit, better: better))
    }

    public func printJSON() {
        var s = "{\"benchmark\": \(quote(benchmark)), \"figures\": ["
        for (i, f) in figures.enumerated() {
            if i > 0 { s += ", " }
            s += "{\"name\": \(quote(f.name)), \"value\": \(number(f.value)), \"unit\": \(quote(f.unit)), \"better\": \(quote(f.better))}"
        }
        s += "], \"info\": {"
        for (i, (k, v)) in info.enumerated() {
            if i > 0 { s += ", " }
            s += "\(quote(k)): \(quote(v))"
        }
        s += "}}"
        print(s)
    }

    func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        return "\(v)"
    }

    func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if ch.value < 0x20 {
                    let hex = String(ch.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out + "\""
    }
}

/// Prints to stderr (progress lines; stdout is reserved for the JSON report).
public func note(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
