import Compression
public import FluxtelConfig
import HTTPClient
public import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import OTLPWire
public import Pipeline
import Prometheus
public import SelfTelemetry

/// Exports batches as OTLP/HTTP protobuf (`POST <endpoint>/v1/<signal>`, optionally gzip), retrying
/// 429/502/503/504 and transport failures with exponential backoff and `Retry-After`, as
/// ``RetryStateMachine`` decides. Owns one `HTTPClient` (keep-alive pool), shut down by ``shutdown()``.
public final class OTLPHTTPExporter: BatchExporter {
    public let name = "otlp_http"
    /// `exporters.otlp_http`.
    public let configuration: OTLPHTTPExporterConfiguration

    private let client: HTTPClient
    private let metrics: AgentMetrics
    private let logger: Logger
    private let headers: HTTPHeaders
    private let urls: [Signal: HTTPURL]
    /// Measures attempt durations (a metric: always the real clock).
    private let clock = ContinuousClock()
    /// Times the retry back-off and its deadline (the real clock but in tests).
    private let backoffClock: TimerClock
    /// One deflate stream reused across exports (`deflateReset`), not one set up per export.
    private let gzip: GzipCompressorPool

    /// The most of a response body we read (the rest is discarded): OTLP responses are tiny.
    static let maxResponseBytes = 64 * 1024

    /// - Parameters:
    ///   - configuration: `exporters.otlp_http`: endpoint, headers, compression, timeout, retry and TLS.
    ///   - metrics: per-signal counters updated for every batch (exported/dropped/failed items,
    ///     retries, attempt duration).
    ///   - logger: tagged `component=exporter.otlp_http`.
    ///   - version: the agent version sent as `User-Agent: fluxtel/<version>`.
    ///   - backoffClock: times the retry back-off; tests pass a clock they advance by hand.
    /// - Throws: ``ExporterConfigurationError`` for a URL that is not http(s) or unreadable TLS files.
    public init(
        configuration: OTLPHTTPExporterConfiguration, metrics: AgentMetrics, logger: Logger, version: String = "dev",
        backoffClock: TimerClock = .continuous
    ) throws(ExporterConfigurationError) {
        self.backoffClock = backoffClock
        var logger = logger
        logger[metadataKey: "component"] = "exporter.otlp_http"
        self.logger = logger
        self.configuration = configuration
        self.metrics = metrics
        self.gzip = GzipCompressorPool(level: configuration.compressionLevel)

        var urls: [Signal: HTTPURL] = [:]
        for signal in Signal.allCases {
            let url = configuration.url(for: signal)
            let lower = url.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), url.count > 8,
                let parsed = try? HTTPURL(url)
            else {
                throw .invalidEndpoint("\(signal) endpoint must be an http:// or https:// URL, got \"\(url)\"")
            }
            urls[signal] = parsed
        }
        self.urls = urls

        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-protobuf")
        if configuration.compression == .gzip { headers.add(name: "Content-Encoding", value: "gzip") }
        headers.add(name: "User-Agent", value: "fluxtel/\(version)")
        for header in configuration.headers {
            switch header.key.lowercased() {
            case "user-agent": headers.replaceOrAdd(name: "User-Agent", value: header.value)
            case "content-type", "content-encoding", "content-length": continue  // ours describe the body
            default: headers.add(name: header.key, value: header.value)
            }
        }
        self.headers = headers

