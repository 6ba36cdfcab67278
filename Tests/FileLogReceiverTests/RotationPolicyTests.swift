import Testing

@testable import FileLogReceiver

/// The tailer's rotation and copy-truncate rules as values: no file, no tailer.
@Suite struct RotationPolicyTests {
    /// A fingerprint check that must not run (its read would be wasted).
    static func unread() -> Bool {
        Issue.record("the first bytes were read although the rule did not need them")
        return true
    }

    /// The two truncation rules: before a read, and at a poll.
    enum Rule: Sendable {
        case beforeRead, atPoll

        /// `firstBytesMatch` nil: the rule must decide without reading them.
        func truncation(
            size: Int64, readOffset: Int64, fingerprintLength: Int, firstBytesMatch: Bool?
        )
            -> RotationPolicy.Truncation?
        {
            switch self {
            case .beforeRead:
                RotationPolicy.truncationBeforeRead(
                    size: size, readOffset: readOffset, fingerprintLength: fingerprintLength,
                    firstBytesMatch: firstBytesMatch ?? RotationPolicyTests.unread())
            case .atPoll:
                RotationPolicy.truncationAtPoll(
                    size: size, readOffset: readOffset, fingerprintLength: fingerprintLength,
                    firstBytesMatch: firstBytesMatch ?? RotationPolicyTests.unread())
            }
        }
    }

