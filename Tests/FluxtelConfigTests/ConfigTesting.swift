import Testing

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

/// For each case (yaml, line, column, fragment): loading `yaml` gives exactly one error, at that line and
/// column, whose text contains `fragment`.
func expectOneError(
    _ cases: [(String, Int, Int, String)],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for (yaml, line, column, fragment) in cases {
        let errors = loadErrors(yaml)
        #expect(errors.count == 1, "\(yaml): \(errors)", sourceLocation: sourceLocation)
        #expect(errors.first?.line == line, "\(yaml): \(errors)", sourceLocation: sourceLocation)
        #expect(errors.first?.column == column, "\(yaml): \(errors)", sourceLocation: sourceLocation)
        #expect(
            errors.first.map { "\($0)".contains(fragment) } == true, "\(yaml): \(errors)",
            sourceLocation: sourceLocation)
    }
}
