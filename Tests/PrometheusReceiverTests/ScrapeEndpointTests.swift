import FluxtelConfig
import OTLPWire
import Testing

@testable import PrometheusReceiver

@Suite struct ScrapeEndpointTests {
    @Test func urlsAndIdentity() throws {
        let plain = try ScrapeEndpoint(
            url: "http://kustomize-controller-metrics.flux-system.svc:8080/metrics",
            labels: [KeyValuePair("controller", "kustomize-controller")])
        #expect(plain.host == "kustomize-controller-metrics.flux-system.svc")
        #expect(plain.port == 8080)
        #expect(plain.job == "kustomize-controller")
        #expect(plain.instance == "kustomize-controller-metrics.flux-system.svc:8080")
        let tls = try ScrapeEndpoint(url: "https://[fd00::1]/m", labels: [KeyValuePair("job", "j")])
        #expect(tls.port == 443 && tls.host == "fd00::1" && tls.instance == "[fd00::1]:443" && tls.job == "j")
        #expect(try ScrapeEndpoint(url: "http://h/metrics").job == "prometheus")
        for bad in ["h:80/metrics", "ftp://h/", "http://:80/", "http://h:99999/", "http://[::1/"] {
            #expect(throws: TargetURLError.self) { try ScrapeEndpoint(url: bad) }
        }
    }

    @Test func removedTargetGetsStaleMarkersForEverySeries() throws {
        var tracker = SeriesTracker()
        _ = try convert("# TYPE c counter\nc{a=\"1\"} 1\nc{a=\"2\"} 1\n", tracker: &tracker)
        let converted = MetricsConverter.staleOnly(target: testTarget, tracker: &tracker, time: 9)
        #expect(converted.dataPoints == 2)
        #expect(tracker.trackedSeries == 0)
        let resource = try decodedResource(converted)
        guard case .sum(let sum) = resource.metric("c")?.data else {
            Issue.record("no c")
            return
        }
        #expect(sum.dataPoints.allSatisfy { $0.flags == 1 && $0.value == nil })
        #expect(resource.metric("up") == nil)
    }

    @Test func globs() {
        #expect(globMatch(Array("gotk_*".utf8), Array("gotk_reconcile_duration_seconds".utf8)))
        #expect(!globMatch(Array("gotk_*".utf8), Array("go_goroutines".utf8)))
        #expect(globMatch(Array("*_total".utf8), Array("workqueue_adds_total".utf8)))
        #expect(globMatch(Array("go_?c_*".utf8), Array("go_gc_heap_goal_bytes".utf8)))
        #expect(globMatch(Array("*".utf8), []))
        #expect(!globMatch(Array("a*b*c".utf8), Array("abxbx".utf8)))
    }
}
