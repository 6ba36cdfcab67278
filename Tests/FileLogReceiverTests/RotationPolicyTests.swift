import Testing

@testable import FileLogReceiver

/// The tailer's rules about a tailed file's neighbours (rotated generations, copies) as values: no file,
/// no tailer. The tailed file's own rules are `TailedFileStateTests`'.
@Suite struct RotationPolicyTests {
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
