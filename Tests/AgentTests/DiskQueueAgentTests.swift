import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Logging
import OTLPReceiver
import OTLPWire
import PersistentQueue
import SelfTelemetry
import ServiceLifecycle
import Synchronization
import Testing

@testable import Pipeline

/// The persistent queue end to end: the receiver's 200 waits for durability; the real binary keeps
/// what it accepted across `kill -9`, and keeps running when the queue's files cannot grow.
@Suite(.serialized) struct DiskQueueAgentTests {
    static let protobuf = [("Content-Type", "application/x-protobuf")]

    /// A request of `spans` spans whose names are unique across the test (`span-<request>-<i>`).
    static func request(_ index: Int, spans: Int = 5) -> [UInt8] {
        OTLP.ExportTraceServiceRequest(resourceSpans: [
            OTLP.ResourceSpans(scopeSpans: [
                OTLP.ScopeSpans(
                    spans: (0..<spans).map { i in
                        var span = AgentProcessTests.fluxSpan(i)
                        span.name = "span-\(index)-\(i)"
                        return span
                    })
            ])
        ]).serializedBytes()
    }

    static func spanNames(_ requests: some Sequence<HTTPSink.RecordedRequest>) -> [String] {
        requests.filter { $0.status == 200 }.flatMap { request in
            ((try? OTLP.ExportTraceServiceRequest(decoding: request.body ?? []))?.resourceSpans ?? [])
                .flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } }
        }
    }

    /// Waits until every span of `names` arrived at `sink` (answered 200); throws if the sink then
    /// stays silent for the hang bound. Decodes each request once.
    static func waitForSpans(_ names: Set<String>, at sink: HTTPSink) async throws {
        var arrived: Set<String> = []
        try await sink.waitUntil { new in
            arrived.formUnion(spanNames(new))
            return arrived.isSuperset(of: names)
        }
    }

    static func post(_ port: Int, _ body: [UInt8]) async -> Int? {
        await httpRequest(port: port, method: "POST", path: "/v1/traces", headers: protobuf, body: body)?.status
    }

    static func makeDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fluxtel-queue-\(UUID().uuidString)")
            .path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The receiver over a persistent queue whose syncer does not run: the request is appended but
    /// not durable, so no answer comes; one fsync pass later the answer is 200.
    @Test func receiverAnswersOnlyOnceTheRequestIsDurable() async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let metrics = AgentMetrics()
        let disk = try DiskQueue(
            configuration: QueueConfiguration(directory: Self.makeDirectory()), metrics: metrics, logger: logger)
        let pipeline = Pipeline(metrics: metrics, store: disk)
        let receiver = OTLPReceiver(
            configuration: .init(), host: "127.0.0.1", port: 0, pipeline: pipeline, metrics: metrics,
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: receiver)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let port = try #require(await receiver.waitUntilBound())
            let status = Mutex<Int?>(nil)
            let body = Self.request(0)
            let client = Thread {
                let response = LoopbackHTTP.request(
                    port: port, method: "POST", path: "/v1/traces", headers: Self.protobuf, body: body,
                    timeoutSeconds: 60)
                status.withLock { $0 = response?.status ?? -1 }
            }
            client.start()
            #expect(await eventually { disk.liveRecords == 1 }, "the request reaches the queue")
            // The receiver counts a request as accepted when it answers it: the request is in the queue,
            // not durable (no fsync ran), and neither answered nor counted.
            #expect(Self.acceptedRequests(metrics) == 0, "answered before the request was durable")
            #expect(status.withLock { $0 } == nil, "answered before the request was durable")
            disk.flush()
            #expect(await eventually { status.withLock { $0 } != nil })
            #expect(status.withLock { $0 } == 200)
            #expect(Self.acceptedRequests(metrics) == 1)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// `fluxtel_receiver_accepted_requests_total{signal="traces"}` of an in-process agent.
    static func acceptedRequests(_ metrics: AgentMetrics) -> Double? {
        AgentProcess.sample(
            "fluxtel_receiver_accepted_requests_total", ["signal": "traces"],
            in: String(decoding: metrics.render(), as: UTF8.self))
    }

    /// Listeners on port 0: the agent reports the ports it got (`AgentProcess.otlpPort`, `telemetryPort`).
    func config(sinkPort: Int, directory: String, extraQueue: String = "") -> String {
        """
        receivers:
          otlp:
            endpoint: 127.0.0.1:0
        processors:
          batch: { max_items: 50, timeout: 100ms }
          queue:
            directory: \(directory)
        \(extraQueue)
        \(TestConfig.exportToSink(sinkPort, retry: "{ initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 1h }"))
        """
    }

    /// `kill -9` with the sink down: every span answered 200 before the kill arrives after a restart.
    @Test func killNineLosesNothingThatWasAcceptedWithTheSinkDown() async throws {
        let directory = Self.makeDirectory()
        // The sink is down (connections refused) but keeps its port bound meanwhile, so that no other
        // server can take it and answer the first agent's exports: a CI run once lost the first 13
        // requests that way when the port had been handed out by a closed probe socket.
        let sink = try await HTTPSink.start()
        try await sink.stopListening()
        let path = try AgentProcessTests().writeConfig(config(sinkPort: sink.port, directory: directory))
        let first = try startFluxtel(["--config", path])
        try await first.waitUntilReady()
        let otlpPort = try await first.otlpPort
        var accepted: Set<String> = []
        for index in 0..<200 {
            if await Self.post(otlpPort, Self.request(index)) == 200 {
                for i in 0..<5 { accepted.insert("span-\(index)-\(i)") }
            }
        }
        first.signal(SIGKILL)
        _ = try await first.wait()
        #expect(accepted.count == 1000)
        #expect(sink.requests.isEmpty, "nothing reached the sink while it was down")

        try await sink.resumeListening()
        let second = try startFluxtel(["--config", path])
        try await second.waitUntilReady()
        try await Self.waitForSpans(accepted, at: sink)
        let names = Self.spanNames(sink.requests)
        let received = Set(names)
        #expect(accepted.subtracting(received).isEmpty, "lost \(accepted.subtracting(received).count) accepted spans")
        // Nothing was exported before the kill (the sink was down), so nothing may arrive twice.
        #expect(names.count == received.count, "\(names.count - received.count) duplicates")
        second.signal(SIGTERM)
        let finished = try await second.finish()
        #expect(finished.status == 0, "\(finished.stderr.suffix(2000))")
        try await sink.shutdown()
    }

    /// The agent with a disk queue, run under `prlimit --fsize=BYTES` (RLIMIT_FSIZE) with SIGXFSZ
    /// ignored, ready; and its ports and sink.
    struct Limited {
        var process: AgentProcess
        var otlpPort: Int
        var sink: HTTPSink

        /// `fluxtel_queue_write_errors_total`'s line, if it is above 0.
        func writeErrors() async throws -> String? {
            let metrics = try await process.metrics()
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("fluxtel_queue_write_errors_total ") }
            return line.flatMap { $0.hasSuffix(" 0") ? nil : String($0) }
        }
    }

    func startUnderFileSizeLimit(_ bytes: Int) async throws -> Limited {
        let directory = Self.makeDirectory()
        let sink = try await HTTPSink.start()
        let path = try AgentProcessTests().writeConfig(config(sinkPort: sink.port, directory: directory))
        // SIG_IGN survives exec: the child ignores SIGXFSZ and sees EFBIG instead of dying.
        signal(SIGXFSZ, SIG_IGN)
        let process = try startFluxtel(["--config", path], wrapper: ["/usr/bin/prlimit", "--fsize=\(bytes)", "--"])
        try await process.waitUntilReady()
        return Limited(process: process, otlpPort: try await process.otlpPort, sink: sink)
    }

    /// The queue's files may not grow past 16 KiB, less than one request (~24 KiB): no file can hold
    /// a chunk, so each would be refused forever and its source stall. Such chunks are held in memory
    /// instead: every request is answered 200 and arrives, and the agent says so and counts it.
    @Test func chunkLargerThanAnyFileIsHeldInMemoryAndDelivered() async throws {
        let agent = try await startUnderFileSizeLimit(16 << 10)
        var accepted: Set<String> = []
        for index in 0..<20 {
            let status = await Self.post(agent.otlpPort, Self.request(index, spans: 100))
            #expect(status == 200, "request \(index): \(status)")
            if status == 200 { for i in 0..<100 { accepted.insert("span-\(index)-\(i)") } }
        }
        try await Self.waitForSpans(accepted, at: agent.sink)
        #expect(try await agent.writeErrors() != nil, "fluxtel_queue_write_errors_total")
        agent.process.signal(SIGTERM)
        let finished = try await agent.process.finish()
        #expect(finished.status == 0)
        #expect(finished.stderr.contains("queued in memory instead"), "\(finished.stderr.suffix(2000))")
        try await agent.sink.shutdown()
    }

    /// The queue's files may not grow past 64 KiB (RLIMIT_FSIZE, SIGXFSZ ignored): writes fail with
    /// EFBIG, the agent says so, keeps running, and everything it answered 200 for arrives.
    @Test func fileSizeLimitIsSurvivedAndReported() async throws {
        let agent = try await startUnderFileSizeLimit(64 << 10)
        var accepted: Set<String> = []
        var refused = 0
        for index in 0..<150 {
            // ~6 KiB per request: a 64 KiB segment holds about ten.
            let status = await Self.post(agent.otlpPort, Self.request(index, spans: 25))
            if status == 200 { for i in 0..<25 { accepted.insert("span-\(index)-\(i)") } } else { refused += 1 }
        }
        #expect(agent.process.isRunning)
        #expect(try await agent.writeErrors() != nil, "fluxtel_queue_write_errors_total")
        try await Self.waitForSpans(accepted, at: agent.sink)
        #expect(accepted.count > 100 * 25, "most requests are accepted (\(refused) refused)")
        agent.process.signal(SIGTERM)
        let finished = try await agent.process.finish()
        #expect(finished.status == 0)
        #expect(finished.stderr.contains("out of space"), "\(finished.stderr.suffix(2000))")
        try await agent.sink.shutdown()
    }
}
