import Kubernetes
import OTLPJSON
import Testing

/// Leader election decisions as pure values, on instants the test makes.
@Suite struct LeaseElectionStateMachineTests {
    let t0 = ContinuousClock.now

    /// The record of a Lease held by `holder` at resourceVersion `rv`.
    func record(_ holder: String, rv: String, duration: Int = 15) -> LeaseRecord {
        LeaseRecord(
            lease: .object([
                "metadata": .object(["resourceVersion": .string(rv)]),
                "spec": .object([
                    "holderIdentity": .string(holder), "leaseDurationSeconds": .number(Double(duration)),
                    "renewTime": .string("t\(rv)"),
                ]),
            ]))
    }

    @Test func noLeaseCreatesOneAndAnAcceptedWriteLeadsUntilTheRenewDeadline() {
        var machine = LeaseElectionStateMachine(identity: "pod-a")
        #expect(machine.observe(nil, at: t0) == .create)
        #expect(!machine.isLeading(at: t0))
        machine.wrote(at: t0)
        #expect(machine.isLeading(at: t0 + .seconds(9)))
        #expect(machine.observe(record("pod-a", rv: "1"), at: t0 + .seconds(2)) == .renew)
        // Renewals keep failing: leading ends at the renew deadline, before the 15 s lease runs out.
        machine.writeFailed(at: t0 + .seconds(4))
        #expect(machine.isLeading(at: t0 + .seconds(9)))
        machine.writeFailed(at: t0 + .seconds(10))
        #expect(!machine.isLeading(at: t0 + .seconds(10)))
    }

    @Test func anotherHoldersLiveLeaseIsFollowedUntilItStopsChangingForALeaseDuration() {
        var machine = LeaseElectionStateMachine(identity: "pod-b")
        #expect(machine.observe(record("pod-a", rv: "1"), at: t0) == .follow(holder: "pod-a"))
        // pod-a renews: the record changes, the 15 s start again by our clock.
        #expect(machine.observe(record("pod-a", rv: "2"), at: t0 + .seconds(10)) == .follow(holder: "pod-a"))
        #expect(machine.observe(record("pod-a", rv: "2"), at: t0 + .seconds(24)) == .follow(holder: "pod-a"))
        // pod-a died: no change for a whole lease duration.
        #expect(machine.observe(record("pod-a", rv: "2"), at: t0 + .seconds(25)) == .acquire)
        machine.wrote(at: t0 + .seconds(25))
        #expect(machine.isLeading(at: t0 + .seconds(26)))
    }

    @Test func aReleasedLeaseIsFreeAtOnceAndAConflictLeavesUsCandidate() {
        var machine = LeaseElectionStateMachine(identity: "pod-b")
        #expect(machine.observe(record("", rv: "7", duration: 1), at: t0) == .acquire)
        machine.writeFailed(at: t0)  // 409: pod-c won
        #expect(!machine.isLeading(at: t0))
        #expect(machine.observe(record("pod-c", rv: "8"), at: t0 + .seconds(2)) == .follow(holder: "pod-c"))
    }

    @Test func aLeaseTakenOverEndsOurLeadershipAtOnce() {
        var machine = LeaseElectionStateMachine(identity: "pod-a")
        #expect(machine.observe(record("pod-a", rv: "1"), at: t0) == .renew)
        machine.wrote(at: t0)
        #expect(machine.observe(record("pod-b", rv: "5"), at: t0 + .seconds(2)) == .follow(holder: "pod-b"))
        #expect(!machine.isLeading(at: t0 + .seconds(2)))
    }

    @Test func timingValidationAndTheRecordOfARealLease() throws {
        #expect(LeaseElectionStateMachine.Timing().isValid)
        #expect(!LeaseElectionStateMachine.Timing(leaseDuration: .seconds(10), renewDeadline: .seconds(10)).isValid)
        #expect(!LeaseElectionStateMachine.Timing(renewDeadline: .seconds(2), retryPeriod: .seconds(2)).isValid)
        let lease = LeaseRecord(lease: try Fixtures.json("coordination/lease-source-controller.json"))
        #expect(lease.leaseDurationSeconds == 35)
        #expect(lease.holder.hasPrefix("source-controller-"))
        #expect(!lease.resourceVersion.isEmpty && !lease.renewTime.isEmpty)
    }
}
