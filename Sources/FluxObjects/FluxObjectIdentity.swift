public import Processors

/// How every point and record names a Flux object: the same keys on resource-state metrics, on Flux
/// Events as logs, and (correlation) on Flux's own logs and spans.
public struct FluxObjectIdentity: Sendable, Hashable {
    public var group: String
    /// Kind, namespace and name: how log lines and references name the object, and correlation's key.
    public var ref: FluxObjectRef
    public var uid: String

    public var kind: String { ref.kind }
    public var namespace: String { ref.namespace }
    public var name: String { ref.name }

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
