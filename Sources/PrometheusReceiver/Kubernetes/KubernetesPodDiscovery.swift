import HTTPClient
public import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where and how to reach the Kubernetes API. `inCluster` reads the standard service-account paths and
/// `KUBERNETES_SERVICE_HOST/PORT`; tests inject a local `http://127.0.0.1:<port>` and their own files.
public struct KubernetesAPIConfiguration: Sendable {
    public var baseURL: String
    /// Bearer token file (re-read on every (re)connect: projected tokens rotate). Empty: no token.
    public var tokenPath: String
    /// CA bundle for https; empty: system roots.
    public var caPath: String

    public init(baseURL: String, tokenPath: String = "", caPath: String = "") {
        self.baseURL = baseURL
        self.tokenPath = tokenPath
        self.caPath = caPath
    }

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The in-cluster API from the environment, or nil outside a cluster.
    public static func inCluster(environment: [String: String]) -> KubernetesAPIConfiguration? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else { return nil }
        let port = environment["KUBERNETES_SERVICE_PORT"].flatMap { $0.isEmpty ? nil : $0 } ?? "443"
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return KubernetesAPIConfiguration(
            baseURL: "https://\(bracketed):\(port)", tokenPath: "\(serviceAccountDirectory)/token",
            caPath: "\(serviceAccountDirectory)/ca.crt")
    }
}

/// What to discover.
public struct PodDiscoverySettings: Sendable {
    /// Namespaces to list and watch.
    public var namespaces: [String]
    /// A Kubernetes label selector (`app in (kustomize-controller, helm-controller)`), empty for all.
    public var labelSelector: String
    /// Only pods with `spec.nodeName` equal to this (the DaemonSet's own node); empty: every node.
    public var nodeName: String
    /// Wait before listing again after an error.
    public var retryInterval: Duration
    /// `timeoutSeconds` of each watch request; the watch is renewed after it.
    public var watchTimeoutSeconds: Int

    public init(
        namespaces: [String] = ["flux-system"], labelSelector: String = "", nodeName: String = "",
        retryInterval: Duration = .seconds(5), watchTimeoutSeconds: Int = 300
    ) {
        self.namespaces = namespaces
        self.labelSelector = labelSelector
        self.nodeName = nodeName
        self.retryInterval = retryInterval
        self.watchTimeoutSeconds = watchTimeoutSeconds
    }
}

/// Kubernetes pod discovery: lists and watches pods in the configured namespaces (label selector,
/// `spec.nodeName` field selector, checked again on the client side) and turns every running pod with
/// `prometheus.io/scrape: "true"` into a target at `prometheus.io/scheme`://podIP:`prometheus.io/port`
/// `prometheus.io/path` (defaults http and /metrics; no port annotation, no target).
public struct KubernetesPodDiscovery: TargetDiscovery {
    let api: KubernetesAPIConfiguration
    let settings: PodDiscoverySettings
    let logger: Logger

    public init(api: KubernetesAPIConfiguration, settings: PodDiscoverySettings, logger: Logger) {
        self.api = api
        self.settings = settings
        var logger = logger
        logger[metadataKey: "component"] = "kubernetes-sd"
        self.logger = logger
    }

