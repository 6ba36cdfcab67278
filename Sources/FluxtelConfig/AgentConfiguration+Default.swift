extension AgentConfiguration {
    /// The Flux defaults that run when no configuration file is given, as YAML so that they go
    /// through the same loader as a user's file (`ConfigLoader.loadDefault(environment:)`).
    /// `config/fluxtel.yaml` spells out every key of it with comments; a test keeps them equivalent.
    public static let embeddedDefaultYAML = """
        receivers:
          prometheus: {}
          filelog: {}
          otlp: { endpoint: "${env:FLUXTEL_OTLP_ENDPOINT:-0.0.0.0:4318}" }
        processors:
          resource:
            attributes:
              k8s.cluster.name: "${env:CLUSTER_NAME:-}"
          batch: { max_items: 8192, max_bytes: 1MiB, timeout: 1s }
          queue:
            max_bytes: 16MiB
            directory: ""
            workers: 2
            sync: batch
            sync_interval: 1s
            full_policy: backpressure
            max_age: 6h
          max_age: 6h
          hold: 2s
        exporters:
          otlp_http:
            endpoint: "${env:DASH0_ENDPOINT:-}"
            headers:
              Authorization: "Bearer ${env:DASH0_AUTH_TOKEN:-}"
              Dash0-Dataset: "${env:DASH0_DATASET:-default}"
        service:
          telemetry:
            address: "${env:FLUXTEL_TELEMETRY_ADDRESS:-0.0.0.0:8888}"
            log_level: "${env:FLUXTEL_LOG_LEVEL:-info}"
            metrics:
              export: auto
              interval: 60s
            logs:
              export: false
          shutdown_timeout: 10s

        """

    /// `embeddedDefaultYAML` with no environment variables set: every receiver with its defaults,
    /// the debug exporter (there is no endpoint), no resource attributes.
    public static var `default`: AgentConfiguration {
        AgentConfiguration(
            receivers: Receivers(prometheus: .init(), filelog: .init(), otlp: .init()),
            exporters: ExportersConfiguration(otlpHTTP: nil, debug: .init(verbosity: .basic), debugIsFallback: true)
        )
    }
}
