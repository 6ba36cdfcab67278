/// `receivers.flux_objects`: Flux objects and their Kubernetes Events, read from the API server.
public struct FluxObjectsConfiguration: Sendable, Equatable {
    /// `api_server`: base URL of the API; empty (the default) means in-cluster from
    /// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`.
    public var apiServer = ""
    /// `token_path`: service-account token file.
    public var tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    /// `ca_path`: CA bundle of the API server.
    public var caPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    /// `namespaces`: where to list and watch; empty (the default) means all namespaces.
    public var namespaces: [String] = []
    /// `interval`: how often the resource-state metrics are written, default 30 s.
    public var interval: Duration = .seconds(30)
    /// `kinds`: which Flux kinds to watch (`Kustomization`, `HelmRelease`, ...); empty (the default) means every
    /// Flux kind the API server serves.
    public var kinds: [String] = []
    /// `events`: Flux's Kubernetes Events as log records, default true.
    public var events = true
    /// `leader_election`: one writer per cluster.
    public var leaderElection = LeaderElectionConfiguration()
    /// The resource-state metrics: kube-state-metrics CustomResourceState rules. The default is Flux's
    /// documented configuration (`gotk_resource_info`), see `CustomResourceStateMetric.flux`.
    public var resourceMetrics: [CustomResourceStateMetric] = CustomResourceStateMetric.flux

    public init() {}
}

/// `receivers.flux_objects.leader_election`: a `coordination.k8s.io/v1` Lease elects the one agent of a
/// cluster that writes object state and events (client-go's timings).
public struct LeaderElectionConfiguration: Sendable, Equatable {
    /// `enabled`, default true (turn it off when one replica runs).
    public var enabled = true
    /// `lease_name`, default `fluxtel-flux-objects`.
    public var leaseName = "fluxtel-flux-objects"
    /// `lease_namespace`: empty (the default) means the agent's own namespace (`POD_NAMESPACE`, else the
    /// service account's namespace file).
    public var leaseNamespace = ""
    /// `lease_duration`, default 15 s.
    public var leaseDuration: Duration = .seconds(15)
    /// `renew_deadline`, default 10 s.
    public var renewDeadline: Duration = .seconds(10)
    /// `retry_period`, default 2 s.
    public var retryPeriod: Duration = .seconds(2)

    public init() {}
}

/// One kube-state-metrics CustomResourceState metric of type `Info` (value 1): for every object of the kind,
/// one series whose labels are read from the object along paths.
///
/// Paths follow kube-state-metrics: a step is a map key, a list index (`"0"`, negative from the end) or a
/// selector `"[type=Ready]"` (the first list element whose field equals the value).
public struct CustomResourceStateMetric: Sendable, Equatable {
    public struct Label: Sendable, Equatable {
        public var name: String
        public var path: [String]
        public init(_ name: String, _ path: [String]) {
            self.name = name
            self.path = path
        }
    }

    /// `groupVersionKind`. The version is what the configuration names; the agent watches the version the
    /// API server serves and writes that one into `customresource_version`.
    public var group: String
    public var version: String
    public var kind: String
    /// `metricNamePrefix` + `_` + `name`.
    public var name: String
    public var help: String
    /// `each.info.labelsFromPath`: when all of them come out empty, the object has no series.
    public var objectLabels: [Label]
    /// The metric's `labelsFromPath`: a missing value gives no label, not an empty one.
    public var labels: [Label]

    public init(
        group: String, version: String, kind: String, name: String, help: String, objectLabels: [Label],
        labels: [Label]
    ) {
        self.group = group
        self.version = version
        self.kind = kind
        self.name = name
        self.help = help
        self.objectLabels = objectLabels
        self.labels = labels
    }

    /// Flux's documented kube-state-metrics configuration (flux2-monitoring-example
    /// `monitoring/controllers/kube-prometheus-stack/kube-state-metrics-config.yaml`, commit 7ab65dc8),
    /// rule for rule; `FluxObjectsTests` checks it against that file.
    public static let flux: [CustomResourceStateMetric] = [
        gotk(
            "kustomize.toolkit.fluxcd.io", "v1", "Kustomization", ready: true,
            [
                .init("revision", ["status", "lastAppliedRevision"]),
                .init("source_name", ["spec", "sourceRef", "name"]),
            ]),
        gotk(
            "helm.toolkit.fluxcd.io", "v2", "HelmRelease", ready: true,
            [
                .init("revision", ["status", "history", "0", "chartVersion"]),
                .init("chart_name", ["status", "history", "0", "chartName"]),
                .init("chart_app_version", ["status", "history", "0", "appVersion"]),
                .init("chart_ref_name", ["spec", "chartRef", "name"]),
                .init("chart_source_name", ["spec", "chart", "spec", "sourceRef", "name"]),
            ]),
        source("GitRepository", [.init("url", ["spec", "url"])]),
        source("Bucket", [.init("endpoint", ["spec", "endpoint"]), .init("bucket_name", ["spec", "bucketName"])]),
        source("HelmRepository", [.init("url", ["spec", "url"])]),
        source("HelmChart", [.init("chart_name", ["spec", "chart"]), .init("chart_version", ["spec", "version"])]),
        source("OCIRepository", [.init("url", ["spec", "url"])]),
        gotk(
            "notification.toolkit.fluxcd.io", "v1beta3", "Alert", ready: false,
            []),
        gotk(
            "notification.toolkit.fluxcd.io", "v1beta3", "Provider", ready: false,
            []),
        gotk(
            "notification.toolkit.fluxcd.io", "v1", "Receiver", ready: true,
            [.init("webhook_path", ["status", "webhookPath"])]),
        gotk(
            "image.toolkit.fluxcd.io", "v1", "ImageRepository", ready: true,
            [.init("image", ["spec", "image"])]),
        gotk(
            "image.toolkit.fluxcd.io", "v1", "ImagePolicy", ready: true,
            [.init("source_name", ["spec", "imageRepositoryRef", "name"])]),
        gotk(
            "image.toolkit.fluxcd.io", "v1", "ImageUpdateAutomation", ready: true,
            [.init("source_name", ["spec", "sourceRef", "name"])]),
    ]

    /// One `gotk_resource_info` rule of Flux's configuration: `name` from `metadata.name`; every kind has
    /// `exported_namespace` and `suspended`, all but Alert and Provider `ready`; then its own labels.
    static func gotk(
        _ group: String, _ version: String, _ kind: String, ready: Bool, _ labels: [Label]
    )
        -> CustomResourceStateMetric
    {
        var common: [Label] = [.init("exported_namespace", ["metadata", "namespace"])]
        if ready { common.append(.init("ready", ["status", "conditions", "[type=Ready]", "status"])) }
        common.append(.init("suspended", ["spec", "suspend"]))
        return CustomResourceStateMetric(
            group: group, version: version, kind: kind, name: "gotk_resource_info",
            help: "The current state of a Flux \(kind) resource.", objectLabels: [.init("name", ["metadata", "name"])],
            labels: common + labels)
    }

    /// The rule of a `source.toolkit.fluxcd.io/v1` kind: its artifact's revision, then its own labels.
    static func source(_ kind: String, _ labels: [Label]) -> CustomResourceStateMetric {
        gotk(
            "source.toolkit.fluxcd.io", "v1", kind, ready: true,
            [.init("revision", ["status", "artifact", "revision"])] + labels)
    }

}
