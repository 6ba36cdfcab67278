import FluxtelTestSupport
import Testing

@testable import Agent

/// `StartupPages`: which mappings of `/proc/self/smaps` it may drop, and that dropping them leaves the
/// process working.
@Suite struct StartupPagesTests {
    /// An excerpt of the release agent's smaps (fields it does not read cut), plus the vsyscall page,
    /// whose address is above `Int.max`.
    static let smaps = """
        557116321000-557116657000 r--p 00000000 fe:00 5539470                    /usr/bin/fluxtel
        Size:               3292 kB
        Rss:                1020 kB
        Anonymous:             0 kB
        AnonHugePages:         0 kB
        557116657000-557117255000 r-xp 00335000 fe:00 5539470                    /usr/bin/fluxtel
        Rss:                5692 kB
        Anonymous:             0 kB
        557117255000-5571172d9000 r--p 00f32000 fe:00 5539470                    /usr/bin/fluxtel
        Rss:                 528 kB
        Anonymous:           528 kB
        5571172d9000-5571174c4000 rw-p 00fb5000 fe:00 5539470                    /usr/bin/fluxtel
        Rss:                1184 kB
        Anonymous:           640 kB
        557119b89000-557119cdb000 rw-p 00000000 00:00 0                          [heap]
        Rss:                 676 kB
        Anonymous:           676 kB
        7f5de1c44000-7f5de1d9a000 r-xp 00026000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                1072 kB
        Anonymous:             0 kB
        7f5de1e00000-7f5de1e01000 ---p 00000000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                   0 kB
        Anonymous:             0 kB
        7ffd1a5f2000-7ffd1a5f4000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        Rss:                   0 kB
        Anonymous:             0 kB

        """

    @Test func readsHeadersAndTheFieldsItDecidesOn() {
        let mappings = SmapsReader.mappings(Array(Self.smaps.utf8))
        // The vsyscall page does not fit an Int: skipped, not a trap (the agent crashed on it once).
        #expect(mappings.count == 8)
        #expect(mappings[1].start == 0x5571_1665_7000 && mappings[1].end == 0x5571_1725_5000)
        #expect(mappings[1].permissions == Array("r-xp".utf8))
        #expect(mappings[1].inode == 5_539_470 && mappings[1].rssKB == 5692 && mappings[1].anonymousKB == 0)
        #expect(mappings[2].anonymousKB == 528)
    }

    @Test func releasesOnlyCleanReadOnlyFileMappings() {
        let mappings = SmapsReader.mappings(Array(Self.smaps.utf8))
        let releasable = mappings.filter(\.isReleasable).map(\.start)
        // The binary's read-only data and code, and libc's code; not the relocated RELRO data (its pages
        // were written), not writable data, the heap, an empty guard mapping or the vDSO.
        #expect(releasable == [0x5571_1632_1000, 0x5571_1665_7000, 0x7f5d_e1c4_4000])
    }

    @Test func theProcessKeepsWorkingAfterItsPagesAreDropped() throws {
        let released = StartupPages.release()
        // Something was mapped (this test's own code at least), and everything still runs: the
        // dropped pages fault back in from the page cache.
        #expect(released > 0)
        let text = (0..<1000).map { "\($0)" }.joined(separator: ",")
        #expect(text.split(separator: ",").count == 1000)
    }

    /// After readiness the pages are released again at each of `settleTimes`: soon after the first scrapes
    /// and exports (so the peak RSS never holds their set-up and start-up's pages together), and later.
    @Test func releasesAgainAtEachSettleTime() async throws {
        #expect(StartupPages.settleTimes.count >= 2 && StartupPages.settleTimes == StartupPages.settleTimes.sorted())
        let sink = try await HTTPSink.start()
        try await withAgent(testConfiguration(sinkPort: sink.port)) { agent, _ in
            #expect(
                await eventually {
                    agent.startupPageReleases.load(ordering: .relaxed) == 1 + StartupPages.settleTimes.count
                })
        }
        try await sink.shutdown()
    }

    /// The releases after readiness wait their `settleTimes`, but never hold up a shutdown that begins
    /// before: the agent stops without them.
    @Test func aShutdownRightAfterReadinessSkipsTheSecondRelease() async throws {
        let sink = try await HTTPSink.start()
        var stopped: Agent?
        try await withAgent(testConfiguration(sinkPort: sink.port)) { agent, _ in
            #expect(await eventually { agent.startupPageReleases.load(ordering: .relaxed) == 1 })
            stopped = agent
        }
        #expect(stopped?.startupPageReleases.load(ordering: .relaxed) == 1)
        try await sink.shutdown()
    }
}
