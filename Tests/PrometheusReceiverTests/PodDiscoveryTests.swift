import FluxtelTestSupport
import Foundation
import Logging
import Pipeline
import SelfTelemetry
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@testable import PrometheusReceiver

@Suite(.serialized) struct PodDiscoveryTests {
    /// Acceptance 4: pods on two nodes; only this node's annotated pods are scraped; watch events add
    /// and remove targets.
    @Test func scrapesOnlyThisNodesAnnotatedPodsAndFollowsTheWatch() async throws {
        let metrics = try await HTTPSink.start(
            fallback: .init(
                status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4")], body: Array("gotk_x 1\n".utf8)))
        let p = metrics.port
        let podList = """
            {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"100"},"items":[
            \(podJSON(name: "kustomize-controller-a", node: "node-a", port: p, path: "/kc-a")),
            \(podJSON(name: "helm-controller-b", node: "node-b", port: p, path: "/hc-b", app: "helm-controller")),
            \(podJSON(name: "source-controller-a", node: "node-a", scrape: false, port: p, path: "/sc-a", app: "source-controller"))
            ]}
            """
        let api = try await FakeKubernetesAPI.start(podList: podList)
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxtel-token-\(UUID().uuidString)")
        try "test-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }

        let discovery = KubernetesPodDiscovery(
            api: KubernetesAPIConfiguration(baseURL: api.baseURL, tokenPath: tokenFile.path),
            settings: PodDiscoverySettings(
                namespaces: ["flux-system"], labelSelector: "app in (kustomize-controller,helm-controller)",
                nodeName: "node-a", retryInterval: .milliseconds(100)),
            logger: quietLogger)
        let receiver = try PrometheusReceiver(
            configuration: scrapeConfig(interval: .milliseconds(100), timeout: .milliseconds(90)), discovery: discovery,
            pipeline: makePipeline(),
            metrics: AgentMetrics(), logger: quietLogger)
        func scrapedPaths() -> Set<String> { Set(metrics.requests.map(\.path)) }

        try await testGracefulShutdown { trigger in
            async let run: Void = receiver.run()
            #expect(await eventually { receiver.activeTargets == ["flux-system/kustomize-controller-a"] })
            #expect(await eventually { scrapedPaths().contains("/kc-a") })
            #expect(await eventually { api.openWatches == 1 })

            // A new annotated pod on this node, and one on another node.
            api.send(
                event:
                    #"{"type":"ADDED","object":\#(podJSON(name: "notification-controller-a", node: "node-a", port: p, path: "/nc-a", app: "notification-controller"))}"#
            )
            api.send(
                event:
                    #"{"type":"ADDED","object":\#(podJSON(name: "helm-controller-b2", node: "node-b", port: p, path: "/hc-b2", app: "helm-controller"))}"#
            )
            api.send(event: #"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"120"}}}"#)
            #expect(
                await eventually {
                    receiver.activeTargets == [
                        "flux-system/kustomize-controller-a", "flux-system/notification-controller-a",
                    ]
                })
            #expect(await eventually { scrapedPaths().contains("/nc-a") })

            // Deleting a pod removes its target.
            api.send(
                event:
                    #"{"type":"DELETED","object":\#(podJSON(name: "kustomize-controller-a", node: "node-a", port: p, path: "/kc-a"))}"#
            )
            #expect(await eventually { receiver.activeTargets == ["flux-system/notification-controller-a"] })
            let scrapesAfterDelete = metrics.requests.filter { $0.path == "/kc-a" }.count
            // Three more scrapes of the remaining target prove the scrape loop went round after the
            // delete: by then the deleted target's loop is gone (one scrape may have been in flight).
            let remaining = metrics.requests.filter { $0.path == "/nc-a" }.count
            #expect(await eventually { metrics.requests.filter { $0.path == "/nc-a" }.count >= remaining + 3 })
            #expect(metrics.requests.filter { $0.path == "/kc-a" }.count <= scrapesAfterDelete + 1)

            trigger.triggerGracefulShutdown()
            try await run
        }
        try await api.shutdown()
        try await metrics.shutdown()

        #expect(!scrapedPaths().contains("/hc-b"))
        #expect(!scrapedPaths().contains("/hc-b2"))
        #expect(!scrapedPaths().contains("/sc-a"))
        let list = try #require(api.requests.first)
        #expect(list.authorization == "Bearer test-token")
        #expect(list.uri.hasPrefix("/api/v1/namespaces/flux-system/pods?"))
        #expect(list.uri.contains("fieldSelector=spec.nodeName%3Dnode-a"))
        #expect(list.uri.contains("labelSelector=app%20in%20%28kustomize-controller%2Chelm-controller%29"))
        #expect(api.requests.contains { $0.uri.contains("watch=1") && $0.uri.contains("resourceVersion=100") })
    }

    @Test func podAnnotationsMakeTheTarget() throws {
        let pod = try JSONParser.parse(
            Array(
                #"""
                {"metadata":{"name":"kc-1","namespace":"flux-system","uid":"u1","labels":{"app":"kustomize-controller"},
                 "annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"8080","prometheus.io/path":"metrics","prometheus.io/scheme":"https"}},
                 "spec":{"nodeName":"n1"},"status":{"phase":"Running","podIP":"fd00::7"}}
                """#.utf8))
        let target = try #require(KubernetesPodDiscovery.target(for: pod, nodeName: "n1"))
        #expect(target.url == "https://[fd00::7]:8080/metrics")
        #expect(target.job == "kustomize-controller")
        #expect(target.instance == "[fd00::7]:8080")
        #expect(target.resourceAttributes.contains(KeyValueLabel("k8s.pod.uid", "u1")))
        #expect(KubernetesPodDiscovery.target(for: pod, nodeName: "n2") == nil)
    }

    @Test func jsonParserEdgesAndGarbage() throws {
        let value = try JSONParser.parse(Array(#"{"a":[1,-2.5e3,true,false,null,"x\u00e9\ud83d\ude00\n"]}"#.utf8))
        #expect(value["a"]?.array?[1] == .number(-2500))
        #expect(value["a"]?.array?[5] == .string("xé😀\n"))
        for garbage in [
            "", "{", "{\"a\"}", "[1,]", "\"\\ud800\"", "tru", "{\"a\":1}x", String(repeating: "[", count: 500),
        ] {
            #expect(throws: JSONError.self) { try JSONParser.parse(Array(garbage.utf8)) }
        }
    }
}
