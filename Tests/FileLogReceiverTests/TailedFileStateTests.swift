import Testing

@testable import FileLogReceiver

/// A tailed file's rules as values: no file, no tailer. A file is bytes in memory; the machine asks for
/// its first bytes as the tailer would read them, and a test sees how often it asked.
@Suite struct TailedFileStateTests {
    static let key = FileKey(device: 1, inode: 42)
    static let policy = TailedFileState.Policy(fingerprintSize: 16, flushAfter: .seconds(1), startAtBeginning: true)
    let t0 = ContinuousClock.now

    /// A file's bytes; `firstBytes` is the tailer's read of its first bytes, counted.
    final class File {
        var bytes: [UInt8]
        private(set) var firstByteReads = 0

        init(_ text: String) { bytes = Array(text.utf8) }

        var size: Int64 { Int64(bytes.count) }

        func firstBytes(_ length: Int) -> Fingerprint {
            firstByteReads += 1
            return Self.fingerprint(bytes[0..<min(length, bytes.count)])
        }

        static func fingerprint(_ bytes: ArraySlice<UInt8>) -> Fingerprint {
            bytes.withUnsafeBytes { Fingerprint.of($0) }
        }

        static func fingerprint(_ text: String) -> Fingerprint { fingerprint(ArraySlice(text.utf8)) }

        func append(_ text: String) { bytes += Array(text.utf8) }
    }

    func opened(
        _ file: File, start: TailedFileState.Start = .checkpointOrBeginning, matched: Bool = true,
        checkpoint: (offset: Int64, fingerprint: Fingerprint)? = nil, policy: TailedFileState.Policy = Self.policy
    ) -> TailedFileState? {
        TailedFileState(
            opening: Self.key, size: file.size, checkpoint: checkpoint, start: start, matched: matched, policy: policy,
            now: t0, firstBytes: file.firstBytes)
    }

    /// What the tailer does when `beforeRead` says `.read`: reads to the end of `from` (the file, or its
    /// copy), the bytes handed to `didRead` as read.
    @discardableResult
    func read(
        _ state: inout TailedFileState, _ from: File, fromCopy: Bool = false, at now: Duration = .zero
    )
        -> Bool
    {
        let start = Int(state.readOffset)
        let count = from.bytes.count - start
        return state.didRead(
            count, fromCopy: fromCopy, now: t0 + now,
            firstBytes: { File.fingerprint(from.bytes[start..<start + $0]) })
    }

    /// A state that opened `file` at its beginning and read it whole.
    func readWhole(_ file: File) throws -> TailedFileState {
        var state = try #require(opened(file))
        read(&state, file)
        return state
    }

    /// Nothing to do at a poll but go on tailing.
    static let tailOn = TailedFileState.PollAction.tail(fingerprintGrew: false, flushTail: false, letGo: false)

    func poll(
        _ state: inout TailedFileState, _ file: File, waiting: Bool = false, at now: Duration = .zero
    )
        -> TailedFileState.PollAction
    {
        state.atPoll(size: file.size, waiting: waiting, now: t0 + now, firstBytes: file.firstBytes)
    }

    static let line = "2026-12-03T13:00:00Z stdout F line\n"  // 35 bytes: longer than the fingerprint

    // MARK: opening

    @Test func aFileStartsAtItsCheckpointWhenItIsTheSameFile() throws {
        let file = File(String(repeating: Self.line, count: 3))
        let longer = File.fingerprint(file.bytes[0..<32])
        let state = try #require(opened(file, start: .checkpointOnly, checkpoint: (40, longer)))
        #expect(state.readOffset == 40)
        #expect(state.fingerprint == longer, "the longer of the checkpoint's and the file's fingerprint")
        #expect(state.matched && state.idlePolls == 0 && state.lastGrowth == t0)
    }

    @Test func aCheckpointOfAnotherFileIsNotUsed() throws {
        let file = File(Self.line)
        let ownFingerprint = File.fingerprint(file.bytes[0..<16])
        // past the end: another file's, its first bytes are not even compared
        let past = try #require(opened(file, checkpoint: (100, ownFingerprint)))
        #expect(past.readOffset == 0 && past.fingerprint == ownFingerprint)
        #expect(file.firstByteReads == 1, "only the fingerprint of the file itself was read")
        // other first bytes: another file that reuses the inode
        let other = try #require(opened(file, checkpoint: (10, File.fingerprint("something else"))))
        #expect(other.readOffset == 0)
        #expect(opened(file, start: .checkpointOnly, checkpoint: (10, File.fingerprint("something else"))) == nil)
    }

    @Test(arguments: [
        (TailedFileState.Start.checkpointOrStartAt, false, Int64(35) as Int64?),
        (.checkpointOrStartAt, true, 0),
        (.checkpointOrBeginning, false, 0),
        (.checkpointOnly, true, nil),
    ])
    func withoutACheckpointTheStartDecides(start: TailedFileState.Start, startAtBeginning: Bool, offset: Int64?) {
        var policy = Self.policy
        policy.startAtBeginning = startAtBeginning
        #expect(opened(File(Self.line), start: start, policy: policy)?.readOffset == offset)
    }

