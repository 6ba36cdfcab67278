import Compression
public import FluxtelConfig
public import HTTPClient
public import Logging
import NIOCore
import NIOHTTP1
import OTLPWire
public import Pipeline
public import Prometheus
import SelfTelemetry

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a scrape produced no samples.
public struct ScrapeError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Per-target counters of the agent's own `/metrics`.
struct ScrapeMetrics: Sendable {
    let failures: Counter
    let dropped: Counter

    init(registry: PrometheusCollectorRegistry, target: String) {
        failures = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "fluxtel_scrape_failures_total", unitName: "",
                helpText:
                    "Scrapes that failed (connection, HTTP status, timeout, body too large, malformed exposition)."),
            labels: [("target", target)])
        dropped = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "fluxtel_scrapes_dropped_total", unitName: "",
                helpText: "Scrapes whose data was dropped because the export queue was full."),
            labels: [("target", target)])
    }
}

/// One target's scraping state: HTTP fetch, parse, convert, hand-off. Owned by its scrape loop
/// (public for the benchmark, which drives single scrapes).
public struct TargetScraper: Sendable {
    let endpoint: ScrapeEndpoint
    let configuration: PrometheusReceiverConfiguration
    let rules: ConversionRules
    let client: HTTPClient
    let pipeline: Pipeline
    let metrics: ScrapeMetrics
    let logger: Logger
    let version: String
    var tracker = SeriesTracker()
    var lastFailure: String?
    var everScraped = false
    /// Where the outcome of each scrape is noted (the receiver's, for `/status`).
    var health: TargetHealth?
    /// Where start times outlive the agent (`state_dir`); nil keeps them in memory only.
    let stateStore: SeriesStateStore?
    /// When the state file was last written (0: not yet).
    var lastStateWrite: UInt64 = 0

    /// Restores the target's series start times from `state_dir` when one is set.
    public init(
        endpoint: ScrapeEndpoint, configuration: PrometheusReceiverConfiguration, rules: ConversionRules,
        client: HTTPClient, pipeline: Pipeline, registry: PrometheusCollectorRegistry, logger: Logger,
        version: String
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.rules = rules
        self.client = client
        self.pipeline = pipeline
        self.metrics = ScrapeMetrics(registry: registry, target: endpoint.url)
        var logger = logger
        logger[metadataKey: "scrape.target"] = "\(endpoint.url)"
        self.logger = logger
        self.version = version
        self.stateStore =
            configuration.stateDirectory.isEmpty ? nil : SeriesStateStore(directory: configuration.stateDirectory)
        if let stateStore {
            let (entries, problem) = stateStore.load(target: endpoint.id)
            if let problem {
                logger.warning(
                    "Series state file unreadable; this target's start times start fresh",
                    metadata: ["error": "\(problem)"])
            }
            tracker.restore(entries, at: Timestamp.now())
        }
    }

    /// Scrapes once and offers the result to the pipeline. Returns what was handed over (tests, benchmark).
    @discardableResult
    public mutating func scrapeOnce() async -> ConvertedScrape {
        let clock = ContinuousClock()
        let started = clock.now
        let time = Timestamp.now()
        var exposition: Exposition?
        var failure: String?
        do {
            exposition = try await fetchAndParse()
        } catch {
            failure = "\(error)"
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let converted = MetricsConverter.convert(
            exposition, target: endpoint.targetInfo, rules: rules, tracker: &tracker,
            scrapeTimeNanos: time, durationSeconds: seconds, version: version)
        report(failure: failure)
        if SeriesStateStore.isDue(now: time, lastWrite: lastStateWrite, changed: tracker.startsChanged) {
            saveState(now: time)
        }
        // DESIGN says a scraper meeting a full queue drops the oldest batch; the simplest safe version
        // drops this scrape's data instead (the next scrape carries the cumulative values anyway) and counts it.
        let chunk = TelemetryChunk(signal: .metrics, bytes: converted.bytes, itemCount: converted.dataPoints)
        switch pipeline.offer(chunk) {
        case .accepted: break
        case .full:
            metrics.dropped.increment()
            logger.debug("Scrape dropped: export queue full")
        case .closed: break
        }
        return converted
    }

    /// Logs once per change of state (up → down, a different error, down → up).
    mutating func report(failure: String?) {
        if let failure {
            metrics.failures.increment()
            if failure != lastFailure {
                logger.warning("Scrape failed", metadata: ["error": "\(failure)"])
            }
        } else if lastFailure != nil {
            logger.info("Scrape recovered")
        } else if !everScraped {
            logger.debug("First scrape succeeded")
        }
        everScraped = true
        lastFailure = failure
        health?.set(endpoint.id, up: failure == nil)
    }

    /// Writes the target's start times to `state_dir` (a failure is logged: start times then live in
    /// memory only, as without a state directory).
    mutating func saveState(now: UInt64 = Timestamp.now()) {
        // With `process_start_time_seconds` that is the start time, after a restart too: nothing to keep.
        guard let stateStore, tracker.processStart == 0 else { return }
        lastStateWrite = now
        tracker.startsChanged = false
        do {
            try stateStore.save(target: endpoint.id, tracker: tracker)
        } catch {
            logger.warning("Cannot write the series state file", metadata: ["error": "\(error)"])
        }
    }

    func fetchAndParse() async throws -> Exposition {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: ExpositionFormat.acceptHeader)
        headers.add(name: "Accept-Encoding", value: "gzip")
        headers.add(name: "User-Agent", value: "fluxtel/\(version)")
        let timeoutSeconds =
            Double(configuration.scrapeTimeout.components.seconds) + Double(
                configuration.scrapeTimeout.components.attoseconds) / 1e18
        let timeoutText = timeoutSeconds == timeoutSeconds.rounded() ? "\(Int(timeoutSeconds))" : "\(timeoutSeconds)"
        headers.add(name: "X-Prometheus-Scrape-Timeout-Seconds", value: timeoutText)
        let response: HTTPResponse
        do {
            response = try await client.execute(
                HTTPRequest(url: endpoint.url, headers: headers), timeout: configuration.scrapeTimeout,
                maxBodyBytes: configuration.bodySizeLimit)
        } catch let error as HTTPClientError where error.isTimeout {
            throw ScrapeError(reason: "timeout after \(timeoutSeconds)s")
        } catch let error as HTTPClientError where error.code == .bodyTooLarge {
            throw ScrapeError(reason: "\(error.message) (body_size_limit)")
        }
        guard response.status == .ok else {
            throw ScrapeError(reason: "HTTP status \(response.status.code) \(response.status.reasonPhrase)")
        }
        // A plain body is parsed where the client received it; a gzip one where it is inflated to.
        var body = ExpositionBody.buffer(response.body)
        if let encoding = response.headers.first(name: "Content-Encoding")?.lowercased(), encoding != "identity" {
            guard encoding == "gzip" else { throw ScrapeError(reason: "unsupported Content-Encoding \(encoding)") }
            do {
                body = .bytes(
                    try Gzip.decompress(
                        Array(response.body.readableBytesView), maxOutputBytes: configuration.bodySizeLimit,
                        format: .gzip))
            } catch {
                throw ScrapeError(reason: "gzip body: \(error)")
            }
        }
        let format = ExpositionFormat.from(contentType: response.headers.first(name: "Content-Type"))
        do {
            return try ExpositionParser.parse(body: body, format: format)
        } catch {
            throw ScrapeError(reason: "malformed exposition at line \(error.line): \(error.reason)")
        }
    }
}
