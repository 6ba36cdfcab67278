import Testing

@testable import FluxtelConfig

/// An `otlp_http.endpoint` that already ends in a signal path became `…/v1/traces/v1/traces` and every
/// batch got a 404 (issue 16, point 4): `validate` and start-up refuse it, at its line and column, and say
/// what to write instead.
@Suite struct EndpointSuffixTests {
    @Test(arguments: ["traces", "logs", "metrics"])
    func endpointEndingInASignalPathIsRefused(signal: String) {
        for suffix in ["/v1/\(signal)", "/v1/\(signal)/", "/v1/\(signal)?x=1"] {
            let yaml = "exporters:\n  otlp_http:\n    endpoint: https://ingress.example.com\(suffix)\n"
            let errors = loadErrors(yaml)
            #expect(errors.count == 1, "\(suffix)")
            #expect(errors.first?.code == .invalidValue)
            #expect(errors.first?.line == 3 && errors.first?.column == 15)
            let text = errors.first?.description ?? ""
            #expect(text.hasPrefix("fluxtel.yaml:3:15: "), "\(text)")
            #expect(text.contains("already ends in /v1/\(signal)"), "\(text)")
            #expect(text.contains("\(signal)_endpoint"), "\(text)")
        }
    }

    @Test func theSameURLIsFineAsASignalEndpoint() {
        let yaml = """
            exporters:
              otlp_http:
                traces_endpoint: https://ingress.example.com/v1/traces
                endpoint: https://ingress.example.com/otlp
            """
        #expect(loadErrors(yaml).isEmpty)
        #expect(load(yaml)?.exporters.otlpHTTP?.tracesEndpoint == "https://ingress.example.com/v1/traces")
    }

    @Test func aPathThatOnlyLooksAlikeIsFine() {
        #expect(loadErrors("exporters:\n  otlp_http:\n    endpoint: https://example.com/v1/tracesink\n").isEmpty)
        #expect(loadErrors("exporters:\n  otlp_http:\n    endpoint: https://example.com/v1\n").isEmpty)
    }
}
