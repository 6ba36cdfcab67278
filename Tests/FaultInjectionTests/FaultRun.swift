import FluxtelTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// One fault-injection run: the real `fluxtel` binary with all three sources active, against an
/// `HTTPSink` the scenario tells to fail.
///
/// - a Prometheus target (an `HTTPSink` serving the kustomize-controller fixture, scraped every 2 s);
/// - a `LogWriter` appending numbered CRI lines to a pod log file the filelog receiver tails from
///   the beginning (checkpoints in the run's temporary directory);
/// - a `SpanSender` posting one-span requests to the OTLP receiver like Flux/otel-go;
/// - the OTLP sink, whose 2xx-answered requests the `Ledger` decodes and counts by unique key.
///
/// A scenario: `start` → `waitUntilFlowing` → inject its fault through `sink` (`setFallback`,
/// `setResponder`, `stopListening`/`resumeListening`, `Response.noAnswer`) → `finish` (stop the load,
/// wait until everything accepted arrived, SIGTERM, tally) → assert on the `Outcome`.
///
/// The disk-queue scenarios (5, 7, 8, in `DiskQueueFaultTests`) set `queueDirectory` (and
/// `queueSettings`, `fileSizeLimit` to run the agent under `prlimit --fsize` with SIGXFSZ ignored);
/// `kill9()` then `restart()` start a new `AgentProcess` with the same config file (same checkpoints
/// and queue directory) while the load keeps running; `segmentFiles()` lists the queue's segments to
/// damage between a stop and a `restart()`; `allStderr` is every agent's stderr.
///
/// The agent's listeners bind port 0; each agent reports the ports it got (`AgentProcess.otlpPort`,
/// `telemetryPort`), and the span sender follows the current agent's OTLP port.
final class FaultRun: Sendable {
    struct Options: Sendable {
        /// `exporters.otlp_http.timeout`.
        var exporterTimeout = "2s"
        /// `exporters.otlp_http.retry`: a 30 s outage is far inside `max_elapsed_time`, and
        /// `max_interval` keeps recovery after it within seconds.
        var retry = "{ initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 2m }"
        var shutdownTimeout: Duration = .seconds(5)
        var maxBatchItems = 500
        var logLinesPerSecond = 200
        var maxLogLines = 40_000
        var spanSenders = 1
        var spansPerSecond = 20
        var maxSpans = 4_000
        /// `processors.queue.directory` (a persistent disk queue); relative paths are inside the run's
        /// directory. nil: the memory queue.
        var queueDirectory: String? = nil
        /// More `processors.queue` settings (YAML lines without indentation, e.g. `full_policy: backpressure`).
        var queueSettings: [String] = []
        /// RLIMIT_FSIZE for the agent in bytes (run through `prlimit`, SIGXFSZ ignored so writes past it
        /// fail with EFBIG instead of killing the agent).
        var fileSizeLimit: Int? = nil
        /// `processors.batch.max_bytes` (must not exceed the queue's `max_bytes`).
        var batchMaxBytes: Int? = nil
    }

    static let fixture = InteropPython.packageRoot
        .appendingPathComponent("Tests/PrometheusReceiverTests/Fixtures/kustomize-controller.prom").path

    let name: String
    let options: Options
    let directory: String
    let configPath: String
    let logPath: String
    let sink: HTTPSink
    let target: HTTPSink
    /// The current agent's OTLP port; 0 while no agent runs (between `kill9()` and `restart()`).
    private let otlp: OTLPPort
    /// The running agent process (a new one after each `restart()`).
    var agent: AgentProcess { current.withLock { $0 } }
    private let current: Mutex<AgentProcess>
    private let starts = Atomic<Int>(1)
    let logs: LogWriter
    let spans: SpanSender
    private let ledger = Mutex(Ledger())

    /// Where the span sender finds the agent.
    final class OTLPPort: Sendable {
        private let port = Atomic<Int>(0)
        var current: Int? {
            let value = port.load(ordering: .acquiring)
            return value == 0 ? nil : value
        }
        func set(_ value: Int?) { port.store(value ?? 0, ordering: .releasing) }
    }

    /// The current agent's telemetry port (`/metrics`, `/healthz`, `/readyz`).
    var telemetryPort: Int { get async throws { try await agent.telemetryPort } }

