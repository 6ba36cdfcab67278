/// The workload behind a pod, read from names alone (no extra watch): the pod name
/// `<deployment>-<pod-template-hash>-<5>` names a Deployment, `<statefulset>-<ordinal>` a StatefulSet,
/// `<daemonset|job>-<5>` a DaemonSet or Job; anything else is its own workload. A ReplicaSet owner's name
/// `<deployment>-<pod-template-hash>` names the Deployment too. The log receiver (from the kubelet's path)
/// and pod discovery (from the pod object) both name pods this way, so one pod's logs and metrics carry
/// the same `service.name` and `k8s.deployment.name`.
public struct PodWorkload: Sendable, Equatable {
    /// The workload's name (the pod name when it names none).
    public var name: String
    /// Whether the name has a Deployment's shape (`<name>-<hash>-<5>`).
    public var isDeployment: Bool

    public init(podName: String) {
        let parts = podName.split(separator: "-", omittingEmptySubsequences: false)
        let last = parts.last ?? ""
        if parts.count >= 3, Self.isGenerated(last, 5...5), Self.isGenerated(parts[parts.count - 2], 6...10) {
            self.init(name: parts.dropLast(2).joined(separator: "-"), isDeployment: true)
        } else if parts.count >= 2, last.allSatisfy(\.isNumber) || Self.isGenerated(last, 5...5) {
            self.init(name: parts.dropLast().joined(separator: "-"), isDeployment: false)
        } else {
            self.init(name: podName, isDeployment: false)
        }
    }

    public init(name: String, isDeployment: Bool) {
        self.name = name
        self.isDeployment = isDeployment
    }

    /// The Deployment of a ReplicaSet named `<deployment>-<pod-template-hash>`; nil for another shape.
    public static func deployment(ofReplicaSet replicaSet: String) -> String? {
        guard let dash = replicaSet.lastIndex(of: "-"), dash != replicaSet.startIndex,
            isGenerated(replicaSet[replicaSet.index(after: dash)...], 6...10)
        else { return nil }
        return String(replicaSet[..<dash])
    }

    /// Kubernetes' random suffixes use `bcdfghjklmnpqrstvwxz2456789` (no vowels, no look-alikes).
    static func isGenerated(_ s: Substring, _ lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(s.utf8.count)
            && s.utf8.allSatisfy { c in
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") && !"aeiouy".utf8.contains(c))
                    || (c >= UInt8(ascii: "2") && c <= UInt8(ascii: "9") && c != UInt8(ascii: "3"))
            }
    }
}
