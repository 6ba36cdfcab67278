import Testing

@testable import FluxtelConfig

/// One test per class of error; each asserts the whole `file:line:column: message` line.
@Suite struct ConfigErrorTests {
    /// Asserts exactly one error, with its code and printed form.
    private func expectError(
        _ yaml: String, _ code: ConfigError.Code, _ expected: String, environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let errors = loadErrors(yaml, environment: environment)
        #expect(errors.map(\.description) == [expected], sourceLocation: sourceLocation)
        #expect(errors.map(\.code) == [code], sourceLocation: sourceLocation)
    }

    @Test func syntaxErrorFromLibyaml() {
        expectError(
            "processors:\n  batch: { max_items: 10\nservice: {}\n", .syntax,
            "fluxtel.yaml:3:8: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 2, column 10)"
        )
    }

    @Test func badIndentationIsASyntaxError() {
        let errors = loadErrors("processors:\n  batch:\n    timeout: 1s\n   max_items: 3\n")
        #expect(errors.count == 1)
        #expect(errors.first?.code == .syntax)
        #expect(errors.first?.line == 4)
        #expect(errors.first?.column == 4)
    }

    @Test func unknownKey() {
        expectError(
            "processors:\n  batch:\n    max_itmes: 3\n", .unknownKey,
            "fluxtel.yaml:3:5: unknown key 'max_itmes' in processors.batch (known: max_items, max_bytes, timeout)")
    }

    @Test func unknownTopLevelKey() {
        expectError(
            "recievers: {}\n", .unknownKey,
            "fluxtel.yaml:1:1: unknown key 'recievers' at the top level (known: receivers, processors, exporters, service)"
        )
    }

    @Test func mappingWhereASequenceBelongs() {
        expectError(
            "receivers:\n  prometheus:\n    targets: { url: http://x }\n", .wrongType,
            "fluxtel.yaml:3:14: expected a sequence of targets (url, labels), got a mapping")
    }

    @Test func sequenceWhereAMappingBelongs() {
        expectError(
            "processors:\n  queue:\n    - max_bytes: 1MiB\n", .wrongType,
            "fluxtel.yaml:3:5: expected a mapping for processors.queue, got a sequence")
    }

    @Test func mappingWhereAScalarBelongs() {
        expectError(
            "processors:\n  batch:\n    timeout: { seconds: 1 }\n", .wrongType,
            "fluxtel.yaml:3:14: expected a duration like 250ms, 30s, 5m, got a mapping")
    }

    @Test func scalarWhereASequenceBelongs() {
        expectError(
            "receivers:\n  filelog:\n    include: /var/log/*.log\n", .wrongType,
            "fluxtel.yaml:3:14: expected a sequence of strings, got a scalar ('/var/log/*.log')")
    }

    @Test func badDuration() {
        expectError(
            "processors:\n  batch:\n    timeout: fast\n", .invalidValue,
            "fluxtel.yaml:3:14: expected a duration like 250ms, 30s, 5m, got 'fast'")
    }

    @Test func durationWithoutUnit() {
        expectError(
            "service:\n  shutdown_timeout: 30\n", .invalidValue,
            "fluxtel.yaml:2:21: expected a duration like 250ms, 30s, 5m, got '30'")
    }

    @Test func zeroDuration() {
        expectError(
            "processors: { batch: { timeout: 0s } }\n", .invalidValue,
            "fluxtel.yaml:1:33: expected a positive duration, got '0s'")
    }

    @Test func badSize() {
        expectError(
            "processors:\n  queue:\n    max_bytes: 64 megs\n", .invalidValue,
            "fluxtel.yaml:3:16: expected a size like 512KiB, 16MiB, 1GiB or a number of bytes, got '64 megs'")
    }

    @Test func sizeOutOfRange() {
        expectError(
            "receivers:\n  otlp:\n    max_request_body: 2GiB\n", .invalidValue,
            "fluxtel.yaml:3:23: expected a size from 1KiB to 1GiB, got '2GiB'")
    }

    @Test func badInteger() {
        expectError(
            "processors:\n  queue:\n    workers: two\n", .invalidValue,
            "fluxtel.yaml:3:14: expected an integer from 1 to 64, got 'two'")
    }