    @Test func aFileOfTheRotatedGenerationIsOpenedUnmatched() throws {
        var state = try #require(opened(File(Self.line), matched: false))
        #expect(!state.matched)
        let rotatedAway = state.found(atPath: false)
        #expect(!rotatedAway, "it was never at the path: no generations to look for")
    }

    // MARK: reading

    @Test func onlyNewBytesAreReadAndTheFirstBytesAreComparedWhenTheFileGrew() throws {
        let file = File(Self.line)
        var state = try #require(opened(file))
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .read)
        read(&state, file, at: .milliseconds(10))
        #expect(state.readOffset == 35 && state.lastGrowth == t0 + .milliseconds(10))
        let reads = file.firstByteReads
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .none)
        #expect(file.firstByteReads == reads, "nothing new: no read of the first bytes")
        file.append(Self.line)
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .read)
        #expect(file.firstByteReads == reads + 1)
    }

    @Test func theFirstReadOfAShortFileTakesItsFingerprint() throws {
        let file = File("")
        var state = try #require(opened(file))
        #expect(state.fingerprint == .empty)
        file.append("short\n")
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .read)
        #expect(read(&state, file), "the ledger is told")
        #expect(state.fingerprint == File.fingerprint("short\n"))
        file.append(Self.line)
        #expect(!read(&state, file), "not the first bytes")
        #expect(state.fingerprint.length == 6)
    }

    @Test func aCopyIsNotTheFile() throws {
        let file = File("")
        var state = try #require(opened(file))
        #expect(!read(&state, File(Self.line), fromCopy: true))
        #expect(state.fingerprint == .empty && state.readOffset == 35)
    }

    @Test func aFullFingerprintIsKept() throws {
        let file = File(Self.line)
        var state = try #require(opened(file))
        let fingerprint = state.fingerprint
        #expect(fingerprint.length == 16)
        #expect(!read(&state, file))
        #expect(state.fingerprint == fingerprint)
    }

    @Test func aShorterFileWasTruncatedAndItsFirstBytesAreNotRead() throws {
        let file = File(Self.line)
        let state = try readWhole(file)
        file.bytes = Array("new\n".utf8)
        let reads = file.firstByteReads
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .truncated(.sizeBelowOffset))
        #expect(file.firstByteReads == reads)
    }

    @Test func aFileRewrittenPastTheOffsetWasTruncated() throws {
        let file = File(Self.line)
        let state = try readWhole(file)
        file.bytes = Array(String(repeating: "2026-12-04T13:00:01Z stderr F other\n", count: 2).utf8)
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .truncated(.fingerprintChanged))
    }

    @Test func aFailedExportRewindsToTheCheckpoint() throws {
        let file = File(Self.line + Self.line)
        var state = try readWhole(file)
        state.rewind(to: 35)
        #expect(state.readOffset == 35)
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .read)
    }

    // MARK: polls

    @Test func atAPollChangedFirstBytesMeanATruncation() throws {
        let file = File(Self.line)
        var state = try readWhole(file)
        #expect(poll(&state, file) == Self.tailOn)
        // rewritten, shorter: the poll tells by the first bytes
        file.bytes = Array("2026-12-04T13:00:01Z stderr F x\n".utf8)
        #expect(poll(&state, file) == .truncated(.fingerprintChanged))
    }

    @Test func aPollReadsNoFirstBytesWhenTheRuleCannotUseThem() throws {
        // shorter than the fingerprint (the read's size check catches it)
        let file = File(Self.line)
        var state = try readWhole(file)
        file.bytes = Array("2026-12-03\n".utf8)
        var reads = file.firstByteReads
        #expect(poll(&state, file) == Self.tailOn)
        #expect(file.firstByteReads == reads)
        // nothing read yet
        let unread = File(Self.line + Self.line)
        var fresh = try #require(opened(unread))
        reads = unread.firstByteReads
        #expect(poll(&fresh, unread) == Self.tailOn)
        #expect(unread.firstByteReads == reads)
    }

    @Test func aShortFingerprintGrowsWithTheFileWhileItsPrefixMatches() throws {
        let file = File("short\n")
        var state = try readWhole(file)
        #expect(poll(&state, file) == Self.tailOn)
        file.append(Self.line)
        #expect(poll(&state, file) == .tail(fingerprintGrew: true, flushTail: false, letGo: false))
        #expect(state.fingerprint == File.fingerprint(file.bytes[0..<16]))
        // full now: no more reads for it
        let reads = file.firstByteReads
        file.append(Self.line)
        _ = poll(&state, file)
        #expect(file.firstByteReads == reads + 1, "only the truncation check")
    }

    @Test func aRewrittenFileKeepsItsShortFingerprint() throws {
        let file = File("short\n")
        var state = try #require(opened(file))  // nothing read yet: no truncation check
        file.bytes = Array(Self.line.utf8)
        #expect(poll(&state, file) == Self.tailOn)
        #expect(state.fingerprint == File.fingerprint("short\n"))
    }

    @Test func aHalfLineIsFlushedOnceTheFileStoppedGrowing() throws {
        let file = File("2026-12-03T13:00:00Z stdout F no newline")
        var state = try readWhole(file)
        let waiting = Self.tailOn
        let flush = TailedFileState.PollAction.tail(fingerprintGrew: false, flushTail: true, letGo: false)
        #expect(poll(&state, file, waiting: true, at: .milliseconds(999)) == waiting)
        #expect(poll(&state, file, waiting: true, at: .seconds(1)) == flush)
        #expect(poll(&state, file, waiting: false, at: .seconds(5)) == waiting, "nothing buffered")
        file.append(Self.line)
        #expect(poll(&state, file, waiting: true, at: .seconds(5)) == waiting, "more to read first")
    }

    // MARK: rotation

    @Test func aRotatedFileIsReadToItsEndFlushedAndLetGoAfterTwoIdlePolls() throws {
        let file = File(Self.line)
        var state = try readWhole(file)
        file.append(Self.line + "2026-12-03T13:00:00Z stdout F half")  // written before the rename
        let renamed = state.found(atPath: false)
        #expect(renamed, "renamed away: look for generations rotated away unseen")
        let again = state.found(atPath: false)
        #expect(!again, "once")
        #expect(poll(&state, file, waiting: false) == Self.tailOn)
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .read)
        read(&state, file)
        // read to its end: its half line goes out at once, and it is let go at the second idle poll
        #expect(poll(&state, file, waiting: true) == .tail(fingerprintGrew: false, flushTail: true, letGo: false))
        #expect(state.idlePolls == 1)
        #expect(poll(&state, file) == .tail(fingerprintGrew: false, flushTail: false, letGo: true))
    }

    @Test func growthAndBeingFoundAgainKeepAFileOpen() throws {
        let file = File(Self.line)
        var state = try readWhole(file)
        _ = state.found(atPath: false)
        #expect(poll(&state, file) == Self.tailOn)
        file.append(Self.line)  // the writer still had it open
        _ = poll(&state, file)
        #expect(state.idlePolls == 0)
        read(&state, file)
        #expect(poll(&state, file) == Self.tailOn)
        let rotatedAway = state.found(atPath: true)
        #expect(!rotatedAway && state.matched, "found at its path again (renamed back)")
        for _ in 0..<3 {
            #expect(poll(&state, file) == Self.tailOn)
        }
    }

    /// Copy-truncate, as `RotationTests` drives it: the tailer fell behind, the file was copied and
    /// truncated twice. The tail it missed is read from the first copy (from where it was), the second
    /// copy whole, then the file again from its start with a new fingerprint.
    @Test func copyTruncateReadsTheCopiesThenTheFileFromItsStart() throws {
        let file = File(Self.line + Self.line)
        var state = try readWhole(file)
        file.append(Self.line)  // the unread tail
        let first = File(String(decoding: file.bytes, as: UTF8.self))
        file.bytes = Array("2026-12-03T13:00:02Z stdout F generation 2\n".utf8)
        let second = File(String(decoding: file.bytes, as: UTF8.self))
        file.bytes = Array("2026-12-03T13:00:03Z stdout F\n".utf8)
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .truncated(.sizeBelowOffset))
        // the copies (chosen by `RotationPolicy.copiesToRead`) are read; the first from the offset
        #expect(state.readOffset == 70)
        #expect(!read(&state, first, fromCopy: true))
        #expect(state.readOffset == 105)
        state.rewind(to: 0)
        #expect(!read(&state, second, fromCopy: true))
        #expect(state.fingerprint == File.fingerprint(first.bytes[0..<16]), "a copy's bytes are not the file's")
        #expect(state.restarted(firstBytes: file.firstBytes) == File.fingerprint(file.bytes[0..<16]))
        #expect(state.readOffset == 0)
        #expect(state.beforeRead(size: file.size, firstBytes: file.firstBytes) == .read)
        read(&state, file)
        #expect(state.readOffset == file.size)
        #expect(poll(&state, file) == Self.tailOn)
    }

    /// Truncated and rewritten past the offset before a read: the poll sees the first bytes changed.
    @Test func aTruncationFoundAtAPollRestartsTheFile() throws {
        let file = File(Self.line)
        var state = try readWhole(file)
        file.bytes = Array(String(repeating: "2026-12-04T13:00:01Z stderr F other\n", count: 3).utf8)
        #expect(poll(&state, file) == .truncated(.fingerprintChanged))
        _ = state.restarted(firstBytes: file.firstBytes)
        #expect(state.readOffset == 0 && state.fingerprint == File.fingerprint(file.bytes[0..<16]))
        #expect(poll(&state, file) == Self.tailOn)
    }
}
