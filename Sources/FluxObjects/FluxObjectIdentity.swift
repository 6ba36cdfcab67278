/// How every point and record names a Flux object: the same keys on resource-state metrics, on Flux
/// Events as logs, and (correlation) on Flux's own logs and spans.
public struct FluxObjectIdentity: Sendable, Hashable {
    public var group: String
    public var kind: String
    public var namespace: String
    public var name: String
    public var uid: String

    public init(group: String, kind: String, namespace: String, name: String, uid: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    /// `flux.object.kind`, `flux.object.name`, `flux.object.namespace`, `flux.object.uid`, then
    /// `flux.revision` when the revision is known.
    public func attributes(revision: String?) -> [(key: String, value: String)] {
        var attributes: [(key: String, value: String)] = [
            ("flux.object.kind", kind), ("flux.object.name", name), ("flux.object.namespace", namespace),
            ("flux.object.uid", uid),
        ]
        if let revision, !revision.isEmpty { attributes.append(("flux.revision", revision)) }
        return attributes
    }
}
