import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// Issue 6's fault-injection scenarios 5, 7 and 8: the persistent disk queue (`processors.queue.directory`)
/// under `kill -9`, a file-size limit and a corrupt segment, with all three sources active.
@Suite(.serialized) struct DiskQueueFaultTests {
    /// 5. `kill -9` of the agent three times during steady load (restarted with the same config each time):
    /// afterwards no log line and no span answered 200 is lost; duplicates (batches exported but not yet
    /// released when the kill came, and log lines read again from the checkpoint) are counted and bounded
    /// by one batch per kill, per signal.
    @Test func killNineThreeTimesUnderLoadLosesNothing() async throws {
        var options = FaultRun.Options()
        options.queueDirectory = "queue"
        let kills = 3
        try await FaultRun.with("kill9", options: options) { run in
            try await run.waitUntilFlowing()
            for _ in 0..<kills {
                try await Task.sleep(for: .seconds(3))  // the load runs between kills
                try await run.kill9()
                try await run.restart()
            }
            try await Task.sleep(for: .seconds(2))  // the load runs on after the last restart
            var outcome = try await run.finish()
            let summary =
                "kill -9 ×\(kills): logs \(outcome.logs); spans \(outcome.spans); scrapes served \(outcome.servedScrapes), lost \(outcome.lostScrapes), duplicate points \(outcome.duplicatePoints)"
            print(summary)
            let bound = kills * options.maxBatchItems
            #expect(outcome.logs.duplicates <= bound, "\(summary)")
            #expect(outcome.spans.duplicates <= bound, "\(summary)")
            #expect(outcome.duplicatePoints <= bound, "\(summary)")
            // A scrape the target served just before a kill may never have reached the queue: not accepted.
            #expect(outcome.lostScrapes <= kills, "\(summary)")
            outcome.lostScrapes = 0
            outcome.logs.duplicates = 0
            outcome.spans.duplicates = 0
            outcome.duplicatePoints = 0
            // Spans whose 200 the kill cut off were never accepted, and may arrive: not exact.
            FaultInjectionTests.expectNothingLost(outcome, "kill -9 ×\(kills)", exact: false)
            #expect(outcome.stderr.contains("Replaying the disk queue"), "a restart must find queued records")
        }
    }