    private init(
        name: String, options: Options, directory: String, configPath: String, logPath: String, sink: HTTPSink,
        target: HTTPSink, otlp: OTLPPort, agent: AgentProcess, logs: LogWriter, spans: SpanSender
    ) {
        self.name = name
        self.options = options
        self.directory = directory
        self.configPath = configPath
        self.logPath = logPath
        self.sink = sink
        self.target = target
        self.otlp = otlp
        self.current = Mutex(agent)
        self.logs = logs
        self.spans = spans
    }

    /// Starts sink, target and agent, waits until the agent is ready, then starts the load.
    static func start(_ name: String, options: Options = Options()) async throws -> FaultRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxtel-faults-\(name)-\(UUID().uuidString)"
        ).path
        let podDirectory =
            directory
            + "/pods/flux-system_kustomize-controller-5d8f9c7b5-q2x9z_0d6a1b2c-1111-2222-3333-444455556666/manager"
        try FileManager.default.createDirectory(atPath: podDirectory, withIntermediateDirectories: true)
        let logPath = podDirectory + "/0.log"

        let sink = try await HTTPSink.start()
        let exposition = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture)))
        let target = try await HTTPSink.start(
            fallback: HTTPSink.Response(
                status: .ok,
                headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")],
                body: exposition))
        let configPath = directory + "/fluxtel.yaml"
        var queue = ""
        if let queueDirectory = options.queueDirectory {
            let path = queueDirectory.hasPrefix("/") ? queueDirectory : directory + "/" + queueDirectory
            queue =
                "\n  queue:\n"
                + (["directory: \(path)"] + options.queueSettings).map { "    " + $0 }.joined(separator: "\n")
        }
        try """
        receivers:
          otlp:
            endpoint: 127.0.0.1:0
          prometheus:
            scrape_interval: 2s
            scrape_timeout: 2s
            targets:
              - url: http://127.0.0.1:\(target.port)/metrics
                labels: { controller: kustomize-controller }
        \(TestConfig.filelog(directory))
        processors:
          max_age: 0  # the generated lines and spans carry fixed past timestamps
          batch: { max_items: \(options.maxBatchItems), timeout: 200ms\(options.batchMaxBytes.map { ", max_bytes: \($0)" } ?? "") }\(queue)
        exporters:
          otlp_http:
            endpoint: http://127.0.0.1:\(sink.port)
            compression: gzip
            timeout: \(options.exporterTimeout)
            retry: \(options.retry)
        service:
          telemetry: { address: "127.0.0.1:0" }
          shutdown_timeout: \(options.shutdownTimeout.components.seconds)s
        """.write(toFile: configPath, atomically: true, encoding: .utf8)

        let agent = try await launch(name, options: options, configPath: configPath, logPrefix: directory + "/agent-1")
        let otlp = OTLPPort()
        otlp.set(try await agent.otlpPort)
        let logs = LogWriter(path: logPath, linesPerSecond: options.logLinesPerSecond, maxLines: options.maxLogLines)
        let spans = SpanSender(
            port: { otlp.current }, senders: options.spanSenders, spansPerSecond: options.spansPerSecond,
            maxSpans: options.maxSpans)
        return FaultRun(
            name: name, options: options, directory: directory, configPath: configPath, logPath: logPath,
            sink: sink, target: target, otlp: otlp, agent: agent, logs: logs, spans: spans)
    }

    /// Starts the agent and waits until it is ready (the bound only catches a hang).
    private static func launch(
        _ name: String, options: Options, configPath: String, logPrefix: String
    ) async throws -> AgentProcess {
        var wrapper: [String] = []
        if let limit = options.fileSizeLimit {
            // SIG_IGN survives exec: the agent ignores SIGXFSZ and sees EFBIG instead of dying.
            signal(SIGXFSZ, SIG_IGN)
            wrapper = ["/usr/bin/prlimit", "--fsize=\(limit)", "--"]
        }
        let agent = try AgentProcess(["--config", configPath], logPrefix: logPrefix, wrapper: wrapper)
        do {
            try await agent.waitUntilReady()
        } catch {
            agent.signal(SIGKILL)
            _ = try await agent.wait()
            throw RunError(message: "\(name): \(error)")
        }
        return agent
    }

    /// Starts a new agent with the same config file (same checkpoints and queue directory) once the
    /// current one has exited (`kill` it or SIGTERM it first); the load keeps running and the span
    /// sender follows the new agent's OTLP port.
    func restart() async throws {
        precondition(!agent.isRunning, "restart() needs the previous agent gone")
        otlp.set(nil)
        let n = starts.add(1, ordering: .relaxed).newValue
        let next = try await Self.launch(
            name, options: options, configPath: configPath, logPrefix: directory + "/agent-\(n)")
        current.withLock { $0 = next }
        otlp.set(try await next.otlpPort)
    }

    /// `kill -9` of the agent, waiting (bounded) until it is gone.
    func kill9() async throws {
        otlp.set(nil)
        agent.signal(SIGKILL)
        _ = try await agent.wait()
    }

    /// What every agent of this run printed on stderr, in order.
    var allStderr: String {
        (1...starts.load(ordering: .relaxed)).map {
            (try? String(contentsOfFile: directory + "/agent-\($0).stderr", encoding: .utf8)) ?? ""
        }.joined()
    }

    /// The queue directory's `.seg` files, oldest first (full paths).
    func segmentFiles() -> [String] {
        guard let queueDirectory = options.queueDirectory else { return [] }
        let path = queueDirectory.hasPrefix("/") ? queueDirectory : directory + "/" + queueDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(".seg") }.sorted().map { path + "/" + $0 }
    }

    struct RunError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// The ledger, brought up to date with the sink.
    func delivered() -> Ledger {
        let requests = sink.requests
        return ledger.withLock { ledger in
            ledger.update(requests)
            return ledger
        }
    }

    /// Waits until every signal has reached the sink at least once (the bound only catches a hang).
    func waitUntilFlowing(timeout: Duration = .seconds(60)) async throws {
        do {
            try await sink.waitUntil(timeout: timeout) { _ in
                let ledger = delivered()
                return !ledger.logs.isEmpty && !ledger.spans.isEmpty && !ledger.successfulScrapes.isEmpty
            }
        } catch let error as HTTPSink.SinkTimeout {
            throw RunError(
                message: "\(name): not every signal reached the sink (\(error)): \(agent.stderr.suffix(2000))")
        }
    }

    /// The agent's own `/metrics` exposition, polled until it answers (an unanswered exposition would
    /// read as zero for every counter).
    func metricsText() async throws -> String { try await agent.metrics() }

    /// A sample of the agent's `/metrics`, e.g. `fluxtel_items_dropped_total` with `signal="traces"`.
    static func sample(_ name: String, signal: String, in text: String) -> Double? {
        for line in text.split(separator: "\n")
        where line.hasPrefix(name + "{") && line.contains("signal=\"\(signal)\"") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    /// Scrapes the target answered with the fixture.
    var servedScrapes: Int { target.requests.filter { $0.status == 200 }.count }

    struct Outcome {
        var logs: Tally
        var spans: Tally
        var sender: SpanSender.Tally
        var servedScrapes: Int
        /// Scrapes the target served whose `up == 1` points never arrived.
        var lostScrapes: Int
        /// Delivered scrapes missing some of the series a full scrape has.
        var incompleteScrapes: Int
        var duplicatePoints: Int
        var ledger: Ledger
        var exit: AgentProcess.Exit?
        /// From SIGTERM to the process's exit.
        var shutdownTime: Duration
        /// `/metrics` just before SIGTERM.
        var metrics: String
        var stderr: String
    }

    private func stopLoad() async throws {
        try await logs.stop()
        try await spans.stop()
        target.setFallback(.status(503))  // no more successful scrapes: what was served is final
    }

    /// Stops the load, waits (at most `timeout`) until everything the sources accepted arrived, then
    /// stops the agent with SIGTERM and tallies. `excludedSpans` are spans expected *not* to arrive
    /// (a batch the sink refused permanently).
    /// `excludedLines`: log lines expected *not* to arrive (in a damaged queue segment).
    /// `timeout` only catches a hang: on expiry the tally shows what is missing.
    func finish(
        excludedSpans: Set<UInt64> = [], excludedLines: Set<Int> = [], excludedScrapes: Int = 0,
        timeout: Duration = .seconds(120)
    ) async throws -> Outcome {
        try await stopLoad()
        let lines = logs.count
        let accepted = spans.tally.accepted
        let served = servedScrapes
        do {
            try await sink.waitUntil(timeout: timeout) { _ in
                let ledger = delivered()
                let logsDone = (0..<lines).allSatisfy { excludedLines.contains($0) || ledger.logs[$0] != nil }
                let spansDone = accepted.subtracting(excludedSpans).allSatisfy { ledger.spans[$0] != nil }
                return logsDone && spansDone && ledger.successfulScrapes.count >= served - excludedScrapes
            }
        } catch is HTTPSink.SinkTimeout {
            // Tallied below: the outcome names what never arrived.
        }
        let metrics = try await metricsText()
        let (exit, shutdownTime) = try await terminate()
        return outcome(
            lines: Set(0..<lines), accepted: accepted, excludedSpans: excludedSpans, excludedLines: excludedLines,
            served: served, exit: exit, shutdownTime: shutdownTime, metrics: metrics)
    }

    /// SIGTERM while the load runs; then stops the load and tallies against what the agent accepted:
    /// spans answered 200, log lines up to the checkpoint it wrote, scrapes it completed before the signal.
    func terminateUnderLoad() async throws -> Outcome {
        let metrics = try await metricsText()
        let servedBefore = servedScrapes
        let agent = self.agent
        let terminated = Task { try await terminate() }
        // The load runs on until the agent is shutting down (it closed its intake and drains).
        _ = await eventually { agent.stderr.contains("Draining the export queue") || !agent.isRunning }
        try await logs.stop()
        try await spans.stop()
        let (exit, shutdownTime) = try await terminated.value
        let accepted = spans.tally.accepted
        let checkpointed = try checkpointedLines()
        return outcome(
            lines: Set(0..<checkpointed), accepted: accepted, excludedSpans: [], served: servedBefore,
            exit: exit, shutdownTime: shutdownTime, metrics: metrics)
    }

    private func terminate() async throws -> (AgentProcess.Exit?, Duration) {
        let start = ContinuousClock.now
        agent.signal(SIGTERM)
        // The agent gives up what it cannot deliver after shutdown_timeout and exits by itself; the
        // bound (shutdown_timeout plus 10 s for teardown, scaled) only catches a hang, far below the
        // retries' max_elapsed_time (2 min) that an agent ignoring its shutdown timeout would wait.
        let exit = try await agent.wait(timeout: options.shutdownTimeout + .seconds(10))
        return (exit, ContinuousClock.now - start)
    }

    private func outcome(
        lines: Set<Int>, accepted: Set<UInt64>, excludedSpans: Set<UInt64>, excludedLines: Set<Int> = [], served: Int,
        exit: AgentProcess.Exit?, shutdownTime: Duration, metrics: String
    ) -> Outcome {
        let ledger = delivered()
        let successful = ledger.successfulScrapes
        let fullScrape = successful.values.map(\.count).max() ?? 0
        return Outcome(
            logs: Tally(expected: lines, delivered: ledger.logs, excluded: excludedLines),
            spans: Tally(expected: accepted, delivered: ledger.spans, excluded: excludedSpans),
            sender: spans.tally,
            servedScrapes: served,
            lostScrapes: max(0, served - successful.count),
            incompleteScrapes: successful.values.filter { $0.count != fullScrape }.count,
            duplicatePoints: ledger.points.values.reduce(0) { $0 + $1 - 1 },
            ledger: ledger, exit: exit, shutdownTime: shutdownTime, metrics: metrics, stderr: allStderr)
    }

    /// Complete lines of the log file below the offset the agent checkpointed for it (0 without one).
    func checkpointedLines() throws -> Int {
        var info = stat()
        guard stat(logPath, &info) == 0 else { return 0 }
        let text = (try? String(contentsOfFile: directory + "/checkpoints/filelog.checkpoints", encoding: .utf8)) ?? ""
        var offset = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5)
            if fields.count == 6, UInt64(fields[1]) == UInt64(info.st_ino), let value = Int(fields[2]) {
                offset = value
            }
        }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: logPath)))
        return bytes.prefix(offset).reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
    }

    /// Runs `body` on a started run, then stops whatever still runs (also when `body` throws).
    static func with(_ name: String, options: Options = Options(), _ body: (FaultRun) async throws -> Void) async throws
    {
        let run = try await start(name, options: options)
        try await withCleanup {
            try await body(run)
        } cleanup: {
            await run.cleanup()
        }
    }

    /// Stops whatever still runs and removes the run's directory (kept with `FLUXTEL_KEEP_FAULT_RUNS=1`,
    /// for the agent's stderr and the files it tailed).
    func cleanup() async {
        try? await logs.stop()
        try? await spans.stop()
        if agent.isRunning {
            agent.signal(SIGKILL)
            _ = try? await agent.wait()
        }
        try? await sink.shutdown()
        try? await target.shutdown()
        if ProcessInfo.processInfo.environment["FLUXTEL_KEEP_FAULT_RUNS"] != "1" {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