    @Test func integerOutOfRange() {
        expectError(
            "exporters:\n  otlp_http:\n    endpoint: https://x\n    compression_level: 12\n", .invalidValue,
            "fluxtel.yaml:4:24: expected an integer from 1 to 9, got '12'")
    }

    @Test func badBool() {
        expectError(
            "exporters:\n  otlp_http:\n    endpoint: https://x\n    retry: { enabled: yes }\n", .invalidValue,
            "fluxtel.yaml:4:23: expected true or false, got 'yes'")
    }

    @Test func badEnumValue() {
        expectError(
            "receivers:\n  filelog:\n    format: json\n", .invalidValue,
            "fluxtel.yaml:3:13: expected one of auto, cri, docker, raw, got 'json'")
    }

    @Test func badLogLevel() {
        expectError(
            "service:\n  telemetry:\n    log_level: verbose\n", .invalidValue,
            "fluxtel.yaml:3:16: expected one of trace, debug, info, notice, warning, error, critical, got 'verbose'")
    }

    @Test func badURLScheme() {
        expectError(
            "exporters:\n  otlp_http:\n    endpoint: ftp://x\n", .invalidValue,
            "fluxtel.yaml:3:15: invalid URL 'ftp://x': scheme must be http or https")
    }

    @Test func urlWithoutHost() {
        expectError(
            "receivers:\n  prometheus:\n    targets:\n      - url: http:///metrics\n", .invalidValue,
            "fluxtel.yaml:4:14: invalid URL 'http:///metrics': missing host")
    }

    @Test func badListenAddress() {
        expectError(
            "receivers:\n  otlp:\n    endpoint: 0.0.0.0:99999\n", .invalidValue,
            "fluxtel.yaml:3:15: invalid listen address '0.0.0.0:99999': port must be from 0 to 65535")
    }

    @Test func listenAddressWithoutPort() {
        expectError(
            "service:\n  telemetry:\n    address: localhost\n", .invalidValue,
            "fluxtel.yaml:3:14: invalid listen address 'localhost': missing port; expected host:port like 0.0.0.0:4318")
    }

    @Test func missingEnvironmentVariableWithoutDefault() {
        expectError(
            "exporters:\n  otlp_http:\n    endpoint: \"${env:DASH0_ENDPOINT}\"\n", .environment,
            "fluxtel.yaml:3:15: environment variable DASH0_ENDPOINT is not set and has no default (write ${env:DASH0_ENDPOINT:-value})"
        )
    }

    @Test func unsupportedExpansion() {
        expectError(
            "processors:\n  queue:\n    directory: ${HOME}/queue\n", .environment,
            "fluxtel.yaml:3:16: unsupported expansion '${HOME}'; write ${env:NAME} or ${env:NAME:-default}, or $$ for a literal $"
        )
    }

    @Test func duplicateKey() {
        expectError(
            "processors:\n  batch:\n    timeout: 1s\n    timeout: 2s\n", .duplicateKey,
            "fluxtel.yaml:4:5: duplicate key 'timeout' in processors.batch (first at line 3, column 5)")
    }

    @Test func missingRequiredKey() {
        expectError(
            "receivers:\n  prometheus:\n    targets:\n      - labels: { a: b }\n", .missingKey,
            "fluxtel.yaml:4:9: missing key 'url' in receivers.prometheus.targets[0]")
    }

    @Test func multipleDocuments() {
        expectError(
            "service: {}\n---\nservice: {}\n", .multipleDocuments,
            "fluxtel.yaml:2:1: a second YAML document starts here; a configuration file holds exactly one (remove the '---')"
        )
    }

    @Test func unknownAlias() {
        expectError(
            "processors:\n  batch: *defaults\n", .tooComplex,
            "fluxtel.yaml:2:10: alias *defaults refers to no anchor; define &defaults before using it")
    }

