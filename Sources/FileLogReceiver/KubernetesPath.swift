import Kubernetes
import OTLPWire

/// What the kubelet's log path says about a container:
/// `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log`.
struct KubernetesPath: Equatable {
    var namespace: String
    var podName: String
    var podUID: String
    var containerName: String
    var restartCount: Int?

    init?(path: String) {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.count >= 3 else { return nil }
        let podDirectory = components[components.count - 3]
        let parts = podDirectory.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        namespace = String(parts[0])
        podName = String(parts[1])
        podUID = String(parts[2])
        containerName = String(components[components.count - 2])
        var file = components[components.count - 1]
        if file.hasSuffix(".log") { file = file.dropLast(4) }
        restartCount = Int(file)
    }

    /// The workload behind the pod name (see `PodWorkload`).
    var workload: PodWorkload { PodWorkload(podName: podName) }

    /// Resource attributes, following the OpenTelemetry semantic conventions for Kubernetes: the same
    /// `service.name`, `service.namespace`, `k8s.*` identity as pod discovery gives the pod's metrics.
    /// `nodeName`: the node the agent runs on (`NODE_NAME`), which is the pod's: the kubelet writes these
    /// files on its own node; empty: left out.
    func resourceAttributes(nodeName: String = "") -> [OTLP.KeyValue] {
        let workload = self.workload
        var attributes: [OTLP.KeyValue] = [
            .init("service.name", workload.name),
            .init("service.namespace", namespace),
            .init("k8s.namespace.name", namespace),
            .init("k8s.pod.name", podName),
            .init("k8s.pod.uid", podUID),
            .init("k8s.container.name", containerName),
        ]
        if let restartCount {
            attributes.append(.init(key: "k8s.container.restart_count", value: .int(Int64(restartCount))))
        }
        if workload.isDeployment { attributes.append(.init("k8s.deployment.name", workload.name)) }
        if !nodeName.isEmpty { attributes.append(.init("k8s.node.name", nodeName)) }
        return attributes
    }
}
