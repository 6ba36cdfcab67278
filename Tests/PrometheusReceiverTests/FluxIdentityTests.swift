import FluxtelConfig
import OTLPJSON
import OTLPWire
import Testing

@testable import PrometheusReceiver

/// Issue 18 (one identity): a controller's metrics name it on the resource (`service.name`, `k8s.*`, as its
/// logs do), and fluxtel adds no `controller` point label that would push controller-runtime's own
/// `controller` label to `exported_controller`.
struct FluxIdentityTests {
    static let exposition = """
        # TYPE controller_runtime_reconcile_total counter
        controller_runtime_reconcile_total{controller="kustomization",result="success"} 7
        # TYPE gotk_reconcile_duration_seconds_count counter
        gotk_reconcile_duration_seconds_count{kind="Kustomization",name="apps",namespace="flux-system"} 3

        """

    @Test func defaultStaticTargetsKeepControllerRuntimesControllerLabel() throws {
        let target = try #require(PrometheusReceiverConfiguration.fluxTargets.first { $0.url.contains("kustomize") })
        let endpoint = try ScrapeEndpoint(
            url: target.url, labels: target.labels.map { KeyValuePair($0.key, $0.value) })
        var tracker = SeriesTracker()
        let (resource, _) = try convert(Self.exposition, tracker: &tracker, target: endpoint.targetInfo)
        #expect(resource.resource?.attributes["service.name"] == "kustomize-controller")
        guard case .sum(let sum) = resource.metric("controller_runtime_reconcile_total")?.data else {
            Issue.record("no controller_runtime_reconcile_total")
            return
        }
        let point = try #require(sum.dataPoints.first)
        #expect(point.attributes["controller"] == "kustomization")
        #expect(point.attributes["exported_controller"] == nil)
        #expect(point.attributes.map(\.key) == ["controller", "result"])
    }

    @Test func gotkSeriesNameTheirFluxObject() throws {
        var tracker = SeriesTracker()
        let (resource, _) = try convert(Self.exposition, tracker: &tracker)
        guard case .sum(let gotk) = resource.metric("gotk_reconcile_duration_seconds_count")?.data,
            case .sum(let runtime) = resource.metric("controller_runtime_reconcile_total")?.data
        else {
            Issue.record("missing families")
            return
        }
        let point = try #require(gotk.dataPoints.first)
        #expect(point.attributes["flux.object.kind"] == "Kustomization")
        #expect(point.attributes["flux.object.name"] == "apps")
        #expect(point.attributes["flux.object.namespace"] == "flux-system")
        #expect(point.attributes["name"] == "apps")  // the original labels stay
        #expect(runtime.dataPoints.first?.attributes["flux.object.kind"] == nil)
    }

    static func pod(labels: String = #""app":"kustomize-controller""#, owners: String = "") throws -> JSONValue {
        try JSONValue.parse(
            Array(
                """
                {"metadata":{"name":"kustomize-controller-7f5c8d9b4-x2x7k","namespace":"flux-system","uid":"5b1e-uid",
                 "labels":{\(labels)},\(owners)
                 "annotations":{"prometheus.io/scrape":"true","prometheus.io/port":"8080"}},
                 "spec":{"nodeName":"node-a"},"status":{"phase":"Running","podIP":"10.0.0.7"}}
                """.utf8))
    }

    @Test func discoveredPodsCarryTheLogsIdentity() throws {
        let pod = try Self.pod(
            owners: #""ownerReferences":[{"kind":"ReplicaSet","name":"kustomize-controller-7f5c8d9b4","uid":"rs"}],"#)
        let target = try #require(KubernetesPodDiscovery.target(for: pod, nodeName: "node-a"))
        #expect(target.labels == [KeyValuePair("job", "kustomize-controller")])
        #expect(target.job == "kustomize-controller")
        let resource = Dictionary(uniqueKeysWithValues: target.resourceAttributes.map { ($0.key, $0.value) })
        #expect(
            resource == [
                "service.namespace": "flux-system", "k8s.namespace.name": "flux-system",
                "k8s.pod.name": "kustomize-controller-7f5c8d9b4-x2x7k", "k8s.pod.uid": "5b1e-uid",
                "k8s.deployment.name": "kustomize-controller", "k8s.node.name": "node-a",
            ])
        var tracker = SeriesTracker()
        let (converted, _) = try convert(Self.exposition, tracker: &tracker, target: target.targetInfo)
        guard case .sum(let sum) = converted.metric("controller_runtime_reconcile_total")?.data else {
            Issue.record("no controller_runtime_reconcile_total")
            return
        }
        #expect(sum.dataPoints.first?.attributes.map(\.key) == ["controller", "result"])
        #expect(converted.resource?.attributes["k8s.pod.uid"] == "5b1e-uid")
    }

    @Test func serviceNameWithoutAnAppLabelIsTheWorkload() throws {
        let pod = try Self.pod(labels: #""pod-template-hash":"7f5c8d9b4""#)
        let target = try #require(KubernetesPodDiscovery.target(for: pod, nodeName: "node-a"))
        #expect(target.job == "kustomize-controller")
        #expect(target.resourceAttributes.contains(KeyValuePair("k8s.deployment.name", "kustomize-controller")))
    }
}
