import Exporters
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Logging
import NIOHTTP1
import OTLPWire
import Pipeline
import SelfTelemetry
import Testing

@Suite(.serialized, .timeLimit(.minutes(1)))
struct OTLPHTTPExporterTests {
    let metrics = AgentMetrics()
    let logs = LogRecorder()
    /// The back-off clock: a sleep returns at once, moving the clock (the suite waits for no back-off),
    /// and `time.sleeps` tells how long each back-off was.
    let time = ManualClock(autoAdvance: true)

    func exporter(_ configuration: OTLPHTTPExporterConfiguration, clock: ManualClock? = nil) throws -> OTLPHTTPExporter
    {
        try OTLPHTTPExporter(
            configuration: configuration, metrics: metrics, logger: logs.logger(), version: "1.2.3",
            backoffClock: (clock ?? time).clock)
    }

    /// Runs `body` with a started sink and an exporter for it, shutting both down afterwards.
    func withSink(
        responses: [HTTPSink.Response] = [], fallback: HTTPSink.Response = .ok, tls: HTTPSink.TLS? = nil,
        clock: ManualClock? = nil,
        configure: (inout OTLPHTTPExporterConfiguration) -> Void = { _ in },
        _ body: (HTTPSink, OTLPHTTPExporter) async throws -> Void
    ) async throws {
        let sink = try await HTTPSink.start(responses: responses, fallback: fallback, tls: tls)
        var configuration = Fixtures.configuration(sink.baseURL + "/")
        configure(&configuration)
        let exporter = try exporter(configuration, clock: clock)
        do {
            try await body(sink, exporter)
        } catch {
            await exporter.shutdown()
            try await sink.shutdown()
            throw error
        }
        await exporter.shutdown()
        try await sink.shutdown()
    }

    @Test func gzipBodyPathAndHeaders() async throws {
        try await withSink { configuration in
            configuration.headers = [
                .init("Authorization", "Bearer secret-token"), .init("Dash0-Dataset", "flux"), .init("X-Multi", "a"),
                .init("X-Multi", "b"),
            ]
            configuration.compressionLevel = 9
        } _: { sink, exporter in
            for signal in Signal.allCases {
                let batch = Fixtures.batch(signal, items: 5)
                #expect(await exporter.export(batch) == .exported)
                let request = try #require(sink.requests.last)
                #expect(request.method == .POST)
                #expect(request.path == "/v1/\(signal.rawValue)")
                #expect(request.header("Content-Type") == "application/x-protobuf")
                #expect(request.header("Content-Encoding") == "gzip")
                #expect(request.header("User-Agent") == "fluxtel/1.2.3")
                #expect(request.header("Authorization") == "Bearer secret-token")
                #expect(request.header("Dash0-Dataset") == "flux")
                #expect(request.headers.filter { $0.0 == "X-Multi" }.map(\.1) == ["a", "b"])
                #expect(request.header("Content-Length") == "\(request.rawBody.count)")
                #expect(request.rawBody.count < batch.body.count)
                #expect(request.body == batch.body)
                #expect(metrics.exported(signal) == 5)
            }
            #expect(sink.requests.count == 3)
            #expect(metrics.exportAttempts() == 1)
        }
    }

    @Test func uncompressedWhenCompressionIsNone() async throws {
        try await withSink {
            $0.compression = .none
        } _: { sink, exporter in
            let batch = Fixtures.batch()
            #expect(await exporter.export(batch) == .exported)
            let request = try #require(sink.requests.first)
            #expect(request.header("Content-Encoding") == nil)
            #expect(request.rawBody == batch.body)
        }
    }

