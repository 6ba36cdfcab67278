public import FluxtelConfig

/// One endpoint to scrape, static or discovered.
public struct ScrapeEndpoint: Sendable, Hashable {
    /// Stable identity (the URL for static targets, `namespace/pod:port/path` for discovered ones).
    public var id: String
    public var url: String
    public var scheme: String
    public var host: String
    public var port: Int
    /// Labels added to every data point (`job`/`instance`, when given, go to the resource instead).
    public var labels: [KeyValuePair]
    /// Extra resource attributes (`k8s.*` from discovery).
    public var resourceAttributes: [KeyValuePair]

    public init(
        url: String, labels: [KeyValuePair] = [], resourceAttributes: [KeyValuePair] = [], id: String? = nil
    )
        throws(TargetURLError)
    {
        let parts = try Self.split(url)
        self.id = id ?? url
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.host
        self.port = parts.port
        self.labels = labels
        self.resourceAttributes = resourceAttributes
    }

    /// The job: a `job` label, else the Flux `controller` label, else `prometheus`.
    public var job: String {
        labels.first { $0.key == "job" }?.value ?? labels.first { $0.key == "controller" }?.value ?? "prometheus"
    }

    /// `host:port` (IPv6 in brackets), or an explicit `instance` label.
    public var instance: String {
        labels.first { $0.key == "instance" }?.value ?? (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
    }

    var targetInfo: TargetInfo {
        TargetInfo(
            job: job, instance: instance, scheme: scheme, host: host, port: port,
            labels: labels.map { ($0.key, $0.value) },
            resourceAttributes: resourceAttributes.map { ($0.key, $0.value) })
    }

    /// `scheme://host[:port]/path` → scheme, host, port (80/443 by default).
    static func split(_ url: String) throws(TargetURLError) -> (scheme: String, host: String, port: Int) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw TargetURLError(url: url, reason: "missing scheme")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw TargetURLError(url: url, reason: "scheme must be http or https")
        }
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw TargetURLError(url: url, reason: "bad IPv6 host")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") { portText = rest.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw TargetURLError(url: url, reason: "missing host") }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw TargetURLError(url: url, reason: "invalid port")
            }
            port = parsed
        }
        return (scheme, String(host), port)
    }
}

public struct TargetURLError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var reason: String
    public var description: String { "invalid scrape URL '\(url)': \(reason)" }
}
