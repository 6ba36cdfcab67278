public import FluxtelConfig
import HTTPClient
public import Logging
import NIOCore
import OTLPWire
public import Pipeline
import Prometheus
public import SelfTelemetry
public import ServiceLifecycle
import Synchronization

/// A source of scrape targets that change over time (Kubernetes pod discovery).
public protocol TargetDiscovery: Sendable {
    /// Calls `update` with the full current target set whenever it changes; returns when cancelled.
    func run(update: @escaping @Sendable ([ScrapeEndpoint]) -> Void) async throws
}

/// The Prometheus receiver: scrapes each target every `interval` (targets spread over the interval by
/// a hash of their id, so they don't fire together), converts to OTLP and offers the result to the
/// pipeline. Static targets are fixed; a `TargetDiscovery` adds and removes targets at run time.
public final class PrometheusReceiver: ServiceLifecycle.Service, Sendable {
    let staticTargets: [ScrapeEndpoint]
    let discovery: (any TargetDiscovery)?
    let configuration: PrometheusReceiverConfiguration
    let rules: ConversionRules
    let pipeline: Pipeline
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let version: String
    /// Ids of the targets being scraped right now (tests, logs).
    private let active = Mutex<Set<String>>([])
    /// Whether each target's last scrape succeeded (for `/status`).
    let health = TargetHealth()
    private let running = Mutex(false)

    /// Takes its `receivers.prometheus` section (validated by the loader; a URL or regex that still
    /// fails throws). `discovery` adds targets at run time (built by the agent from `kubernetes_sd`).
    public init(
        configuration: PrometheusReceiverConfiguration, discovery: (any TargetDiscovery)? = nil,
        pipeline: Pipeline, metrics: AgentMetrics, logger: Logger, version: String = FluxtelVersion.string
    ) throws {
        self.staticTargets = try configuration.targets.map { target in
            try ScrapeEndpoint(url: target.url, labels: target.labels)
        }
        self.discovery = discovery
        self.configuration = configuration
        self.rules = try ConversionRules(configuration)
        self.pipeline = pipeline
        self.registry = metrics.registry
        self.logger = logger.component("prometheus")
        self.version = version
    }

    var stateStore: SeriesStateStore? {
        configuration.stateDirectory.isEmpty ? nil : SeriesStateStore(directory: configuration.stateDirectory)
    }

    /// Ids of the targets currently scraped.
    public var activeTargets: Set<String> { active.withLock { $0 } }

    /// Whether it runs, its targets, and how many answered their last scrape (for `/status`).
    public var state: (running: Bool, targets: Int, up: Int) {
        let targets = active.withLock { $0 }
        return (running.withLock { $0 }, targets.count, health.up(among: targets))
    }

