import FileLogReceiver
import FluxObjects
import FluxtelConfig
import Kubernetes
import Logging
import OTLPWire
import Pipeline
import Processors
import SelfTelemetry

extension Agent {
    /// `receivers.flux_objects` → the source, with its own API client (in-cluster, or `api_server`).
    static func makeFluxObjectsReceiver(
        _ config: FluxObjectsConfiguration, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger,
        correlation: FluxCorrelation? = nil
    ) throws -> FluxObjectsReceiver {
        let environment = KubernetesEndpoint.processEnvironment()
        let endpoint: KubernetesEndpoint
        do {
            endpoint = try KubernetesEndpoint.resolve(
                apiServer: config.apiServer, tokenPath: config.tokenPath, caPath: config.caPath,
                environment: environment)
        } catch {
            throw AgentError(message: "receivers.flux_objects: \(error)")
        }
        return FluxObjectsReceiver(
            config: config, client: KubernetesClient(endpoint: endpoint), sink: { try await pipeline.submit($0) },
            environment: environment, logger: logger, version: FluxtelVersion.string, correlation: correlation,
            onLeadershipChange: { [leader = metrics.fluxObjectsLeader()] in leader.set(Int64($0 ? 1 : 0)) })
    }

    /// The tailer's trace-id lookup (issue 18, part 1), answered by the correlation the Flux object source feeds.
    static func traceLookup(_ correlation: FluxCorrelation) -> FluxTraceLookup {
        { kind, namespace, name, revision, message in
            correlation.line(kind: kind, namespace: namespace, name: name, revision: revision, message: message)
        }
    }

    /// `processors.hold`'s question (issue 18, part 3): does a trace chunk carry a Flux span whose reconcile
    /// duration is not known yet? Logs and metrics never wait.
    static func holdPredicate(_ correlation: FluxCorrelation) -> HoldPredicate {
        { signal, bytes in signal == .traces && correlation.awaitsDuration(bytes) }
    }

    /// The pipeline's enrich step: `processors.resource`, and with the Flux object source the span tree
    /// (issue 18, part 2) on trace chunks. nil when there is nothing to do.
    static func enricher(resource: ResourceAttributes, correlation: FluxCorrelation?) -> ChunkEnricher? {
        switch (resource.isEmpty, correlation) {
        case (true, nil): return nil
        case (false, nil): return { try resource.enrich($0, $1) }
        case (let noResource, let correlation?):
            return { signal, bytes in
                let placed = signal == .traces ? correlation.rewriteSpans(bytes) ?? bytes : bytes
                return noResource ? placed : try resource.enrich(signal, placed)
            }
        }
    }
}
