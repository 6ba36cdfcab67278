import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Kubernetes
import Logging
import OTLPJSON
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
        let api = try await FakeKubernetesAPI.start()
        let pods = "/api/v1/pods"
        api.load(
            try [
                podJSON(name: "kustomize-controller-a", node: "node-a", port: p, path: "/kc-a"),
                podJSON(name: "helm-controller-b", node: "node-b", port: p, path: "/hc-b", app: "helm-controller"),
                podJSON(
                    name: "source-controller-a", node: "node-a", scrape: false, port: p, path: "/sc-a",
                    app: "source-controller"),
            ].map { try JSONValue.parse(Array($0.utf8)) }, in: pods)
        let listVersion = api.resourceVersion
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxtel-token-\(UUID().uuidString)")
        try "test-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }

        var config = KubernetesSDConfiguration()
        config.enabled = true
        config.namespaces = ["flux-system"]
        config.labelSelector = "app in (kustomize-controller,helm-controller)"
        config.nodeName = "node-a"
        let discovery = KubernetesPodDiscovery(
            config: config,
            client: KubernetesClient(endpoint: KubernetesEndpoint(baseURL: api.baseURL, tokenPath: tokenFile.path)),
            environment: [:], logger: quietLogger)
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
            try api.put(
                json: podJSON(
                    name: "notification-controller-a", node: "node-a", port: p, path: "/nc-a",
                    app: "notification-controller"), in: pods)
            try api.put(
                json: podJSON(
                    name: "helm-controller-b2", node: "node-b", port: p, path: "/hc-b2", app: "helm-controller"),
                in: pods)
            api.sendBookmarks()
            #expect(
                await eventually {
                    receiver.activeTargets == [
                        "flux-system/kustomize-controller-a", "flux-system/notification-controller-a",
                    ]
                })
            #expect(await eventually { scrapedPaths().contains("/nc-a") })

            // Deleting a pod removes its target.
            api.delete(namespace: "flux-system", name: "kustomize-controller-a", in: pods)
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
        #expect(api.requests.contains { $0.isWatch && $0.query["resourceVersion"] == "\(listVersion)" })
    }

    @Test func podAnnotationsMakeTheTarget() throws {
        let pod = try JSONValue.parse(
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
        #expect(target.resourceAttributes.contains(KeyValuePair("k8s.pod.uid", "u1")))
        #expect(KubernetesPodDiscovery.target(for: pod, nodeName: "n2") == nil)
    }
}

/// A pod as the API serves it (the fields discovery reads, plus some it ignores).
func podJSON(
    name: String, node: String, ip: String = "127.0.0.1", scrape: Bool = true, port: Int, path: String,
    app: String = "kustomize-controller"
) -> String {
    let annotations =
        scrape
        ? #"{"prometheus.io/scrape":"true","prometheus.io/port":"\#(port)","prometheus.io/path":"\#(path)"}"#
        : #"{"kubectl.kubernetes.io/default-container":"manager"}"#
    return #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"flux-system","uid":"uid-\#(name)","resourceVersion":"101","labels":{"app":"\#(app)","pod-template-hash":"7d9f8"},"annotations":\#(annotations)},"spec":{"nodeName":"\#(node)","containers":[{"name":"manager","image":"ghcr.io/fluxcd/\#(app):v1.9.0","ports":[{"containerPort":8080,"name":"http-prom","protocol":"TCP"}]}]},"status":{"phase":"Running","podIP":"\#(ip)","podIPs":[{"ip":"\#(ip)"}],"conditions":[{"type":"Ready","status":"True"}]}}
        """#
}