    @Test func perSignalEndpointOverridesBase() async throws {
        let sink = try await HTTPSink.start()
        var configuration = Fixtures.configuration("http://127.0.0.1:1")  // nothing listens there
        configuration.logsEndpoint = sink.baseURL + "/custom/logs/path"
        let exporter = try exporter(configuration)
        #expect(await exporter.export(Fixtures.batch(.logs)) == .exported)
        #expect(sink.requests.map(\.path) == ["/custom/logs/path"])
        await exporter.shutdown()
        try await sink.shutdown()
        #expect(
            OTLPHTTPExporterConfiguration(endpoint: "https://ingress.example.com//").url(for: .metrics)
                == "https://ingress.example.com/v1/metrics")
        #expect(throws: ExporterConfigurationError.invalidEndpoint("")) {
            try OTLPHTTPExporter(
                configuration: .init(endpoint: "ingress:4318"), metrics: metrics, logger: logs.logger())
        }
    }

    @Test func threeServiceUnavailableThenOKDeliversOnce() async throws {
        try await withSink(responses: [.status(503), .status(503), .status(503)]) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch(items: 11)) == .exported)
            let requests = sink.requests
            #expect(requests.count == 4)
            #expect(requests.allSatisfy { $0.body == Fixtures.body() })
            #expect(metrics.retries() == 3)
            #expect(metrics.exported() == 11)
            #expect(metrics.failed() == 0)
            #expect(metrics.dropped() == 0)
            #expect(metrics.exportAttempts() == 4)
            #expect(time.sleeps.count == 3, "one back-off before each retry")
        }
    }

    @Test func retryAfterSecondsIsHonoured() async throws {
        try await withSink(responses: [.status(429, headers: [("Retry-After", "2")])]) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .exported)
            let requests = sink.requests
            #expect(requests.count == 2)
            // The back-off here is 10-50 ms (jittered): a wait of 2 s comes from Retry-After alone.
            #expect(time.sleeps.count == 1)
            #expect(time.sleeps.allSatisfy { $0 >= .seconds(2) }, "second attempt after \(time.sleeps)")
            #expect(metrics.retries() == 1)
        }
    }

    @Test func retryAfterHTTPDateIsHonoured() async throws {
        // A date 10 s ahead, with 1-second resolution: the wait is about 9-10 s (the back-off clock
        // is manual, so nobody waits); far beyond the 10-50 ms back-off, however slow the machine.
        let date = Self.httpDate(Date().addingTimeInterval(10))
        try await withSink(responses: [.status(503, headers: [("Retry-After", date)])]) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .exported)
            let requests = sink.requests
            #expect(requests.count == 2)
            #expect(time.sleeps.count == 1)
            #expect(time.sleeps.allSatisfy { $0 >= .seconds(5) && $0 <= .seconds(10) }, "\(time.sleeps)")
        }
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    @Test func retryAfterBeyondDeadlineGivesUpAtOnce() async throws {
        try await withSink(fallback: .status(429, headers: [("Retry-After", "60")])) {
            $0.retry = Fixtures.retry(elapsed: .seconds(5))
        } _: { sink, exporter in
            #expect(await exporter.export(Fixtures.batch(items: 4)) == .failed)
            #expect(time.sleeps.isEmpty, "gave up at once, without waiting")
            #expect(sink.requests.count == 1)
            #expect(metrics.failed() == 4)
            #expect(metrics.retries() == 0)
        }
    }

    /// A batch of the persistent queue goes back to it when given up on: not counted as failed.
    @Test func givingUpOnAPersistentBatchIsNotCountedAsFailed() async throws {
        try await withSink(fallback: .status(429, headers: [("Retry-After", "60")])) {
            $0.retry = Fixtures.retry(elapsed: .seconds(5))
        } _: { sink, exporter in
            var batch = Fixtures.batch(items: 4)
            batch.persistent = true
            #expect(await exporter.export(batch) == .failed)
            #expect(sink.requests.count == 1)
            #expect(metrics.failed() == 0)
            #expect(metrics.dropped() == 0)
        }
    }

    @Test func badRequestWithStatusBodyIsRejectedAndLogged() async throws {
        let status = Fixtures.rpcStatus(code: 3, message: "resource_spans[0]: invalid trace id length")
        try await withSink(
            fallback: .status(400, headers: [("Content-Type", "application/x-protobuf")], body: status)
        ) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch(items: 9)) == .rejected)
            // The export has returned: it sends nothing more.
            #expect(sink.requests.count == 1)
            #expect(time.sleeps.isEmpty)
            #expect(metrics.dropped() == 9)
            #expect(metrics.failed() == 0)
            #expect(metrics.retries() == 0)
            let entry = try #require(logs.entries.first { $0.level == .error })
            #expect(entry.metadata["error.message"] == "resource_spans[0]: invalid trace id length")
            #expect(entry.metadata["http.status"] == "400")
            #expect(entry.metadata["component"] == "exporter.otlp_http")
        }
    }

    @Test(arguments: [500, 501, 404, 413])
    func otherStatusesAreNotRetried(status: Int) async throws {
        try await withSink(fallback: .status(status, body: Array("nope\n".utf8))) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch(items: 2)) == .rejected)
            #expect(sink.requests.count == 1)
            #expect(metrics.dropped() == 2)
        }
    }

    @Test func forbiddenLogsAHintAboutTheDatasetAndToken() async throws {
        let forbidden = HTTPSink.Response.status(
            403, headers: [("Content-Type", "text/plain")], body: Array("forbidden".utf8))
        try await withSink(fallback: forbidden) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .rejected)
            let entry = try #require(logs.entries.first { $0.metadata["http.status"] == "403" })
            #expect(entry.metadata["hint"]?.contains("Dash0-Dataset") == true)
            #expect(entry.metadata["error.message"] == "forbidden")
        }
    }

    @Test func partialSuccessIsCountedAndLogged() async throws {
        let body = Fixtures.partialSuccess(rejected: 3, message: "3 log records too large")
        let response = HTTPSink.Response.status(200, headers: [("Content-Type", "application/x-protobuf")], body: body)
        try await withSink(fallback: response) { sink, exporter in
            #expect(await exporter.export(Fixtures.batch(.logs, items: 10)) == .exported)
            #expect(metrics.exported(.logs) == 7)
            #expect(metrics.dropped(.logs) == 3)
            let entry = try #require(logs.entries.first { $0.level == .warning })
            #expect(entry.metadata["items.rejected"] == "3")
            #expect(entry.metadata["error.message"] == "3 log records too large")
        }
    }

    @Test func connectionRefusedIsRetriedThenFails() async throws {
        // Bind and close a sink to get a port nothing listens on.
        let sink = try await HTTPSink.start()
        let url = sink.baseURL
        try await sink.shutdown()
        let exporter = try exporter(Fixtures.configuration(url, retry: Fixtures.retry(elapsed: .milliseconds(300))))
        #expect(await exporter.export(Fixtures.batch(items: 3)) == .failed)
        // Gave up within max_elapsed_time: the back-offs (on the manual clock) add up to at most 300 ms.
        #expect(time.sleeps.reduce(.zero, +) <= .milliseconds(300), "\(time.sleeps)")
        #expect(metrics.failed() == 3)
        #expect(metrics.retries() >= 2)
        #expect(Double(time.sleeps.count) == metrics.retries())
        #expect(logs.entries.contains { $0.message == "Export failed: connection error" })
        #expect(logs.entries.contains { $0.message == "Export failed, giving up on batch" })
        await exporter.shutdown()
    }

    @Test func slowServerTimesOutAndIsRetried() async throws {
        let slow = HTTPSink.Response(status: .ok, delay: .seconds(2))
        try await withSink(responses: [slow]) {
            $0.timeout = .milliseconds(200)
        } _: { sink, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .exported)
            #expect(sink.requests.count == 2)
            #expect(logs.entries.contains { $0.message == "Export failed: request timed out" })
        }
    }

    /// Cancelled while it waits in a back-off (a manual clock nobody advances: only the cancel can
    /// end that wait), the export returns `.failed`.
    @Test func cancellationDuringTheBackOffReturnsFailed() async throws {
        let backoff = ManualClock()
        try await withSink(fallback: .status(503), clock: backoff) {
            $0.retry = Fixtures.retry(initial: .milliseconds(200), max: .seconds(1), elapsed: .seconds(60))
        } _: { sink, exporter in
            let task = Task { await exporter.export(Fixtures.batch(items: 6)) }
            try await backoff.waitForSleeps(1)
            backoff.advance(by: backoff.sleeps[0])  // one retry
            try await backoff.waitForSleeps(2)  // in the second back-off
            #expect(sink.requests.count == 2)
            task.cancel()
            #expect(try await awaitBounded("the cancelled export") { await task.value } == .failed)
            #expect(metrics.failed() == 6)
            #expect(backoff.pendingSleepers == 0)
        }
    }

    @Test func cancellationDuringASlowRequest() async throws {
        try await withSink(fallback: HTTPSink.Response(status: .ok, delay: .seconds(5))) { sink, exporter in
            let task = Task { await exporter.export(Fixtures.batch()) }
            _ = try await sink.waitForRequests(count: 1)
            task.cancel()
            // Returns on the cancel, not after the 5 s answer (only a hang fails the bound).
            #expect(try await awaitBounded("the cancelled export") { await task.value } == .failed)
        }
    }

    // MARK: TLS

    @Test func httpsWithConfiguredCADelivers() async throws {
        let pki = try TestCertificates.generate()
        defer { pki.remove() }
        let tls = HTTPSink.TLS(certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey)
        try await withSink(tls: tls) {
            $0.tls.caFile = pki.caCertificate
        } _: { sink, exporter in
            #expect(sink.baseURL.hasPrefix("https://127.0.0.1:"))
            #expect(await exporter.export(Fixtures.batch()) == .exported)
            #expect(sink.requests.first?.body == Fixtures.body())
        }
    }

    @Test func httpsToLocalhostNameWithConfiguredCADelivers() async throws {
        let pki = try TestCertificates.generate()
        defer { pki.remove() }
        let tls = HTTPSink.TLS(certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey)
        let sink = try await HTTPSink.start(tls: tls)
        var configuration = Fixtures.configuration("https://localhost:\(sink.port)")
        configuration.tls.caFile = pki.caCertificate
        let exporter = try exporter(configuration)
        #expect(await exporter.export(Fixtures.batch()) == .exported)
        await exporter.shutdown()
        try await sink.shutdown()
    }

    @Test func httpsWithoutTheCAFailsWithAClearLogLine() async throws {
        let pki = try TestCertificates.generate()
        defer { pki.remove() }
        let tls = HTTPSink.TLS(certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey)
        try await withSink(tls: tls) {
            $0.retry = Fixtures.retry(elapsed: .milliseconds(200))
        } _: { sink, exporter in
            #expect(await exporter.export(Fixtures.batch(items: 2)) == .failed)
            #expect(sink.requests.isEmpty)
            #expect(metrics.failed() == 2)
            let line = try #require(logs.entries.first { $0.message.contains("TLS") }, "\(logs.entries)")
            #expect(line.message == "Export failed: TLS certificate verification failed")
            #expect(line.metadata["hint"]?.contains("tls.ca_file") == true)
        }
    }

    @Test func insecureSkipVerifyDelivers() async throws {
        let pki = try TestCertificates.generate()
        defer { pki.remove() }
        let tls = HTTPSink.TLS(certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey)
        try await withSink(tls: tls) {
            $0.tls.insecureSkipVerify = true
        } _: { _, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .exported)
        }
    }

    @Test func mutualTLSPresentsTheClientCertificate() async throws {
        let pki = try TestCertificates.generate()
        defer { pki.remove() }
        let tls = HTTPSink.TLS(
            certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey, clientCAFile: pki.caCertificate)
        try await withSink(tls: tls) {
            $0.tls = .init(caFile: pki.caCertificate, certFile: pki.clientCertificate, keyFile: pki.clientKey)
        } _: { sink, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .exported)
            #expect(sink.requests.count == 1)
        }
        // Without the client certificate the sink refuses the handshake.
        try await withSink(tls: tls) {
            $0.tls.caFile = pki.caCertificate
            $0.retry = Fixtures.retry(elapsed: .milliseconds(200))
        } _: { sink, exporter in
            #expect(await exporter.export(Fixtures.batch()) == .failed)
            #expect(sink.requests.isEmpty)
        }
    }

    @Test func unreadableTLSFilesAreConfigurationErrors() {
        var configuration = Fixtures.configuration("https://127.0.0.1:1")
        configuration.tls.caFile = "/nonexistent/ca.pem"
        #expect(throws: ExporterConfigurationError.tls("")) { try exporter(configuration) }
        configuration.tls = .init(certFile: "/nonexistent/client.pem")
        #expect(throws: ExporterConfigurationError.tls("")) { try exporter(configuration) }
    }
}
