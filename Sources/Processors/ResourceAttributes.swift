public import FluxtelConfig
public import OTLPWire

/// The `resource` processor (`processors.resource.attributes`), the "enrich" step of DESIGN.md's data
/// flow: adds the configured attributes to (or overrides them in) the `Resource` of every chunk before
/// batching (upsert; see `ResourceAttributeRewriter`).
public struct ResourceAttributes: Sendable {
    let rewriter: ResourceAttributeRewriter

    /// - Parameter attributes: `processors.resource.attributes`, in order (the loader already left out
    ///   those whose value expanded to "").
    public init(_ attributes: [KeyValuePair]) {
        rewriter = ResourceAttributeRewriter(attributes: attributes.map { (key: $0.key, value: $0.value) })
    }

    /// Nothing to add: the pipeline can skip the step.
    public var isEmpty: Bool { rewriter.attributes.isEmpty }

    /// Rewrites a chunk's framed `Resource*` fields (the same bytes as a request body). Throws on
    /// malformed input; the pipeline then keeps the chunk as it was.
    public func enrich(_ signal: Signal, _ bytes: [UInt8]) throws -> [UInt8] {
        try rewriter.rewrite(bytes)
    }
}