    public func run(update: @escaping @Sendable ([ScrapeEndpoint]) -> Void) async throws {
        var configuration = HTTPClient.Configuration(connectTimeout: .seconds(10))
        if api.baseURL.hasPrefix("https"), !api.caPath.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(api.caPath)
            configuration.tls = tls
        }
        let client = HTTPClient(configuration: configuration)
        let state = DiscoveredPods()
        let publish: @Sendable () -> Void = {
            let all = state.pods.withLock { $0.values.flatMap(\.values) }.sorted { $0.id < $1.id }
            update(all)
        }
        await withTaskGroup(of: Void.self) { group in
            for namespace in settings.namespaces {
                group.addTask {
                    await self.follow(namespace: namespace, client: client, state: state, publish: publish)
                }
            }
        }
        await client.shutdown()
    }

    /// List, then watch from the list's resourceVersion; on any end or error, list again.
    func follow(
        namespace: String, client: HTTPClient, state: DiscoveredPods,
        publish: @escaping @Sendable () -> Void
    ) async {
        while !Task.isCancelled {
            do {
                let (pods, resourceVersion) = try await list(namespace: namespace, client: client)
                var targets: [String: ScrapeEndpoint] = [:]
                for pod in pods {
                    if let name = podKey(pod), let target = Self.target(for: pod, nodeName: settings.nodeName) {
                        targets[name] = target
                    }
                }
                state.pods.withLock { $0[namespace] = targets }
                publish()
                try await watch(namespace: namespace, from: resourceVersion, client: client) { type, pod in
                    guard let name = podKey(pod) else { return }
                    let target = type == "DELETED" ? nil : Self.target(for: pod, nodeName: settings.nodeName)
                    let changed = state.pods.withLock { state -> Bool in
                        let before = state[namespace]?[name]
                        state[namespace, default: [:]][name] = target
                        return before != target
                    }
                    if changed { publish() }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning(
                    "Pod discovery failed; retrying",
                    metadata: ["k8s.namespace.name": "\(namespace)", "error": "\(error)"])
                do { try await Task.sleep(for: settings.retryInterval) } catch { return }
            }
        }
    }

    func podKey(_ pod: JSONValue) -> String? {
        guard let name = pod["metadata"]?["name"]?.string else { return nil }
        return name
    }

    func request(path: String, query: [(String, String)]) throws -> HTTPRequest {
        var url = api.baseURL
        while url.hasSuffix("/") { url.removeLast() }
        url += path
        if !query.isEmpty {
            url += "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        if !api.tokenPath.isEmpty, let token = readSmallFile(api.tokenPath) {
            let text = String(decoding: token, as: UTF8.self).trimmingWhitespace
            if !text.isEmpty { headers.add(name: "Authorization", value: "Bearer \(text)") }
        }
        return try HTTPRequest(url: url, headers: headers)
    }

    var selectors: [(String, String)] {
        var query: [(String, String)] = []
        if !settings.labelSelector.isEmpty { query.append(("labelSelector", settings.labelSelector)) }
        if !settings.nodeName.isEmpty { query.append(("fieldSelector", "spec.nodeName=\(settings.nodeName)")) }
        return query
    }

    func list(namespace: String, client: HTTPClient) async throws -> ([JSONValue], String) {
        let request = try request(path: "/api/v1/namespaces/\(namespace)/pods", query: selectors)
        let response = try await client.execute(request, timeout: .seconds(30), maxBodyBytes: 64 << 20)
        guard response.status == .ok else {
            throw ScrapeError(reason: "listing pods: HTTP \(response.status.code)")
        }
        let list = try JSONParser.parse(Array(response.body.readableBytesView))
        let resourceVersion = list["metadata"]?["resourceVersion"]?.string ?? ""
        return (list["items"]?.array ?? [], resourceVersion)
    }

    /// Streams watch events (one JSON object per line) until the server ends the watch.
    func watch(
        namespace: String, from resourceVersion: String, client: HTTPClient,
        event: (String, JSONValue) -> Void
    ) async throws {
        var query = selectors
        query.append(("watch", "1"))
        query.append(("allowWatchBookmarks", "true"))
        query.append(("timeoutSeconds", "\(settings.watchTimeoutSeconds)"))
        if !resourceVersion.isEmpty { query.append(("resourceVersion", resourceVersion)) }
        let request = try request(path: "/api/v1/namespaces/\(namespace)/pods", query: query)
        let response = try await client.stream(request, timeout: .seconds(settings.watchTimeoutSeconds + 30))
        guard response.status == .ok else {
            throw ScrapeError(reason: "watching pods: HTTP \(response.status.code)")
        }
        var line: [UInt8] = []
        for try await buffer in response.body {
            for byte in buffer.readableBytesView {
                if byte != 0x0A {
                    line.append(byte)
                    guard line.count < 16 << 20 else { throw ScrapeError(reason: "watch event too large") }
                    continue
                }
                defer { line.removeAll(keepingCapacity: true) }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { continue }
                let value = try JSONParser.parse(line)
                guard let type = value["type"]?.string, let object = value["object"] else { continue }
                switch type {
                case "ADDED", "MODIFIED", "DELETED": event(type, object)
                case "ERROR":
                    // e.g. 410 Gone: the resourceVersion is too old; list again.
                    throw ScrapeError(reason: "watch error: \(object["message"]?.string ?? "unknown")")
                default: break  // BOOKMARK
                }
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
        let labels = metadata?["labels"]?.stringMap ?? [:]
        let controller = labels["app.kubernetes.io/name"] ?? labels["app"] ?? name
        var resource = [
            KeyValueLabel("k8s.namespace.name", namespace), KeyValueLabel("k8s.pod.name", name),
        ]
        if let uid = metadata?["uid"]?.string { resource.append(KeyValueLabel("k8s.pod.uid", uid)) }
        if let node = pod["spec"]?["nodeName"]?.string { resource.append(KeyValueLabel("k8s.node.name", node)) }
        return try? ScrapeEndpoint(
            url: "\(scheme)://\(host):\(port)\(path)", labels: [KeyValueLabel("controller", controller)],
            resourceAttributes: resource, id: "\(namespace)/\(name)")
    }
}

/// namespace → pod name → target.
final class DiscoveredPods: Sendable {
    let pods = Mutex<[String: [String: ScrapeEndpoint]]>([:])
}

func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex: [Character] = Array("0123456789ABCDEF")
            out.append("%")
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
    return out
}

/// Reads a small file (a token) without Foundation; nil when it cannot be read.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

extension String {
    var trimmingWhitespace: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}

extension KubernetesAPIConfiguration {
    /// The variables discovery reads (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`, `NODE_NAME`)
    /// from this process's environment.
    public static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for name in ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "NODE_NAME"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return environment
    }
}