    @Test(
        arguments: [
            // before a read: a shorter file is truncated (its first bytes unread), one that grew is checked
            (Rule.beforeRead, 10, 20, 16, nil, .sizeBelowOffset),
            (.beforeRead, 30, 20, 16, false, .fingerprintChanged),
            (.beforeRead, 30, 20, 16, true, nil),
            // ... nothing new, nothing read yet, or no fingerprint: no read of the first bytes
            (.beforeRead, 20, 20, 16, nil, nil),
            (.beforeRead, 30, 0, 16, nil, nil),
            (.beforeRead, 30, 20, 0, nil, nil),
            // at a poll: changed first bytes mean a truncation
            (.atPoll, 16, 16, 16, false, .fingerprintChanged),
            (.atPoll, 16, 16, 16, true, nil),
            // ... shorter than the fingerprint (the read's size check catches it), nothing read yet, no fingerprint
            (.atPoll, 15, 15, 16, nil, nil),
            (.atPoll, 40, 0, 16, nil, nil),
            (.atPoll, 40, 20, 0, nil, nil),
        ] as [(Rule, Int64, Int64, Int, Bool?, RotationPolicy.Truncation?)])
    func truncation(
        rule: Rule, size: Int64, readOffset: Int64, fingerprintLength: Int, firstBytesMatch: Bool?,
        expected: RotationPolicy.Truncation?
    ) {
        #expect(
            rule.truncation(
                size: size, readOffset: readOffset, fingerprintLength: fingerprintLength,
                firstBytesMatch: firstBytesMatch) == expected)
    }

    @Test func aShortFingerprintGrowsWithTheFileUpToItsSize() {
        #expect(RotationPolicy.shouldExtendFingerprint(fingerprintLength: 10, fingerprintSize: 1024, size: 11))
        #expect(!RotationPolicy.shouldExtendFingerprint(fingerprintLength: 10, fingerprintSize: 1024, size: 10))
        #expect(!RotationPolicy.shouldExtendFingerprint(fingerprintLength: 1024, fingerprintSize: 1024, size: 4096))
        #expect(!RotationPolicy.shouldExtendFingerprint(fingerprintLength: 0, fingerprintSize: 1024, size: 4096))
    }

    @Test func aFileStartsAtItsCheckpointWhenItIsTheSameFile() {
        let resumed = RotationPolicy.startOffset(
            size: 100, checkpointOffset: 40, checkpointMatches: true, start: .checkpointOnly, startAtBeginning: false)
        #expect(resumed?.offset == 40 && resumed?.fromCheckpoint == true)
        // a checkpoint past the end is another file's: no read of its first bytes
        let past = RotationPolicy.startOffset(
            size: 30, checkpointOffset: 40, checkpointMatches: Self.unread(), start: .checkpointOrBeginning,
            startAtBeginning: false)
        #expect(past?.offset == 0 && past?.fromCheckpoint == false)
    }

    @Test(arguments: [
        (RotationPolicy.Start.checkpointOrStartAt, false, Int64(100) as Int64?),
        (.checkpointOrStartAt, true, 0),
        (.checkpointOrBeginning, false, 0),
        (.checkpointOnly, true, nil),
    ])
    func withoutACheckpointTheStartDecides(start: RotationPolicy.Start, startAtBeginning: Bool, offset: Int64?) {
        for checkpoint in [nil, 40] as [Int64?] {
            let decided = RotationPolicy.startOffset(
                size: 100, checkpointOffset: checkpoint, checkpointMatches: false, start: start,
                startAtBeginning: startAtBeginning)
            #expect(decided?.offset == offset)
            #expect(decided?.fromCheckpoint != true)
        }
    }

    @Test func aPollFlushesAHalfLineOnceTheFileStoppedGrowingOrWasRotated() {
        let second = Duration.seconds(1)
        func atPoll(
            atEnd: Bool = true, waiting: Bool = true, matched: Bool = true, idle: Int = 1, since: Duration
        )
            -> RotationPolicy.AtPoll
        {
            RotationPolicy.atPoll(
                atEnd: atEnd, waiting: waiting, matched: matched, idlePolls: idle, sinceGrowth: since,
                flushAfter: second)
        }
        #expect(atPoll(since: .milliseconds(999)) == .init(flushTail: false, letGo: false))
        #expect(atPoll(since: second) == .init(flushTail: true, letGo: false))
        #expect(atPoll(matched: false, since: .zero) == .init(flushTail: true, letGo: false))
        #expect(atPoll(atEnd: false, since: second) == .init(flushTail: false, letGo: false))
        #expect(atPoll(waiting: false, since: second) == .init(flushTail: false, letGo: false))
    }

    @Test func aRotatedFileIsLetGoAfterTwoIdlePollsAtItsEnd() {
        func letGo(atEnd: Bool, matched: Bool, idle: Int) -> Bool {
            RotationPolicy.atPoll(
                atEnd: atEnd, waiting: false, matched: matched, idlePolls: idle, sinceGrowth: .zero,
                flushAfter: .seconds(1)
            ).letGo
        }
        #expect(letGo(atEnd: true, matched: false, idle: 2))
        #expect(!letGo(atEnd: true, matched: false, idle: 1))
        #expect(!letGo(atEnd: false, matched: false, idle: 5))
        #expect(!letGo(atEnd: true, matched: true, idle: 5))
    }

    @Test func generationsAreNamedAfterTheTailedFile() {
        #expect(RotationPolicy.isGenerationName("0.log.1", of: "0.log"))
        #expect(RotationPolicy.isGenerationName("0.log.20261203-130000", of: "0.log"))
        #expect(!RotationPolicy.isGenerationName("0.log.20261203-130000.gz", of: "0.log"))
        #expect(!RotationPolicy.isGenerationName("0.log", of: "0.log"))
        #expect(!RotationPolicy.isGenerationName("1.log.1", of: "0.log"))
    }

    @Test func aMissedGenerationIsNewUnseenAndNotReadWhole() {
        func missed(open: Bool = false, found: Bool = false, modified: Int = 10, finished: Bool = false) -> Bool {
            RotationPolicy.isMissedGeneration(
                isOpen: open, wasFound: found, modified: modified, predecessorWrittenUntil: 10, wasFinished: finished)
        }
        #expect(missed())
        #expect(!missed(open: true))
        #expect(!missed(found: true))
        #expect(!missed(modified: 9))  // older than the file it would follow
        #expect(!missed(finished: true))
    }

    @Test func afterATruncationTheMatchingCopyIsReadThenNewerOnesOldestFirst() {
        typealias Copy = RotationPolicy.CopyCandidate<String>
        let candidates = [
            Copy(id: "older", modified: 1, size: 500, fingerprintMatches: false),
            Copy(id: "newest", modified: 9, size: 500, fingerprintMatches: false),
            Copy(id: "match", modified: 5, size: 500, fingerprintMatches: true),
            Copy(id: "same-tick", modified: 5, size: 10, fingerprintMatches: false),
            Copy(id: "newer", modified: 7, size: 500, fingerprintMatches: false),
            Copy(id: "old-match", modified: 2, size: 500, fingerprintMatches: true),
        ]
        #expect(
            RotationPolicy.copiesToRead(candidates, readOffset: 100) == ["match", "same-tick", "newer", "newest"])
    }

    @Test func aCopyShorterThanWhatWasReadIsNotTheCopy() {
        typealias Copy = RotationPolicy.CopyCandidate<Int>
        let short = [Copy(id: 1, modified: 5, size: 99, fingerprintMatches: true)]
        #expect(RotationPolicy.copiesToRead(short, readOffset: 100) == [])
        #expect(RotationPolicy.copiesToRead([Copy](), readOffset: 0) == [])
    }
}
