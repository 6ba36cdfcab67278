public import FluxtelConfig
public import Kubernetes
public import Logging
import OTLPJSON
public import Pipeline
import SelfTelemetry
import Synchronization

/// Kubernetes pod discovery: lists and watches pods in the configured namespaces (label selector,
/// `spec.nodeName` field selector, checked again on the client side) and turns every running pod with
/// `prometheus.io/scrape: "true"` into a target at `prometheus.io/scheme`://podIP:`prometheus.io/port`
/// `prometheus.io/path` (defaults http and /metrics; no port annotation, no target). The list/watch
/// loop (resume, re-list on 410, back-off) is the Kubernetes module's ``ListWatch``.
public struct KubernetesPodDiscovery: TargetDiscovery {
    let config: KubernetesSDConfiguration
    let client: KubernetesClient
    /// Only pods on this node; empty: every node.
    let nodeName: String
    let clock: TimerClock
    let logger: Logger

    /// - Parameters:
    ///   - config: `receivers.prometheus.kubernetes_sd`.
    ///   - client: the API client; discovery owns it and shuts it down when it stops.
    ///   - environment: `NODE_NAME` (the DaemonSet's own node) when `node_name` is empty.
    ///   - clock: the back-off's clock.
    public init(
        config: KubernetesSDConfiguration, client: KubernetesClient, environment: [String: String],
        clock: TimerClock = .continuous, logger: Logger
    ) {
        self.config = config
        self.client = client
        self.clock = clock
        self.logger = logger.component("kubernetes-sd")
        var nodeName = config.nodeName.isEmpty ? environment["NODE_NAME"] ?? "" : config.nodeName
        if nodeName == "*" { nodeName = "" }
        if nodeName.isEmpty, config.nodeName != "*" {
            self.logger.warning("kubernetes_sd: NODE_NAME is not set; discovering pods on every node")
        }
        self.nodeName = nodeName
    }

    public func run(update: @escaping @Sendable ([ScrapeEndpoint]) -> Void) async throws {
        let state = DiscoveredPods()
        let publish: @Sendable () -> Void = {
            let all = state.pods.withLock { $0.values.flatMap(\.values) }.sorted { $0.id < $1.id }
            update(all)
        }
        await withTaskGroup(of: Void.self) { group in
            for namespace in config.namespaces {
                group.addTask { await self.follow(namespace: namespace, state: state, publish: publish) }
            }
        }
        await client.shutdown()
    }

    var selectors: [(String, String)] {
        var query: [(String, String)] = []
        if !config.labelSelector.isEmpty { query.append(("labelSelector", config.labelSelector)) }
        if !nodeName.isEmpty { query.append(("fieldSelector", "spec.nodeName=\(nodeName)")) }
        return query
    }

    /// The pods of one namespace: a full list replaces them, each event changes one.
    func follow(namespace: String, state: DiscoveredPods, publish: @escaping @Sendable () -> Void) async {
        let pods = ListWatch(
            client: client, path: "/api/v1/namespaces/\(namespace)/pods", query: selectors, clock: clock,
            logger: logger)
        await pods.run { update in
            switch update {
            case .listed(let list):
                var targets: [String: ScrapeEndpoint] = [:]
                for pod in list.items {
                    if let name = pod["metadata"]?["name"]?.string,
                        let target = Self.target(for: pod, nodeName: nodeName)
                    {
                        targets[name] = target
                    }
                }
                state.pods.withLock { $0[namespace] = targets }
                publish()
            case .page: break  // not asked for
            case .event(let event):
                guard let name = event.object["metadata"]?["name"]?.string else { return }
                let target = event.type == .deleted ? nil : Self.target(for: event.object, nodeName: nodeName)
                let changed = state.pods.withLock { state -> Bool in
                    let before = state[namespace]?[name]
                    state[namespace, default: [:]][name] = target
                    return before != target
                }
                if changed { publish() }
            }
        }
    }

    /// The scrape target of a pod, or nil when it is not to be scraped.
    static func target(for pod: JSONValue, nodeName: String) -> ScrapeEndpoint? {
        let metadata = pod["metadata"]
        guard let name = metadata?["name"]?.string, let namespace = metadata?["namespace"]?.string else { return nil }
        if metadata?["deletionTimestamp"]?.string != nil { return nil }
        if !nodeName.isEmpty, pod["spec"]?["nodeName"]?.string != nodeName { return nil }
        let annotations = metadata?["annotations"]?.stringMap ?? [:]
        guard annotations["prometheus.io/scrape"] == "true" else { return nil }
        let phase = pod["status"]?["phase"]?.string ?? ""
        guard phase != "Succeeded", phase != "Failed",
            let ip = pod["status"]?["podIP"]?.string, !ip.isEmpty,
            let port = annotations["prometheus.io/port"].flatMap({ Int($0) }), (1...65535).contains(port)
        else { return nil }
        var path = annotations["prometheus.io/path"] ?? "/metrics"
        if !path.hasPrefix("/") { path = "/" + path }
        let scheme = annotations["prometheus.io/scheme"] == "https" ? "https" : "http"
        let host = ip.contains(":") ? "[\(ip)]" : ip
        let identity = Self.identity(of: pod, name: name, namespace: namespace)
        return try? ScrapeEndpoint(
            url: "\(scheme)://\(host):\(port)\(path)", labels: [KeyValuePair("job", identity.service)],
            resourceAttributes: identity.resource, id: "\(namespace)/\(name)")
    }

    /// The pod's identity, the same one its log files get (`PodWorkload`): `service.name` = the
    /// `app.kubernetes.io/name` or `app` label, else the Deployment, else the workload of the pod name; the
    /// `job` target label carries it to the resource (never a point label: controller-runtime's metrics
    /// have their own `controller` label). `k8s.deployment.name` comes from the ReplicaSet owner's name (or
    /// the pod name's shape), no extra watch.
    static func identity(
        of pod: JSONValue, name: String, namespace: String
    ) -> (service: String, resource: [KeyValuePair]) {
        let metadata = pod["metadata"]
        let labels = metadata?["labels"]?.stringMap ?? [:]
        let workload = PodWorkload(podName: name)
        var replicaSet: String?
        if case .array(let owners)? = metadata?["ownerReferences"] {
            replicaSet = owners.first { $0["kind"]?.string == "ReplicaSet" }?["name"]?.string
        }
        let deployment =
            replicaSet.flatMap { PodWorkload.deployment(ofReplicaSet: $0) }
            ?? (workload.isDeployment ? workload.name : nil)
        let service = labels["app.kubernetes.io/name"] ?? labels["app"] ?? deployment ?? workload.name
        var resource = [
            KeyValuePair("service.namespace", namespace), KeyValuePair("k8s.namespace.name", namespace),
            KeyValuePair("k8s.pod.name", name),
        ]
        if let uid = metadata?["uid"]?.string { resource.append(KeyValuePair("k8s.pod.uid", uid)) }
        if let deployment { resource.append(KeyValuePair("k8s.deployment.name", deployment)) }
        if let node = pod["spec"]?["nodeName"]?.string { resource.append(KeyValuePair("k8s.node.name", node)) }
        return (service, resource)
    }
}

/// namespace → pod name → target.
final class DiscoveredPods: Sendable {
    let pods = Mutex<[String: [String: ScrapeEndpoint]]>([:])
}
