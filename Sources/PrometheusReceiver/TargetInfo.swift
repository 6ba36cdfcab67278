/// Who was scraped: becomes the OTLP resource (`service.name` = job, `service.instance.id` = instance,
/// `server.address`, `server.port`, `url.scheme`) and the extra labels put on every data point.
public struct TargetInfo: Sendable {
    public var job: String
    /// `host:port`.
    public var instance: String
    public var scheme: String
    public var host: String
    public var port: Int
    /// Target labels (static `labels`, or from discovery) added to every data point, after `honor_labels`.
    public var labels: [(name: String, value: String)]
    /// Extra resource attributes (e.g. `k8s.pod.name` from discovery).
    public var resourceAttributes: [(key: String, value: String)]

    public init(
        job: String, instance: String, scheme: String, host: String, port: Int,
        labels: [(name: String, value: String)] = [], resourceAttributes: [(key: String, value: String)] = []
    ) {
        self.job = job
        self.instance = instance
        self.scheme = scheme
        self.host = host
        self.port = port
        self.labels = labels
        self.resourceAttributes = resourceAttributes
    }
}
