import FluxtelConfig
import FluxtelTestSupport
import Testing

@testable import FileLogReceiver

/// The tailer's poll interval runs on an injected clock: a new file is found when the test moves the
/// clock past `poll_interval`, never because wall time passed (issue 14: an injectable clock for the
/// tailer's poll interval).
@Suite struct TailerClockTests {
    @Test func aNewFileIsFoundAtTheNextPollTickAndNotBefore() async throws {
        let directory = try TemporaryDirectory()
        let first = LogWriter(directory.file(RotationTests.podDirectory + "/0.log"))
        first.write(lines(0..<3))
        var configured = filelogConfig(directory)
        configured.pollInterval = .seconds(1)
        let clock = ManualClock()
        try await withTailer(configured) { tailer, exporter in
            tailer.clock = clock.clock
            let loop = Task { await tailer.run() }
            try await exporter.waitForNumbers(0..<3)  // the first poll happens at once
            try await clock.waitForSleeps(1)  // read all there was; now waiting for the next tick

            let second = LogWriter(directory.file("pods/flux-system_helm-controller-0_uid/manager/0.log"))
            second.write(lines(3..<4))
            // The tailer is asleep until the tick: the new file cannot have been found.
            #expect(tailer.files.count == 1)
            #expect(exporter.records.count == 3)

            clock.advance(by: .seconds(1))
            try await exporter.waitForNumbers(0..<4)
            #expect(tailer.files.count == 2)
            loop.cancel()
            await loop.value
        }
    }
}
