public import OTLPJSON

/// The versions of an API group the server serves (`GET /apis/<group>`), e.g. which
/// `kustomize.toolkit.fluxcd.io` version to list.
public struct ServedVersions: Sendable, Equatable {
    /// `versions[].version`, in the server's order (preferred first, as the API server sorts them).
    public var versions: [String]
    /// `preferredVersion.version`; the first served version if the server names none.
    public var preferred: String

    /// From the API group object (`GET /apis/<group>`).
    public init(_ answer: JSONValue, group: String) throws(KubernetesError) {
        versions = (answer["versions"]?.array ?? []).compactMap { $0["version"]?.string }
        guard let preferred = answer["preferredVersion"]?["version"]?.string ?? versions.first else {
            throw .invalidResponse("/apis/\(group): no versions")
        }
        self.preferred = preferred
    }
}

extension KubernetesClient {
    /// The served versions of `group`; nil when the group is not installed (404).
    public func servedVersions(group: String) async throws -> ServedVersions? {
        let answer: JSONValue
        do { answer = try await send(path: "/apis/\(group)") } catch KubernetesError.notFound {
            return nil
        }
        return try ServedVersions(answer, group: group)
    }
}
