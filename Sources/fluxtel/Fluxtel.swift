import Agent
import FluxtelConfig
import Logging
import SelfTelemetry

#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// Exit codes: 0 ok, 1 the agent could not start or `validate` found errors, 2 the configuration
/// of `run` is invalid, 64 (EX_USAGE) a wrong command line.
@main
enum Fluxtel {
    static func main() async {
        MallocTuning.apply()
        let command: Command
        do {
            command = try CommandLineParser.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            printError("\(error)")
            exit(64)
        }
        switch command {
        case .help(let usage):
            print(usage)
        case .version:
            print(FluxtelVersion.string)
        case .validate(let config, let environment):
            exit(validate(config: config, checkEnvironment: environment))
        case .run(let config):
            exit(await run(config: config))
        }
    }

    static func run(config: String?) async -> Int32 {
        let environment = ProcessEnvironment.current()
        let configuration: AgentConfiguration
        do {
            configuration =
                try config.map { try ConfigLoader.load(path: $0, environment: environment) }
                ?? ConfigLoader.loadDefault(environment: environment)
        } catch {
            printError("\(error)")
            return 2
        }
        // The loader's, the runtime's and the configuration parser's pages go before the agent's own
        // start-up faults its code in, so the peak RSS never holds the two together (`StartupPages`).
        StartupPages.release()
        let level = Logger.Level(rawValue: configuration.service.logLevel) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        var logger = Logger(label: "fluxtel")
        logger.logLevel = level
        let agent: Agent
        do {
            agent = try Agent(configuration: configuration, logger: logger)
        } catch {
            logger.critical("Cannot start", metadata: ["error": "\(error)"])
            return 1
        }
        StartupPages.release()  // and the agent's construction's (the receivers' and exporters' set-up)
        MallocTuning.startTrimming(activity: { [pipeline = agent.pipeline] in pipeline.batchesSealed })
        do {
            try await agent.run()
        } catch {
            printError("Error: \(error)")
            return 1
        }
        return 0
    }

    static func validate(config: String, checkEnvironment: Bool) -> Int32 {
        do {
            let configuration = try ConfigLoader.load(
                path: config, environment: ProcessEnvironment.current(), checkEnvironment: checkEnvironment)
            print("\(config): ok")
            // Valid, but telemetry will not reach a backend: say so (the agent also logs it when it runs).
            let exporters = configuration.exporters
            if exporters.otlpHTTP == nil, let reason = exporters.missingEndpoint {
                printError(
                    "warning: \(reason); \(exporters.debug == nil ? "nothing will be exported" : "telemetry is only printed to stdout")"
                )
            } else if exporters.debugIsFallback {
                printError("warning: no exporter is configured: telemetry is only printed to stdout")
            }
            return 0
        } catch {
            printError("\(error)")
            return 1
        }
    }
}

func printError(_ message: String) {
    var line = Array(message.utf8)
    if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

enum ProcessEnvironment {
    /// The process environment as a dictionary (no Foundation).
    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// glibc malloc settings for a small, long-running, multi-threaded agent, applied before any work.
///
/// By default glibc (1) gives each thread that contends for a lock its own arena (up to 8 per core),
/// (2) raises the mmap threshold from 128 KiB to the size of any mmapped block freed (up to 32 MiB), so
/// after the first 4 MiB batch is freed every later batch, chunk and gzip buffer comes from an arena, and
/// (3) returns an arena's free memory to the kernel only when its top 128 KiB+ is free. Batches are
/// written on NIO's threads and the tailer's task, compressed and freed on the export workers': the
/// freed megabytes stayed in the arenas, scattered, and counted in RSS. Measured on the log benchmark
/// (`benchmarks/filelog/bench.py`, queue 16MiB, batch 4MiB, before this was set): peak RSS 72 MB, of
/// which 44 MB anonymous; `MALLOC_ARENA_MAX=1` alone changed nothing (70 MB), a fixed mmap threshold
/// took 25 MB off (256 KiB: 46.5 MB, 1 MiB: 47 MB).
///
/// So: a fixed 1 MiB mmap threshold (big blocks, i.e. batches and their gzip output, go back to the
/// kernel when freed; the recurring 40–600 KB request, chunk and read buffers are reused from the
/// arena), a 1 MiB trim threshold, and one arena. Figures with and without: benchmarks/HISTORY.md,
/// "Log path".
///
/// And every 2 s `malloc_trim(0)`, which gives the kernel back the free pages inside the arena, not
/// only at its top. The trim threshold alone returns nothing while one live block sits above the free
/// ones. Under the soak's load (20x the Flux workload, the sink failing 10 % of requests) heaptrack saw
/// the heap in use flat over 13 minutes (median 6.4 MB each minute, floor 3.2-3.3 MB), while in the
/// 30-minute soak the anonymous RSS went 5 -> 7 MB with 2 arenas and no trim, and 4.4 -> 7.2 MB and
/// back with a trim every 10 s: what the arenas held between trims, and the second arena's scattered
/// free pages. One arena and a trim every
/// 2 s cost nothing measurable on the log benchmark (4.65-4.9 CPU s per million lines either way);
/// an mmap threshold of 128 KiB instead cost 0.4-0.5 s (the tailer's chunk buffers then fault in at
/// every read). With a heap of a few MB a trim costs well under a millisecond.
/// The trim waits for a quiet tick, though, or 10 s of uninterrupted work (`TrimSchedule`): a target
/// scraped every second faulted its freed heap back in on every other scrape otherwise.
/// `FLUXTEL_MALLOC_TUNING=0` leaves glibc's defaults (and its `MALLOC_*` variables) alone.
enum MallocTuning {
    static let mmapThreshold: Int32 = 1 << 20
    static let trimThreshold: Int32 = 1 << 20
    static let arenas: Int32 = 1
    static let trimInterval: Duration = .seconds(2)
    /// While work goes on without a quiet tick: a trim every 10 s instead of every 2 s.
    static let busyTrimTicks = 5

    static var enabled: Bool {
        #if canImport(Glibc)
        if let value = getenv("FLUXTEL_MALLOC_TUNING"), String(cString: value) == "0" { return false }
        return true
        #else
        return false
        #endif
    }

    static func apply() {
        #if canImport(Glibc)
        guard enabled else { return }
        _ = mallopt(M_MMAP_THRESHOLD, mmapThreshold)
        _ = mallopt(M_TRIM_THRESHOLD, trimThreshold)
        _ = mallopt(M_ARENA_MAX, arenas)
        #endif
    }

    /// Looks every `trimInterval`, for as long as the process runs, whether to trim the heap
    /// (`TrimSchedule`: after each burst of work, and every `busyTrimTicks` ticks while work goes on).
    static func startTrimming(activity: @escaping @Sendable () -> UInt64) {
        #if canImport(Glibc)
        guard enabled else { return }
        Task.detached(priority: .background) {
            var schedule = TrimSchedule(busyTicks: busyTrimTicks, activity: activity())
            while !Task.isCancelled {
                try? await Task.sleep(for: trimInterval)
                if schedule.tick(activity: activity()) { _ = malloc_trim(0) }
            }
        }
        #endif
    }
}
