import Processors
import Testing

@Suite struct GoDurationTests {
    @Test func parsesGoDurationStrings() {
        let cases: [(String, UInt64?)] = [
            ("1.834512907s", 1_834_512_907), ("16.803347112s", 16_803_347_112), ("2m3.5s", 123_500_000_000),
            ("1h0m0s", 3_600_000_000_000), ("150ms", 150_000_000), ("12µs", 12_000), ("7ns", 7), ("0", 0),
            ("", nil), ("s", nil), ("1.5", nil), ("1d", nil), ("-1s", nil),
        ]
        for (text, nanos) in cases { #expect(GoDuration.parse(Array(text.utf8)) == nanos, "\(text)") }
    }

    @Test func reconcileDurationFromKustomizeControllersMessage() {
        let message = Array("Reconciliation finished in 1.834512907s, next run in 10m0s".utf8)
        #expect(GoDuration.reconcileDuration(message: message) == 1_834_512_907)
        #expect(
            GoDuration.reconcileDuration(message: Array("Reconciliation failed after 1.16s, next try in 2m0s".utf8))
                == nil)
    }

    /// helm-controller before v0.37 ended a reconcile with its own line, lowercase, and before v0.36 with a
    /// typo (fluxcd/helm-controller `controllers/helmrelease_controller.go`); the fixture's legacy shape
    /// (`flux-logs.jsonl` line 90: `"logger":"controller.helmrelease"`, `reconciler kind`).
    @Test func reconcileDurationFromHelmControllersMessage() {
        #expect(
            GoDuration.reconcileDuration(message: Array("reconciliation finished in 1m2.5s, next run in 5m0s".utf8))
                == 62_500_000_000)
        #expect(
            GoDuration.reconcileDuration(message: Array("reconcilation finished in 870.35ms, next run in 5m0s".utf8))
                == 870_350_000)
        #expect(GoDuration.reconcileDuration(message: Array("reconciliation finished in 3.2s".utf8)) == 3_200_000_000)
        #expect(GoDuration.reconcileDuration(message: Array("release in-sync with desired state".utf8)) == nil)
    }
}
