import Testing

@testable import FileLogReceiver

/// The kubelet writes a container's stdout and stderr partial lines independently, into one file:
/// a CRI `P` fragment of one stream may be followed by lines of the other before its `F`. Joining is
/// per stream (issue 16, point 2).
@Suite struct InterleavedStreamTests {
    @Test func criPartialsOfTwoStreamsJoinApart() {
        let (records, _) = decode(
            [
                "2026-08-12T09:00:01.000000001Z stdout P out-1 ",
                "2026-08-12T09:00:01.000000002Z stderr F err-whole",
                "2026-08-12T09:00:01.000000003Z stderr P err-1 ",
                "2026-08-12T09:00:01.000000004Z stdout P out-2 ",
                "2026-08-12T09:00:01.000000005Z stdout F out-3",
                "2026-08-12T09:00:01.000000006Z stderr F err-2",
            ], format: .cri)
        #expect(records.map(\.text) == ["err-whole", "out-1 out-2 out-3", "err-1 err-2"])
        #expect(records.map(\.stream) == [.stderr, .stdout, .stderr])
        // a joined record keeps the time of its first fragment
        #expect(
            records.map(\.time) == [1_786_525_201_000_000_002, 1_786_525_201_000_000_001, 1_786_525_201_000_000_003])
        #expect(records.allSatisfy { !$0.truncated })
    }

    @Test func dockerSplitsOfTwoStreamsJoinApart() {
        let (records, _) = decode(
            [
                #"{"log":"out-1 ","stream":"stdout","time":"2026-08-12T09:00:01.000000001Z"}"#,
                #"{"log":"err-whole\n","stream":"stderr","time":"2026-08-12T09:00:01.000000002Z"}"#,
                #"{"log":"out-2\n","stream":"stdout","time":"2026-08-12T09:00:01.000000003Z"}"#,
            ], format: .docker)
        #expect(records.map(\.text) == ["err-whole", "out-1 out-2"])
        #expect(records.map(\.stream) == [.stderr, .stdout])
    }

    /// `max_log_size` caps each stream's record on its own: a long stdout record is cut and flagged, the
    /// stderr record between its fragments is whole.
    @Test func maxLogSizeCapsEachStream() {
        let (records, _) = decode(
            [
                "2026-08-12T09:00:01Z stdout P 0123456789",
                "2026-08-12T09:00:01Z stderr P ab",
                "2026-08-12T09:00:01Z stdout F 0123456789",
                "2026-08-12T09:00:01Z stderr F cd",
            ], format: .cri, maxLogSize: 12)
        #expect(records.map(\.text) == ["012345678901", "abcd"])
        #expect(records.map(\.truncated) == [true, false])
        #expect(records.map(\.originalSize) == [20, 4])
    }

    /// The checkpoint never passes the start of a record still being joined, in either stream; a flush
    /// (file rotated away) emits both half-joined records, earliest first.
    @Test func pendingStartIsTheEarliestOpenRecord() {
        var decoder = LineDecoder(format: .cri, maxLogSize: 1 << 20)
        var out: [String] = []
        func feed(_ line: String, at offset: Int64) {
            Array(line.utf8).withUnsafeBytes { bytes in
                decoder.decode(bytes, startOffset: offset) { out.append(String(decoding: $0.content, as: UTF8.self)) }
            }
        }
        feed("2026-08-12T09:00:01Z stdout P a", at: 0)
        #expect(decoder.pendingStart == 0)
        feed("2026-08-12T09:00:01Z stderr P b", at: 100)
        #expect(decoder.pendingStart == 0)
        feed("2026-08-12T09:00:01Z stdout F c", at: 200)
        #expect(out == ["ac"])
        #expect(decoder.pendingStart == 100)
        feed("2026-08-12T09:00:01Z stdout P d", at: 300)
        #expect(decoder.pendingStart == 100)
        decoder.flush { out.append(String(decoding: $0.content, as: UTF8.self)) }
        #expect(out == ["ac", "b", "d"])
        #expect(decoder.pendingStart == nil)
    }
}
