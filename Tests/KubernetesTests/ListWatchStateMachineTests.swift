import Kubernetes
import Testing

/// The list/watch policy as a pure value: no sockets, no clock but instants the test makes.
@Suite struct ListWatchStateMachineTests {
    let t0 = ContinuousClock.now

    @Test func listThenWatchFromTheListAndEveryEventMovesTheResourceVersion() {
        var machine = ListWatchStateMachine()
        #expect(machine.step == .list)
        machine.observed(resourceVersion: "5")  // nothing to resume before a list
        #expect(machine.step == .list)
        machine.listed(resourceVersion: "100")
        #expect(machine.step == .watch(resourceVersion: "100"))
        machine.observed(resourceVersion: "120")  // an event, or a BOOKMARK
        #expect(machine.step == .watch(resourceVersion: "120"))
        machine.observed(resourceVersion: "")
        #expect(machine.resourceVersion == "120")
    }

    @Test func aDroppedWatchResumesFromTheLastResourceVersionAfterABackOff() {
        var machine = ListWatchStateMachine()
        machine.listed(resourceVersion: "100")
        machine.observed(resourceVersion: "130")
        let wait = machine.failed(.other(retryAfter: nil), at: t0, jitter: 0)
        #expect(machine.step == .watch(resourceVersion: "130"))
        #expect(wait == .milliseconds(400))
    }

    @Test func goneRelistsAtOnceTheFirstTimeThenBacksOff() {
        var machine = ListWatchStateMachine()
        machine.listed(resourceVersion: "100")
        #expect(machine.failed(.gone, at: t0, jitter: 0.5) == .zero)
        #expect(machine.step == .list)
        machine.listed(resourceVersion: "200")
        // Gone again soon after: not a tight loop of re-lists.
        #expect(machine.failed(.gone, at: t0 + .seconds(1), jitter: 1) == .milliseconds(1600))
        #expect(machine.step == .list)
    }

    @Test func backOffDoublesWithJitterUpToTheCapAndStartsOverAfterAQuietPeriod() {
        var machine = ListWatchStateMachine()
        var waits: [Duration] = []
        for k in 0..<8 {
            waits.append(machine.failed(.other(retryAfter: nil), at: t0 + .seconds(k), jitter: 0.999_999))
        }
        let full: [Duration] = [
            .milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400),
            .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30),
        ]
        for (wait, bound) in zip(waits, full) {
            #expect(wait <= bound && wait >= bound * 0.999)
        }
        #expect(machine.failed(.other(retryAfter: nil), at: t0 + .seconds(8), jitter: 0) == .seconds(15))
        // Two minutes without a failure: back to the first step.
        #expect(machine.failed(.other(retryAfter: nil), at: t0 + .seconds(200), jitter: 0) == .milliseconds(400))
    }

    @Test func retryAfterIsALowerBoundUpToItsCap() {
        var machine = ListWatchStateMachine()
        #expect(machine.failed(.other(retryAfter: .seconds(7)), at: t0, jitter: 0) == .seconds(7))
        #expect(machine.step == .list)
        #expect(machine.failed(.other(retryAfter: .seconds(3600)), at: t0 + .seconds(1), jitter: 0) == .seconds(300))
        // A Retry-After shorter than the back-off does not shorten it.
        var other = ListWatchStateMachine()
        for k in 0..<5 { _ = other.failed(.other(retryAfter: nil), at: t0 + .seconds(k), jitter: 0) }
        #expect(other.failed(.other(retryAfter: .seconds(1)), at: t0 + .seconds(5), jitter: 0) == .milliseconds(12800))
    }

    @Test func errorsAreClassified() {
        #expect(ListWatchStateMachine.Failure(KubernetesError.gone(KubernetesStatus(code: 410))) == .gone)
        #expect(ListWatchStateMachine.Failure(KubernetesError.failed(KubernetesStatus(code: 504))) == .gone)
        #expect(
            ListWatchStateMachine.Failure(KubernetesError.failed(KubernetesStatus(code: 429, retryAfter: .seconds(2))))
                == .other(retryAfter: .seconds(2)))
        #expect(ListWatchStateMachine.Failure(CancellationError()) == .other(retryAfter: nil))
    }
}
