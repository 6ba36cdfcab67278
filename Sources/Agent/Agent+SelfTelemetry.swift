import FluxtelConfig
import Kubernetes
import Logging
import Pipeline
import PrometheusReceiver
import SelfTelemetry

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Agent {
    /// `service.telemetry.metrics`: the agent's own metrics through its own pipeline, or nil when
    /// `export` is false, or `auto` and no exporter has an endpoint.
    static func makeAgentMetricsReceiver(
        _ configuration: AgentConfiguration, metrics: AgentMetrics, pipeline: Pipeline, logger: Logger
    ) -> AgentMetricsReceiver? {
        let service = configuration.service
        switch service.metricsExport {
        case .off: return nil
        case .on: break
        case .auto:
            guard let endpoint = configuration.exporters.otlpHTTP?.endpoint, !endpoint.isEmpty else { return nil }
        }
        let environment = KubernetesEndpoint.processEnvironment()
        return AgentMetricsReceiver(
            render: { metrics.render() }, interval: service.metricsInterval, pipeline: pipeline,
            instance: environment["POD_NAME"] ?? hostName(), resourceAttributes: selfResource(environment),
            version: FluxtelVersion.string, logger: logger)
    }

    /// `service.telemetry.logs.export`: the agent's warnings and errors into its own pipeline as well.
    static func forwardOwnLogs(_ configuration: AgentConfiguration, pipeline: Pipeline) {
        guard configuration.service.logsExport else { return }
        let environment = KubernetesEndpoint.processEnvironment()
        AgentLogForwarder.shared.install(
            resourceAttributes: [("service.instance.id", environment["POD_NAME"] ?? hostName())]
                + selfResource(environment),
            version: FluxtelVersion.string,
            sink: { _ = pipeline.offer(TelemetryChunk(signal: .logs, bytes: $0, itemCount: 1)) })
    }

    /// The pod's identity from the downward API (the shipped manifests set these variables), for the
    /// resource of the agent's own metrics and logs.
    static func selfResource(_ environment: [String: String]) -> [(key: String, value: String)] {
        [("k8s.pod.name", "POD_NAME"), ("k8s.namespace.name", "POD_NAMESPACE"), ("k8s.node.name", "NODE_NAME")]
            .compactMap { key, variable in environment[variable].flatMap { $0.isEmpty ? nil : (key, $0) } }
    }

    /// The host name (outside Kubernetes, the agent's `service.instance.id`).
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "fluxtel" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
