public import Logging
import OTLPWire
public import Pipeline
public import ServiceLifecycle

/// `service.telemetry.metrics.export`: the agent's own metrics, as `/metrics` shows them, sent every
/// `interval` through the agent's own pipeline as OTLP, so its health is in Dash0 without a scrape
/// config. The exposition is parsed and converted exactly as a scraped target's (same parser, same
/// converter, start times from the first sight), without a socket and without `up`/`scrape_*`.
public struct AgentMetricsReceiver: ServiceLifecycle.Service {
    let render: @Sendable () -> [UInt8]
    let interval: Duration
    let pipeline: Pipeline
    let target: TargetInfo
    let clock: TimerClock
    let logger: Logger
    let version: String

    /// `render` returns the Prometheus text of the agent's registry; `resourceAttributes` are the
    /// pod's (`k8s.pod.name`, …), added after `service.name: fluxtel` and `service.version`.
    public init(
        render: @escaping @Sendable () -> [UInt8], interval: Duration, pipeline: Pipeline,
        instance: String, resourceAttributes: [(key: String, value: String)], version: String,
        clock: TimerClock = .continuous, logger: Logger
    ) {
        self.render = render
        self.interval = interval
        self.pipeline = pipeline
        self.target = TargetInfo(
            job: "fluxtel", instance: instance, scheme: "", host: "", port: 0,
            resourceAttributes: [("service.version", version)] + resourceAttributes)
        self.clock = clock
        self.logger = logger
        self.version = version
    }

    public func run() async throws {
        logger.info("Exporting the agent's own metrics", metadata: ["interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            var tracker = SeriesTracker()
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { break }
                sendOnce(tracker: &tracker)
            }
        }
    }

    /// Converts the registry's current text and offers it to the pipeline (a full queue drops this
    /// round: the next one carries the cumulative values). Returns the data points sent.
    @discardableResult
    public func sendOnce(tracker: inout SeriesTracker, now: UInt64 = Timestamp.now()) -> Int {
        let exposition: Exposition
        do {
            exposition = try ExpositionParser.parse(render(), format: .prometheusText)
        } catch {
            logger.error("The agent's own metrics did not parse", metadata: ["error": "\(error.reason)"])
            return 0
        }
        let converted = MetricsConverter.convert(
            exposition, target: target, rules: ConversionRules(), tracker: &tracker, scrapeTimeNanos: now,
            durationSeconds: 0, version: version, report: false)
        let chunk = TelemetryChunk(signal: .metrics, bytes: converted.bytes, itemCount: converted.dataPoints)
        guard case .accepted = pipeline.offer(chunk) else {
            logger.debug("The agent's own metrics were dropped: export queue full")
            return 0
        }
        return converted.dataPoints
    }
}
