import FluxObjects
import FluxtelConfig
import Kubernetes
import Logging
import Pipeline
import SelfTelemetry

extension Agent {
    /// `receivers.flux_objects` → the source, with its own API client (in-cluster, or `api_server`).
    static func makeFluxObjectsReceiver(
        _ config: FluxObjectsConfiguration, pipeline: Pipeline, logger: Logger
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
            environment: environment, logger: logger, version: FluxtelVersion.string)
    }
}