    public func run() async throws {
        running.withLock { $0 = true }
        defer { running.withLock { $0 = false } }
        // One scrape at a time per target: one keep-alive connection each, kept across scrapes.
        let client = HTTPClient(
            configuration: HTTPClient.Configuration(
                connectTimeout: .seconds(5), maxConnectionsPerHost: 2, idleTimeout: .seconds(90), maxRedirects: 3))
        let (updates, continuation) = AsyncStream.makeStream(
            of: [ScrapeEndpoint].self, bufferingPolicy: .bufferingNewest(1))
        continuation.yield(staticTargets)
        logger.info("Prometheus receiver started", metadata: ["targets": "\(staticTargets.count)"])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let discovery = self.discovery {
                    let fixed = self.staticTargets
                    group.addTask {
                        do {
                            try await discovery.run { discovered in continuation.yield(fixed + discovered) }
                        } catch is CancellationError {
                        } catch {
                            self.logger.error("Target discovery stopped", metadata: ["error": "\(error)"])
                        }
                    }
                }
                group.addTask { await self.manageLoops(updates: updates, client: client) }
                await group.next()
                group.cancelAll()
            }
        }
        continuation.finish()
        await client.shutdown()
        logger.info("Prometheus receiver stopped")
    }

    /// Starts a scrape loop per new target and stops the loops of removed ones.
    private func manageLoops(updates: AsyncStream<[ScrapeEndpoint]>, client: HTTPClient) async {
        var loops: [String: (endpoint: ScrapeEndpoint, task: Task<SeriesTracker, Never>, removed: RemovalFlag)] = [:]
        // Series state of removed targets, for `SeriesTracker.retention`: a target that comes back
        // (a discovery hiccup) keeps its series' start times.
        var parked: [String: (loop: Task<SeriesTracker, Never>, at: UInt64)] = [:]
        for await targets in updates {
            if Task.isCancelled { break }
            var wanted: [String: ScrapeEndpoint] = [:]
            for target in targets { wanted[target.id] = target }
            let now = Timestamp.now()
            for (id, kept) in parked where now &- kept.at >= SeriesTracker.retention {
                // Gone for good: so is its state file.
                parked[id] = nil
                stateStore?.remove(target: id)
            }
            for (id, loop) in loops where wanted[id] != loop.endpoint {
                loop.removed.flag.store(true, ordering: .releasing)
                loop.task.cancel()
                loops[id] = nil
                logger.info("Scrape target removed", metadata: ["scrape.target": "\(loop.endpoint.url)"])
                parked[id] = (loop.task, now)
            }
            for (id, endpoint) in wanted where loops[id] == nil {
                var scraper = TargetScraper(
                    endpoint: endpoint, configuration: configuration, rules: rules, client: client,
                    pipeline: pipeline, registry: registry, logger: logger, version: version)
                if let kept = parked.removeValue(forKey: id) { scraper.tracker = await kept.loop.value }
                scraper.health = health
                let interval = configuration.scrapeInterval
                let removed = RemovalFlag()
                let task = Task { [scraper] in
                    var scraper = scraper
                    await Self.loop(&scraper, interval: interval)
                    // A target that went away (not a shutdown): its series end now.
                    if removed.flag.load(ordering: .acquiring) { scraper.markAllStale() }
                    scraper.saveState()
                    return scraper.tracker
                }
                loops[id] = (endpoint, task, removed)
                logger.info("Scrape target added", metadata: ["scrape.target": "\(endpoint.url)"])
            }
            active.withLock { $0 = Set(loops.keys) }
        }
        for loop in loops.values { loop.task.cancel() }
        for loop in loops.values { _ = await loop.task.value }
        active.withLock { $0 = [] }
    }

    /// Scrapes on a fixed grid: first at a per-target offset within the interval, then every interval
    /// (a scrape that overruns skips the ticks it missed).
    static func loop(_ scraper: inout TargetScraper, interval: Duration) async {
        let clock = ContinuousClock()
        let offset = interval * (Double(stableHash(scraper.endpoint.id) % 1000) / 1000)
        var next = clock.now + offset
        while !Task.isCancelled {
            do { try await clock.sleep(until: next) } catch { break }
            await scraper.scrapeOnce()
            next += interval
            let now = clock.now
            while next < now { next += interval }
        }
    }
}

/// The outcome of each target's last scrape.
final class TargetHealth: Sendable {
    private let up = Mutex<[String: Bool]>([:])
    func set(_ id: String, up value: Bool) { up.withLock { $0[id] = value } }
    func up(among ids: Set<String>) -> Int { up.withLock { state in ids.count { state[$0] == true } } }
}

/// Set when discovery removed a target (its loop then writes staleness markers), not on shutdown.
final class RemovalFlag: Sendable {
    let flag = Atomic<Bool>(false)
}

extension TargetScraper {
    /// A removed target: one "no recorded value" point for each of its series.
    mutating func markAllStale() {
        guard tracker.trackedSeries > 0 else { return }
        let converted = MetricsConverter.staleOnly(
            target: endpoint.targetInfo, tracker: &tracker, time: Timestamp.now(), version: version)
        _ = pipeline.offer(TelemetryChunk(signal: .metrics, bytes: converted.bytes, itemCount: converted.dataPoints))
    }
}

/// FNV-1a over the id: the same target always gets the same offset.
func stableHash(_ text: String) -> UInt64 {
    fnv1a(Array(text.utf8))
}
