import FluxtelTestSupport
import Foundation
import NIOHTTP1
import OTLPWire
import Synchronization
import Testing

/// Issue 6's fault-injection suite: the real `fluxtel` binary with all three sources active (a
/// Prometheus target, a log writer, a span sender) against a sink that fails on purpose. Every
/// scenario asserts on what the sink decoded, counted by unique key (see `FaultRun` and `Ledger`).
/// The scenarios run one at a time (`scripts/test` runs the real-process suites serialised, apart from
/// the parallel unit tests), each on its own ports; outages last the issue's 30 s.
///
/// Scenarios 5, 7 and 8 (kill -9, full disk, corrupt segment) use the disk queue: `DiskQueueFaultTests`.
@Suite(.serialized) struct FaultInjectionTests {
    static let outage: Duration = .seconds(30)

    /// What every scenario expects of everything it did not break on purpose.
    /// `exact`: also nothing delivered that no source handed over (false for SIGTERM, where lines past the
    /// last checkpoint and spans whose 200 the sender never read may legitimately arrive).
    static func expectNothingLost(
        _ outcome: FaultRun.Outcome, _ name: String, exact: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let summary = """
            \(name): logs \(outcome.logs); spans \(outcome.spans); scrapes served \(outcome.servedScrapes), lost \
            \(outcome.lostScrapes), incomplete \(outcome.incompleteScrapes), duplicate points \(outcome.duplicatePoints); \
            sender given up \(outcome.sender.givenUp.count), refused \(outcome.sender.refused.count); exit \
            \(outcome.exit.map { "\($0.status)" } ?? "none") after \(outcome.shutdownTime)
            """
        print(summary)
        let tail = String(outcome.stderr.suffix(3000))
        #expect(
            outcome.logs.expected > 0 && outcome.spans.expected > 0 && outcome.servedScrapes > 0, "\(summary)",
            sourceLocation: sourceLocation)
        #expect(outcome.logs.lost.isEmpty, "\(summary)\n\(tail)", sourceLocation: sourceLocation)
        #expect(outcome.spans.lost.isEmpty, "\(summary)\n\(tail)", sourceLocation: sourceLocation)
        #expect(outcome.lostScrapes == 0, "\(summary)\n\(tail)", sourceLocation: sourceLocation)
        #expect(outcome.incompleteScrapes == 0, "\(summary)", sourceLocation: sourceLocation)
        #expect(
            outcome.logs.duplicates == 0 && outcome.spans.duplicates == 0 && outcome.duplicatePoints == 0, "\(summary)",
            sourceLocation: sourceLocation)
        #expect(
            outcome.ledger.unnumbered == 0 && outcome.ledger.undecodable == 0, "\(summary)",
            sourceLocation: sourceLocation)
        if exact {
            #expect(
                outcome.logs.unexpected == 0 && outcome.spans.unexpected == 0, "\(summary)",
                sourceLocation: sourceLocation)
        }
        #expect(
            outcome.sender.givenUp.isEmpty && outcome.sender.refused.isEmpty, "\(summary)",
            sourceLocation: sourceLocation)
        #expect(
            outcome.exit?.status == 0 && outcome.exit?.signalled == false, "\(summary)\n\(tail)",
            sourceLocation: sourceLocation)
    }

    /// 1. The sink answers 503 for 30 s, then recovers: nothing is lost, nothing duplicated.
    @Test func sinkAnswers503For30SecondsThenRecovers() async throws {
        try await FaultRun.with("503") { run in
            try await run.waitUntilFlowing()
            run.sink.setFallback(
                .status(503, headers: [("Content-Type", "text/plain")], body: Array("overloaded".utf8)))
            try await Task.sleep(for: Self.outage)  // the scripted outage
            let refused = run.sink.requests.filter { $0.status == 503 }.count
            run.sink.setFallback(.ok)
            let outcome = try await run.finish()
            Self.expectNothingLost(outcome, "503 for 30 s")
            #expect(refused > 0, "the agent tried during the outage")
            #expect(
                FaultRun.sample("fluxtel_export_retries_total", signal: "logs", in: outcome.metrics) ?? 0 > 0,
                "/metrics before SIGTERM: \(outcome.metrics.isEmpty ? "unanswered" : "answered")")
        }
    }

    /// 2. 429 with `Retry-After: 3` (for 12 s): every batch's next try comes at least 3 s after the 429;
    /// nothing is lost. (Without Retry-After the configured backoff would retry within 2 s.)
    @Test func sinkAnswers429WithRetryAfter() async throws {
        try await FaultRun.with("429") { run in
            try await run.waitUntilFlowing()
            run.sink.setFallback(.status(429, headers: [("Retry-After", "3")]))
            try await Task.sleep(for: .seconds(12))  // the scripted outage
            run.sink.setFallback(.ok)
            let outcome = try await run.finish()
            Self.expectNothingLost(outcome, "429 Retry-After: 3")

            // Attempts of one batch carry the same body; gaps after a 429 must honour Retry-After.
            var attempts: [[UInt8]: [HTTPSink.RecordedRequest]] = [:]
            for request in run.sink.requests { attempts[request.body ?? request.rawBody, default: []].append(request) }
            var retried = 0
            var tooEarly: [Duration] = []
            for tries in attempts.values {
                for (previous, next) in zip(tries, tries.dropFirst()) where previous.status == 429 {
                    retried += 1
                    let gap = next.receivedAt - previous.receivedAt
                    if gap < .seconds(3) { tooEarly.append(gap) }
                }
            }
            print("429: \(retried) retries after a 429, \(tooEarly.count) sooner than Retry-After")
            #expect(retried >= 3, "the 429s must have been retried")
            #expect(tooEarly.isEmpty, "retries sooner than Retry-After: 3: \(tooEarly.prefix(5))")
        }
    }

    /// 3a. The sink refuses connections (not listening) for 30 s, then listens again on the same port.
    ///
    /// What the defaults guarantee (timeout 10 s, retry 1 s × 1.5 up to 30 s, ±50 % jitter, give up when
    /// the next try would start more than 5 min after the batch's first): a batch survives any outage
    /// that ends at least ~55 s (one 45 s backoff plus one 10 s timeout) before its 5 min are up, so
    /// outages under ~4 min lose nothing while the 64 MiB queue holds; queued batches start their 5 min
    /// only when a worker takes them. Past that, spans and metrics are given up (counted in
    /// `fluxtel_items_failed_total`); log lines are read again from the checkpoint, so they survive
    /// any outage while the agent runs. These runs use timeout 2 s and retry up to 2 s so recovery
    /// after the 30 s outage takes seconds, not up to 45 s.
    @Test func sinkUnreachableFor30Seconds() async throws {
        try await FaultRun.with("refused") { run in
            try await run.waitUntilFlowing()
            try await run.sink.stopListening()
            let before = run.sink.requests.count
            try await Task.sleep(for: Self.outage)  // the scripted outage
            #expect(run.sink.requests.count == before, "nothing can arrive while the sink does not listen")
            try await run.sink.resumeListening()
            let outcome = try await run.finish()
            Self.expectNothingLost(outcome, "connection refused for 30 s")
            #expect(outcome.stderr.contains("Export failed: connection error"))
        }
    }

    /// 3b. The sink accepts connections but never answers for 30 s: every request times out (exporter
    /// `timeout: 2s`) and is retried; nothing is lost and nothing the sink never answered counts.
    @Test func sinkNeverAnswersFor30Seconds() async throws {
        try await FaultRun.with("timeout") { run in
            try await run.waitUntilFlowing()
            run.sink.setFallback(.noAnswer)
            try await Task.sleep(for: Self.outage)  // the scripted outage
            let unanswered = run.sink.requests.filter { $0.status == nil }.count
            run.sink.setFallback(.ok)
            await run.sink.closeConnections()  // the held requests: the agent has given up on them already
            let outcome = try await run.finish()
            Self.expectNothingLost(outcome, "no answer for 30 s")
            #expect(unanswered >= 3, "requests must have reached the silent sink")
            #expect(outcome.stderr.contains("Export failed: request timed out"))
        }
    }

    /// 4. The sink answers 400 to exactly one traces batch: that batch is dropped (never retried) and
    /// counted in `fluxtel_items_dropped_total`; everything else flows.
    @Test func sinkRejectsOneBatchWith400() async throws {
        try await FaultRun.with("400") { run in
            try await run.waitUntilFlowing()
            let rejectedOnce = Mutex(false)
            run.sink.setResponder { request in
                guard request.path == "/v1/traces" else { return nil }
                let first = rejectedOnce.withLock { done in
                    defer { done = true }
                    return !done
                }
                return first
                    ? .status(400, headers: [("Content-Type", "text/plain")], body: Array("invalid span".utf8)) : nil
            }
            // Past the refusal: a later traces batch was answered 200 (a retry of the refused one
            // would come before that, with the short backoff, and would be answered 200 too).
            var refusedAt: Int?
            var laterTraces = 0
            var seen = 0
            try await run.sink.waitUntil { new in
                for (offset, request) in new.enumerated() where request.path == "/v1/traces" {
                    if request.status == 400 {
                        refusedAt = seen + offset
                    } else if refusedAt != nil && request.status == 200 {
                        laterTraces += 1
                    }
                }
                seen += new.count
                return laterTraces >= 3
            }
            let rejected = run.sink.requests.filter { $0.status == 400 }
            try #require(rejected.count == 1, "exactly one batch is refused")
            let rejectedSpans = Set(
                Ledger.spans(in: try OTLP.ExportTraceServiceRequest(decoding: rejected[0].body ?? [])))
            let outcome = try await run.finish(excludedSpans: rejectedSpans)
            Self.expectNothingLost(outcome, "400 for one batch")
            #expect(!rejectedSpans.isEmpty)
            #expect(
                rejectedSpans.allSatisfy { outcome.ledger.spans[$0] == nil }, "the refused batch must not be sent again"
            )
            #expect(run.sink.requests.filter { $0.status == 400 }.count == 1)
            #expect(
                FaultRun.sample("fluxtel_items_dropped_total", signal: "traces", in: outcome.metrics)
                    == Double(rejectedSpans.count),
                "\(outcome.metrics.split(separator: "\n").filter { $0.hasPrefix("fluxtel_items_dropped_total") })")
            #expect(FaultRun.sample("fluxtel_items_dropped_total", signal: "logs", in: outcome.metrics) == 0)
        }
    }

    /// 6. SIGTERM under load (1000 log lines/s, four span senders, a sink that takes 100 ms per
    /// request): the agent exits 0 within `shutdown_timeout`, and everything it accepted — spans it
    /// answered 200, log lines below its final checkpoint, scrapes it completed — was exported.
    @Test func sigtermUnderLoadExportsEverythingAccepted() async throws {
        var options = FaultRun.Options()
        options.logLinesPerSecond = 1000
        options.spanSenders = 4
        options.spansPerSecond = 50
        try await FaultRun.with("sigterm", options: options) { run in
            run.sink.setFallback(
                HTTPSink.Response(
                    status: .ok, headers: [("Content-Type", "application/x-protobuf")], delay: .milliseconds(100)))
            try await run.waitUntilFlowing()
            try await Task.sleep(for: .seconds(3))  // the load runs against the slow sink
            var outcome = try await run.terminateUnderLoad()
            // A scrape the target served as the signal arrived may not have been handed over: not accepted.
            #expect(outcome.lostScrapes <= 1, "scrapes served before SIGTERM: \(outcome.servedScrapes)")
            outcome.lostScrapes = 0
            // Spans still being retried when the sender stopped were never accepted (and may or may not arrive).
            Self.expectNothingLost(outcome, "SIGTERM under load", exact: false)
            #expect(outcome.logs.expected >= 1000, "the checkpoint must cover what was exported")
            print(
                "SIGTERM: exit after \(outcome.shutdownTime), \(outcome.logs.expected) lines checkpointed of \(run.logs.count) written, \(outcome.spans.expected) spans accepted"
            )
        }
    }

    /// 6b. SIGTERM under load while the sink never answers: the agent still exits 0 within
    /// `shutdown_timeout` (it gives up on what it could not deliver), and its final checkpoint covers
    /// only lines that were delivered, so a restart reads the rest again.
    @Test func sigtermWithSilentSinkExitsWithinShutdownTimeout() async throws {
        var options = FaultRun.Options()
        options.logLinesPerSecond = 1000
        try await FaultRun.with("sigterm-silent", options: options) { run in
            try await run.waitUntilFlowing()
            run.sink.setFallback(.noAnswer)
            try await Task.sleep(for: .seconds(3))  // the scripted silence before SIGTERM
            let outcome = try await run.terminateUnderLoad()
            let summary =
                "exit \(outcome.exit.map { "\($0.status)" } ?? "none (killed)") after \(outcome.shutdownTime); \(outcome.logs)"
            print("SIGTERM, silent sink: \(summary)")
            #expect(
                outcome.exit?.status == 0 && outcome.exit?.signalled == false,
                "\(summary)\n\(outcome.stderr.suffix(3000))")
            #expect(outcome.logs.lost.isEmpty, "lines below the checkpoint that never arrived: \(summary)")
            #expect(outcome.logs.expected < run.logs.count, "undelivered lines must stay above the checkpoint")
        }
    }
}