    @Test func missingFile() {
        let errors = ConfigLoader.validate(path: "/nonexistent/fluxtel.yaml", environment: [:])
        #expect(
            errors.map(\.description) == [
                "/nonexistent/fluxtel.yaml: cannot open configuration file: No such file or directory"
            ])
        #expect(errors.map(\.code) == [.unreadableFile])
        #expect(errors.first?.line == 0)
    }

    @Test func directoryInsteadOfFile() {
        let errors = ConfigLoader.validate(path: "/", environment: [:])
        #expect(errors.map(\.description) == ["/: cannot read configuration file: Is a directory"])
    }

    @Test func crossFieldChecks() {
        let errors = loadErrors(
            """
            receivers:
              prometheus: { scrape_interval: 10s, scrape_timeout: 20s }
            processors:
              batch: { max_bytes: 8MiB }
              queue: { max_bytes: 4MiB }
            exporters:
              otlp_http:
                endpoint: https://x
                retry: { initial_interval: 1m, max_interval: 30s }
                tls: { cert_file: /tls/cert.pem }
            """)
        #expect(
            errors.map(\.description) == [
                "fluxtel.yaml:2:55: scrape_timeout (20s) must not exceed scrape_interval (10s)",
                "fluxtel.yaml:5:23: processors.queue.max_bytes (4MiB) must be at least processors.batch.max_bytes (8MiB)",
                "fluxtel.yaml:9:32: initial_interval (1m) must not exceed max_interval (30s)",
                "fluxtel.yaml:10:23: cert_file and key_file go together: set both for a client certificate, or neither",
            ])
    }

    @Test func everyErrorOfAFileIsReported() {
        let yaml = """
            receivers:
              prometheus:
                scrape_interval: fast
                targets:
                  - url: ftp://x
                    labels: { controller: a, "bad-label": x }
              filelog:
                start_at: middle
              otlp: { endpoint: "0.0.0.0:99999", max_request_body: 12XB }
            processors:
              batch:
                max_itmes: 3
                max_items: 0
                timeout: 1s
                timeout: 2s
              queue: [1]
            exporters:
              otlp_http:
                endpoint: ${env:DASH0_ENDPOINT}
                retry: { enabled: yes }
            service:
              telemetry: { log_level: loud }
            """
        let errors = loadErrors(yaml)
        #expect(
            errors.map(\.description) == [
                "fluxtel.yaml:3:22: expected a duration like 250ms, 30s, 5m, got 'fast'",
                "fluxtel.yaml:5:14: invalid URL 'ftp://x': scheme must be http or https",
                "fluxtel.yaml:6:34: invalid label name 'bad-label' (letters, digits and _, not starting with a digit)",
                "fluxtel.yaml:8:15: expected one of beginning, end, got 'middle'",
                "fluxtel.yaml:9:21: invalid listen address '0.0.0.0:99999': port must be from 0 to 65535",
                "fluxtel.yaml:9:56: expected a size like 512KiB, 16MiB, 1GiB or a number of bytes, got '12XB'",
                "fluxtel.yaml:12:5: unknown key 'max_itmes' in processors.batch (known: max_items, max_bytes, timeout)",
                "fluxtel.yaml:13:16: expected an integer from 1 to 1000000, got '0'",
                "fluxtel.yaml:15:5: duplicate key 'timeout' in processors.batch (first at line 14, column 5)",
                "fluxtel.yaml:16:10: expected a mapping for processors.queue, got a sequence",
                "fluxtel.yaml:19:15: environment variable DASH0_ENDPOINT is not set and has no default (write ${env:DASH0_ENDPOINT:-value})",
                "fluxtel.yaml:20:23: expected true or false, got 'yes'",
                "fluxtel.yaml:22:27: expected one of trace, debug, info, notice, warning, error, critical, got 'loud'",
            ])
        let all = ConfigErrors(errors).description
        #expect(all.split(separator: "\n").count == errors.count)
    }

    @Test func errorInAnAliasedNodeIsReportedOnce() {
        let errors = loadErrors(
            """
            receivers:
              prometheus:
                targets:
                  - url: http://a:8080/metrics
                    labels: &common { controller: a, "bad-label": x }
                  - url: http://b:8080/metrics
                    labels: *common
            """)
        #expect(
            errors.map(\.description) == [
                "fluxtel.yaml:5:42: invalid label name 'bad-label' (letters, digits and _, not starting with a digit)"
            ])
    }

    @Test func emptyReceiversIsAnError() {
        expectError(
            "receivers: {}\n", .missingKey,
            "fluxtel.yaml:1:12: no receivers configured; list at least one of prometheus, filelog, otlp (or leave out 'receivers' to run all three)"
        )
    }
}