        // No redirects; connection errors (TLS!) surface at once: our retry policy decides about retries.
        self.client = HTTPClient(
            configuration: HTTPClient.Configuration(
                tls: try Self.tlsConfiguration(configuration.tls), connectTimeout: configuration.timeout))
    }

    static func tlsConfiguration(_ tls: TLSClientConfiguration) throws(ExporterConfigurationError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if !tls.caFile.isEmpty {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(tls.caFile)
                guard !certificates.isEmpty else { throw ExporterConfigurationError.tls("no certificate in file") }
                configuration.trustRoots = .certificates(certificates)
            } catch {
                throw .tls("cannot read tls.ca_file \(tls.caFile): \(error)")
            }
        }
        switch (tls.certFile.isEmpty, tls.keyFile.isEmpty) {
        case (true, true): break
        case (false, false):
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(tls.certFile).map {
                    .certificate($0)
                }
            } catch {
                throw .tls("cannot read tls.cert_file \(tls.certFile): \(error)")
            }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: tls.keyFile, format: .pem))
            } catch {
                throw .tls("cannot read tls.key_file \(tls.keyFile): \(error)")
            }
        default:
            throw .tls("tls.cert_file and tls.key_file must be set together")
        }
        if tls.insecureSkipVerify { configuration.certificateVerification = .none }
        return configuration
    }

    public func shutdown() async {
        await client.shutdown()
    }

    // MARK: export

    public func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        var logger = self.logger
        logger[metadataKey: "signal"] = "\(batch.signal)"
        logger[metadataKey: "batch.id"] = "\(batch.id)"
        let counters = metrics[batch.signal]
        let items = Int64(batch.itemCount)
        // A batch of the persistent queue goes back to it when given up on: not failed, not lost.
        let countFailed = { if !batch.persistent { counters.failed.increment(by: items) } }

        let payload =
            configuration.compression == .gzip
            ? gzip.compress(batch.body) : batch.body
        let request = HTTPRequest(
            url: urls[batch.signal]!, method: .POST, headers: headers, body: ByteBuffer(bytes: payload))

        var retry = RetryStateMachine(policy: configuration.retry, start: backoffClock.now())
        while true {
            if Task.isCancelled {
                countFailed()
                logger.warning("Export cancelled", metadata: ["batch.items": "\(items)"])
                return .failed
            }
            let attemptStart = clock.now
            let outcome = await attempt(request, logger: logger)
            counters.exportDuration.record(clock.now - attemptStart)

            let failure: RetryStateMachine<ContinuousClock.Instant>.Failure
            switch outcome {
            case .accepted(let partial):
                metrics.status.exportSucceeded(batch.signal, at: Timestamp.now())
                guard let partial else {
                    counters.exported.increment(by: items)
                    logger.debug("Exported batch", metadata: ["batch.items": "\(items)"])
                    return .exported
                }
                let rejected = min(max(partial.rejected, 0), items)
                counters.exported.increment(by: items - rejected)
                if rejected > 0 { counters.dropped.increment(by: rejected) }
                logger.warning(
                    "Export partially rejected by the backend",
                    metadata: [
                        "batch.items": "\(items)", "items.rejected": "\(rejected)",
                        "error.message": "\(ResponseBody.printable(Array(partial.errorMessage.utf8)))",
                    ])
                return .exported
            case .cancelled:
                countFailed()
                logger.warning("Export cancelled", metadata: ["batch.items": "\(items)"])
                return .failed
            case .status(let status, let retryAfter, let message):
                failure = .status(status, retryAfter: retryAfter)
                metrics.status.exportFailed(
                    batch.signal, error: message.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(message)",
                    at: Timestamp.now())
                if !RetryStateMachine<ContinuousClock.Instant>.isRetryable(status: status) {
                    counters.dropped.increment(by: items)
                    var metadata: Logger.Metadata = [
                        "http.status": "\(status)", "batch.items": "\(items)", "error.message": "\(message)",
                    ]
                    if status == 401 || status == 403 {
                        metadata["hint"] =
                            "check the Authorization token and the Dash0-Dataset header in exporters.otlp_http.headers"
                    }
                    logger.error("Export rejected by the backend, dropping batch", metadata: metadata)
                    return .rejected
                }
                logger.info(
                    "Export got a retryable status",
                    metadata: [
                        "http.status": "\(status)", "error.message": "\(message)",
                        "retry.after": "\(retryAfter.map { "\($0)" } ?? "")",
                    ])
            case .transport(let kind, let error):
                failure = .transport
                // In words: "connection refused (127.0.0.1:4318)", not NIO's "(errno: 111)".
                let words = TransportErrorText.describe(error, host: request.url.host, port: request.url.port)
                metrics.status.exportFailed(batch.signal, error: words, at: Timestamp.now())
                var metadata: Logger.Metadata = ["error": "\(words)", "url.full": "\(request.url)"]
                switch kind {
                case .tlsVerification:
                    metadata["hint"] = "the server certificate is not trusted: set tls.ca_file or check the endpoint"
                    logger.warning("Export failed: TLS certificate verification failed", metadata: metadata)
                case .tlsHandshake:
                    logger.warning("Export failed: TLS handshake failed", metadata: metadata)
                case .timeout:
                    logger.warning("Export failed: request timed out", metadata: metadata)
                case .connection:
                    logger.warning("Export failed: connection error", metadata: metadata)
                }
            }

            switch retry.failed(failure, now: backoffClock.now()) {
            case .retry(let delay):
                counters.retries.increment()
                logger.debug(
                    "Retrying export", metadata: ["retry.after": "\(delay)", "retry.attempt": "\(retry.failures)"])
                do {
                    try await backoffClock.sleep(for: delay)
                } catch {
                    countFailed()
                    logger.warning("Export cancelled", metadata: ["batch.items": "\(items)"])
                    return .failed
                }
            case .drop:
                // Only reached for non-retryable statuses, handled above.
                counters.dropped.increment(by: items)
                return .rejected
            case .giveUp:
                countFailed()
                logger.error(
                    batch.persistent
                        ? "Export failed, giving up on batch for now; it stays in the persistent queue"
                        : "Export failed, giving up on batch",
                    metadata: [
                        "batch.items": "\(items)", "retry.attempts": "\(retry.failures)",
                        "retry.elapsed": "\(backoffClock.now() - retry.start)",
                    ])
                return .failed
            }
        }
    }

    enum AttemptOutcome {
        case accepted(PartialSuccess?)
        case status(Int, retryAfter: Duration?, message: String)
        case transport(TransportFailure, any Error)
        case cancelled
    }

    private func attempt(_ request: HTTPRequest, logger: Logger) async -> AttemptOutcome {
        do {
            let response = try await client.execute(
                request, timeout: configuration.timeout, maxBodyBytes: Self.maxResponseBytes, truncateBody: true)
            var body = Array(response.body.readableBytesView)
            if response.headers.first(name: "content-encoding")?.lowercased() == "gzip" {
                body = (try? Gzip.decompress(body, maxOutputBytes: Self.maxResponseBytes)) ?? body
            }
            let status = Int(response.status.code)
            if (200..<300).contains(status) {
                let isProtobuf =
                    response.headers.first(name: "content-type").map {
                        $0.lowercased().hasPrefix("application/x-protobuf")
                            || $0.lowercased().hasPrefix("application/protobuf")
                    } ?? true
                return .accepted(isProtobuf ? PartialSuccess.parse(body) : nil)
            }
            let retryAfter = response.headers.first(name: "retry-after").flatMap {
                RetryAfter.parse($0, nowUnixSeconds: Int64(Timestamp.now() / 1_000_000_000))
            }
            let message = ResponseBody.errorMessage(body, contentType: response.headers.first(name: "content-type"))
            return .status(status, retryAfter: retryAfter, message: message)
        } catch {
            if Task.isCancelled || error is CancellationError { return .cancelled }
            return .transport(TransportFailure(error), error)
        }
    }
}