    /// 7. The queue's files may not grow past 640 KiB (RLIMIT_FSIZE, SIGXFSZ ignored) and the queue may
    /// hold 6 MiB (768 KiB segments), while the sink answers 503 for 15 s: appends fail with EFBIG, the
    /// agent rolls to new segments until the queue is full and then pushes back (429/503 to spans); it
    /// keeps answering /healthz, logs "out of space" and counts `fluxtel_queue_write_errors_total`.
    /// After the sink returns, every log line written and every span answered 200 arrives.
    @Test func fileSizeLimitWithSinkDownAppliesBackpressureAndLosesNothing() async throws {
        var options = FaultRun.Options()
        options.queueDirectory = "queue"
        // 6 MiB queue: 768 KiB segments, cut at 640 KiB by the limit, above the largest chunk a source
        // hands over (the filelog reads 256 KiB of lines at a time), so every chunk is written to disk
        // (a chunk that fits in no file is held in memory: DiskQueueAgentTests).
        options.queueSettings = ["max_bytes: 6291456", "full_policy: backpressure"]
        options.fileSizeLimit = 640 << 10
        options.logLinesPerSecond = 2000
        options.spansPerSecond = 50
        try await FaultRun.with("fsize", options: options) { run in
            try await run.waitUntilFlowing()
            run.sink.setFallback(.status(503, headers: [("Content-Type", "text/plain")], body: Array("down".utf8)))
            // Once a second during the 15 s outage, /healthz must answer (polled: the bound only catches a hang).
            let telemetryPort = try await run.telemetryPort
            var healthy = 0
            for _ in 0..<15 {
                try await Task.sleep(for: .seconds(1))  // paces the outage
                let answered = await eventually {
                    await LoopbackHTTP.fetch(port: telemetryPort, path: "/healthz")?.status == 200
                }
                if answered { healthy += 1 }
            }
            let during = try await run.metricsText()
            let pushedBack = run.spans.tally.pushedBack
            #expect(run.agent.isRunning)
            run.sink.setFallback(.ok)
            // Scrapes that met the full queue were refused, not accepted: wait only for logs and spans.
            var outcome = try await run.finish(excludedScrapes: Int.max / 2)
            let errors =
                during.split(separator: "\n").first { $0.hasPrefix("fluxtel_queue_write_errors_total ") }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } } ?? 0
            print(
                "file size limit: logs \(outcome.logs); spans \(outcome.spans); pushed back \(pushedBack); write errors \(errors); healthz ok \(healthy)/15; scrapes served \(outcome.servedScrapes), lost \(outcome.lostScrapes)"
            )
            #expect(healthy == 15, "the agent must keep answering /healthz")
            #expect(errors > 0, "fluxtel_queue_write_errors_total")
            #expect(pushedBack > 0, "backpressure: spans must be answered 429/503 while the queue is full")
            #expect(outcome.stderr.contains("out of space"), "\(outcome.stderr.suffix(2000))")
            // Scrapes that met a full queue were refused (not accepted); logs and spans must all arrive.
            outcome.lostScrapes = 0
            outcome.incompleteScrapes = 0
            FaultInjectionTests.expectNothingLost(outcome, "file size limit")
        }
    }

    /// One record of a segment file (`SegmentRecord`'s layout): offset, total bytes, state, signal code, body.
    struct Record {
        var offset: Int
        var bytes: Int
        var state: UInt8
        var signal: UInt8
        var body: [UInt8]
    }

    static func records(_ file: [UInt8]) -> [Record] {
        var records: [Record] = []
        var offset = 0
        while offset + 22 <= file.count {
            let length = (0..<4).reduce(0) { $0 | Int(file[offset + $1]) << (8 * $1) }
            guard length >= 14, offset + 8 + length <= file.count else { break }
            records.append(
                Record(
                    offset: offset, bytes: 8 + length, state: file[offset + 8], signal: file[offset + 9],
                    body: Array(file[(offset + 22)..<(offset + 8 + length)])))
            offset += 8 + length
        }
        return records
    }

    /// 8. A corrupt segment at start-up: the agent runs with the sink down (so data stays queued), is
    /// stopped, one byte of the CRC of the last queued logs record is flipped and a torn record appended;
    /// the agent starts again, reports the damage (log and `fluxtel_queue_corruptions_total`) and delivers
    /// every intact record — all lines and spans except those in the records the damage cut off.
    @Test func corruptSegmentAtStartUpIsReportedAndTheRestDelivered() async throws {
        var options = FaultRun.Options()
        options.queueDirectory = "queue"
        try await FaultRun.with("corrupt", options: options) { run in
            try await run.waitUntilFlowing()
            run.sink.setFallback(.status(503))
            try await Task.sleep(for: .seconds(5))  // the scripted outage: data stays queued
            try await run.logs.stop()
            try await run.spans.stop()
            // The last lines read and queued: the agent received every line written.
            let written = Double(run.logs.count)
            var received = 0.0
            let caughtUp = try await eventually {
                received =
                    FaultRun.sample("fluxtel_items_received_total", signal: "logs", in: try await run.metricsText())
                    ?? 0
                return received >= written
            }
            try #require(caughtUp, "the agent received \(received) of \(written) lines")
            run.agent.signal(SIGTERM)
            let exit = try await run.agent.wait()
            #expect(exit?.status == 0)

            let files = run.segmentFiles()
            var damaged: (file: String, record: Record, cut: [Record])?
            for file in files.reversed() where damaged == nil {
                let records = Self.records(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))))
                if let index = records.lastIndex(where: { $0.signal == 3 && $0.state == 0 }) {
                    damaged = (file, records[index], Array(records[index...]))
                }
            }
            let (file, record, cut) = try #require(damaged, "a queued logs record in \(files)")
            var cutLedger = Ledger()
            for r in cut where r.state == 0 {
                switch r.signal {
                case 1: cutLedger.add(spans: r.body)
                case 2: cutLedger.add(metrics: r.body)
                case 3: cutLedger.add(logs: r.body)
                default: break
                }
            }
            let cutLogs = Set(cutLedger.logs.keys)
            let cutSpans = Set(cutLedger.spans.keys)
            #expect(!cutLogs.isEmpty, "the damaged record must hold log lines")
            let fd = open(file, O_RDWR)
            var byte: UInt8 = 0
            _ = pread(fd, &byte, 1, off_t(record.offset + 5))
            byte ^= 0xFF
            _ = pwrite(fd, &byte, 1, off_t(record.offset + 5))
            close(fd)
            // A torn record at the end of the newest segment: a frame promising more bytes than follow.
            let newest = files.last!
            let torn: [UInt8] = [0x00, 0x10, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x03, 0x01, 0x02]
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: newest))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(torn))
            try handle.close()

            run.sink.setFallback(.ok)
            try await run.restart()
            let outcome = try await run.finish(
                excludedSpans: cutSpans, excludedLines: cutLogs, excludedScrapes: cutLedger.scrapes.count)
            let ledger = run.delivered()
            let lostLogs = Set((0..<run.logs.count).filter { ledger.logs[$0] == nil })
            print(
                "corrupt segment: logs \(outcome.logs); spans \(outcome.spans); cut by the damage: \(cutLogs.count) lines, \(cutSpans.count) spans (\(cut.count) records); lines lost \(lostLogs.count)"
            )
            #expect(run.agent.isRunning == false && outcome.exit?.status == 0)
            #expect(
                lostLogs.isSubset(of: cutLogs),
                "only lines in damaged records may be lost: \(lostLogs.subtracting(cutLogs).sorted().prefix(10))")
            #expect(outcome.spans.lost.isEmpty, "\(outcome.spans)")
            #expect(outcome.logs.expected > 0 && outcome.spans.expected > 0)
            #expect(
                outcome.lostScrapes <= cutLedger.scrapes.count,
                "scrapes lost \(outcome.lostScrapes), cut \(cutLedger.scrapes.count)")
            let restarted = (try? String(contentsOfFile: run.directory + "/agent-2.stderr", encoding: .utf8)) ?? ""
            #expect(restarted.contains("Disk queue segment has a corrupt record"), "\(restarted.suffix(2000))")
            #expect(
                restarted.contains("Disk queue segment has a torn tail") || files.count == 1 && newest == file,
                "\(restarted.suffix(2000))")
            #expect(
                outcome.metrics.contains(#"fluxtel_queue_corruptions_total{reason="corrupt_record"} 1"#),
                "\(outcome.metrics.split(separator: "\n").filter { $0.contains("corrupt") })")
            #expect(outcome.ledger.undecodable == 0 && outcome.ledger.unnumbered == 0)
        }
    }
}
