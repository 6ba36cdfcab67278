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

    /// The workload behind the pod name: `<deployment>-<pod-template-hash>-<5>` → deployment,
    /// `<statefulset>-<ordinal>` → statefulset, `<daemonset|job>-<5>` → daemonset/job; else the pod name.
    var workload: (name: String, isDeployment: Bool) {
        let parts = podName.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return (podName, false) }
        let last = parts[parts.count - 1]
        if parts.count >= 3, Self.isGenerated(last, 5...5), Self.isGenerated(parts[parts.count - 2], 6...10) {
            return (parts.dropLast(2).joined(separator: "-"), true)
        }
        if last.allSatisfy(\.isNumber) || Self.isGenerated(last, 5...5) {
            return (parts.dropLast().joined(separator: "-"), false)
        }
        return (podName, false)
    }

    /// Kubernetes' random suffixes use `bcdfghjklmnpqrstvwxz2456789` (no vowels, no look-alikes).
    private static func isGenerated(_ s: Substring, _ lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(s.utf8.count)
            && s.utf8.allSatisfy { c in
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") && !"aeiouy".utf8.contains(c))
                    || (c >= UInt8(ascii: "2") && c <= UInt8(ascii: "9") && c != UInt8(ascii: "3"))
            }
    }

    /// Resource attributes, following the OpenTelemetry semantic conventions for Kubernetes.
    var resourceAttributes: [OTLP.KeyValue] {
        let workload = self.workload
        var attributes: [OTLP.KeyValue] = [
            .init("service.name", workload.name),
            .init("k8s.namespace.name", namespace),
            .init("k8s.pod.name", podName),
            .init("k8s.pod.uid", podUID),
            .init("k8s.container.name", containerName),
        ]
        if let restartCount {
            attributes.append(.init(key: "k8s.container.restart_count", value: .int(Int64(restartCount))))
        }
        if workload.isDeployment { attributes.append(.init("k8s.deployment.name", workload.name)) }
        return attributes
    }
}
