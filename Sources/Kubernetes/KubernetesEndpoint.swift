#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the Kubernetes API is and how to authenticate to it: an explicit `api_server`, or in-cluster
/// (`KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, the pod's service-account token and CA).
public struct KubernetesEndpoint: Sendable, Equatable {
    /// `https://host:port` (or `http://` against a local test server), without a trailing slash.
    public var baseURL: String
    /// Bearer token file, re-read for every request (projected tokens rotate). Empty: no token.
    public var tokenPath: String
    /// CA bundle for https; empty: the system roots.
    public var caPath: String

    public init(baseURL: String, tokenPath: String = "", caPath: String = "") {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.tokenPath = tokenPath
        self.caPath = caPath
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// `apiServer` when set, else the in-cluster API from `environment`.
    /// - Throws: ``KubernetesEndpointError`` when neither is available (outside a cluster without `api_server`).
    public static func resolve(
        apiServer: String, tokenPath: String, caPath: String, environment: [String: String]
    ) throws(KubernetesEndpointError) -> KubernetesEndpoint {
        if !apiServer.isEmpty { return KubernetesEndpoint(baseURL: apiServer, tokenPath: tokenPath, caPath: caPath) }
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw KubernetesEndpointError()
        }
        let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return KubernetesEndpoint(baseURL: "https://\(bracketed):\(port)", tokenPath: tokenPath, caPath: caPath)
    }

    /// The variables the Kubernetes sources read (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`,
    /// `NODE_NAME`, `POD_NAME`, `POD_NAMESPACE`) from this process's environment.
    public static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for name in ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "NODE_NAME", "POD_NAME", "POD_NAMESPACE"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return environment
    }
}

/// Not in a cluster (`KUBERNETES_SERVICE_HOST` unset) and no `api_server` given.
public struct KubernetesEndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String { "not in a cluster (KUBERNETES_SERVICE_HOST unset); set api_server" }
}
