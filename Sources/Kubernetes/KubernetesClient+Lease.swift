public import OTLPJSON

/// `coordination.k8s.io/v1` Leases, with optimistic concurrency: an update carries the
/// `metadata.resourceVersion` it read, and a 409 Conflict (someone wrote in between) is
/// ``KubernetesError/conflict(_:)``.
extension KubernetesClient {
    static func leasesPath(namespace: String) -> String {
        "/apis/coordination.k8s.io/v1/namespaces/\(percentEncode(namespace))/leases"
    }

    /// The Lease, or nil when there is none (404).
    public func getLease(namespace: String, name: String) async throws -> JSONValue? {
        do {
            return try await send(path: Self.leasesPath(namespace: namespace) + "/" + percentEncode(name))
        } catch KubernetesError.notFound {
            return nil
        }
    }

    /// Creates a Lease (`metadata.name` and `spec` set by the caller; `apiVersion`/`kind` filled in) and
    /// returns it as stored. A Lease of that name that already exists is ``KubernetesError/conflict(_:)``.
    public func createLease(namespace: String, _ lease: JSONValue) async throws -> JSONValue {
        var lease = lease
        lease["apiVersion"] = .string("coordination.k8s.io/v1")
        lease["kind"] = .string("Lease")
        lease["metadata"]?["namespace"] = .string(namespace)
        return try await send(.POST, path: Self.leasesPath(namespace: namespace), body: lease)
    }

    /// Replaces a Lease read before (its `metadata.resourceVersion` is the precondition) and returns it
    /// as stored, with its new resourceVersion.
    /// - Throws: ``KubernetesError/conflict(_:)`` when the Lease changed since it was read.
    public func updateLease(namespace: String, _ lease: JSONValue) async throws -> JSONValue {
        guard let name = lease["metadata"]?["name"]?.string, lease["metadata"]?["resourceVersion"]?.string != nil
        else { throw KubernetesError.invalidRequest("a Lease update needs metadata.name and metadata.resourceVersion") }
        return try await send(
            .PUT, path: Self.leasesPath(namespace: namespace) + "/" + percentEncode(name), body: lease)
    }
}
