@testable import FluxtelConfig

/// Loads `yaml` as `fluxtel.yaml` and returns the errors (empty when it loads).
func loadErrors(_ yaml: String, environment: [String: String] = [:]) -> [ConfigError] {
    do {
        _ = try ConfigLoader.load(yaml: yaml, fileName: "fluxtel.yaml", environment: environment)
        return []
    } catch {
        return error.errors
    }
}

/// Loads `yaml` as `fluxtel.yaml`; nil when it has errors.
func load(_ yaml: String, environment: [String: String] = [:]) -> AgentConfiguration? {
    try? ConfigLoader.load(yaml: yaml, fileName: "fluxtel.yaml", environment: environment)
}
