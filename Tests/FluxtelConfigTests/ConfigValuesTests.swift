import Testing

@testable import FluxtelConfig

@Suite struct EnvironmentExpansionTests {
    let environment = ["A": "alpha", "B": "beta", "EMPTY": ""]

    @Test(arguments: [
        ("plain text", "plain text"),
        ("${env:A}", "alpha"),
        ("x-${env:A}-y", "x-alpha-y"),
        ("${env:A}${env:B}", "alphabeta"),
        ("${env:A}/${env:B}/${env:A}", "alpha/beta/alpha"),
        ("${env:MISSING:-fallback}", "fallback"),
        ("${env:MISSING:-}", ""),
        ("Bearer ${env:MISSING:-}", "Bearer "),
        ("${env:EMPTY:-used when empty}", "used when empty"),
        ("${env:EMPTY}", ""),
        ("${env:A:-unused}", "alpha"),
        ("${env:MISSING:-http://x:8080/a}", "http://x:8080/a"),
        ("$$", "$"),
        ("$${env:A}", "${env:A}"),
        ("cost: $$5 and ${env:B}", "cost: $5 and beta"),
        ("^gotk_.*$", "^gotk_.*$"),
        ("$5", "$5"),
    ])
    func expands(input: String, expected: String) throws {
        #expect(try expandEnvironment(input, environment: environment) == expected)
    }

    @Test(arguments: [
        ("${env:MISSING}", "environment variable MISSING is not set and has no default (write ${env:MISSING:-value})"),
        ("${env:A", "unterminated '${' in '${env:A'; write ${env:NAME} or ${env:NAME:-default}, or $$ for a literal $"),
        ("${A}", "unsupported expansion '${A}'; write ${env:NAME} or ${env:NAME:-default}, or $$ for a literal $"),
        (
            "${env:1X}",
            "invalid environment variable name '1X' in '${env:1X}' (letters, digits and _, not starting with a digit)"
        ),
    ])
    func rejects(input: String, message: String) {
        #expect(throws: ValueError(message, code: .environment)) {
            try expandEnvironment(input, environment: environment)
        }
    }

    @Test func expandsBeforeTypeConversion() throws {
        let configuration = try #require(
            load(
                "processors:\n  batch: { timeout: \"${env:T:-5s}\", max_items: \"${env:N}\" }\n",
                environment: ["N": "100"]))
        #expect(configuration.processors.batch.timeout == .seconds(5))
        #expect(configuration.processors.batch.maxItems == 100)
    }

    @Test func keysAreNotExpanded() {
        let errors = loadErrors("processors:\n  batch: { \"${env:K:-timeout}\": 1s }\n")
        #expect(errors.map(\.code) == [.unknownKey])
    }
}

@Suite struct DurationAndSizeTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("30s", .seconds(30)),
        ("5m", .seconds(300)),
        ("1h", .seconds(3600)),
        ("1m30s", .seconds(90)),
        ("1h2m3s", .seconds(3723)),
        ("1.5s", .milliseconds(1500)),
        ("0.25h", .seconds(900)),
        ("100us", .microseconds(100)),
        ("100µs", .microseconds(100)),
        ("10ns", .nanoseconds(10)),
        ("2s500ms", .milliseconds(2500)),
        ("0", .zero),
        (" 30s ", .seconds(30)),
    ])
    func parsesDurations(text: String, expected: Duration) {
        #expect(parseDuration(text) == expected)
    }

    @Test(arguments: [
        "", "30", "fast", "s", "30 s", "-5s", "1.s", "5d", "30S", "1m30", "99999999999999999999s", "3000000h",
    ])
    func rejectsDurations(text: String) {
        #expect(parseDuration(text) == nil)
    }

    @Test(arguments: [
        ("1048576", 1 << 20),
        ("0", 0),
        ("512KiB", 512 << 10),
        ("16MiB", 16 << 20),
        ("1GiB", 1 << 30),
        ("16Mi", 16 << 20),
        ("16mib", 16 << 20),
        ("16 MiB", 16 << 20),
        ("500KB", 500_000),
        ("10MB", 10_000_000),
        ("1GB", 1_000_000_000),
        ("1.5KiB", 1536),
        ("100B", 100),
    ])
    func parsesSizes(text: String, expected: Int) {
        #expect(parseSize(text) == expected)
    }

    @Test(arguments: ["", "MiB", "16XB", "16 megs", "-1", "1e6", "16MiB extra", "99999999999999999999"])
    func rejectsSizes(text: String) {
        #expect(parseSize(text) == nil)
    }

    @Test func formatsForMessages() {
        #expect(formatDuration(.seconds(90)) == "90s")
        #expect(formatDuration(.seconds(120)) == "2m")
        #expect(formatDuration(.milliseconds(250)) == "250ms")
        #expect(formatSize(4 << 20) == "4MiB")
        #expect(formatSize(1000) == "1000")
    }

    @Test func valuesFlowIntoTheConfiguration() throws {
        let configuration = try #require(
            load(
                """
                receivers:
                  filelog: { poll_interval: 250ms, max_log_size: 512KiB }
                processors:
                  batch: { max_bytes: 1MB, timeout: 1m30s }
                  queue: { max_bytes: 1GiB }
                exporters:
                  otlp_http:
                    endpoint: https://x
                    retry: { multiplier: 2, max_elapsed_time: 1h, enabled: false }
                """))
        #expect(configuration.receivers.filelog?.pollInterval == .milliseconds(250))
        #expect(configuration.receivers.filelog?.maxLogSize == 512 << 10)
        #expect(configuration.processors.batch.maxBytes == 1_000_000)
        #expect(configuration.processors.batch.timeout == .seconds(90))
        #expect(configuration.processors.queue.maxBytes == 1 << 30)
        #expect(configuration.exporters.otlpHTTP?.retry.multiplier == 2)
        #expect(configuration.exporters.otlpHTTP?.retry.maxElapsedTime == .seconds(3600))
        #expect(configuration.exporters.otlpHTTP?.retry.enabled == false)
    }
}

@Suite struct AddressTests {
    @Test(arguments: [
        "http://x", "https://ingress.eu-west-1.aws.dash0.com", "http://127.0.0.1:8080/metrics", "HTTPS://X:443/a?b=c",
        "http://[::1]:8080/metrics", "http://user:pass@host:1/",
    ])
    func acceptsURLs(url: String) throws {
        _ = try ValueKind<String>.url(allowEmpty: false).parse(url)
    }

    @Test(arguments: [
        ("ftp://x", "invalid URL 'ftp://x': scheme must be http or https"),
        (
            "x.example.com",
            "invalid URL 'x.example.com': expected http://host[:port][/path] or https://host[:port][/path]"
        ),
        ("http://", "invalid URL 'http://': missing host"),
        ("http://x:0", "invalid URL 'http://x:0': port must be from 1 to 65535"),
        ("http://x:http", "invalid URL 'http://x:http': invalid port 'http'"),
        ("http://a b", "invalid URL 'http://a b': contains whitespace"),
        ("", "invalid URL '': expected http://host[:port][/path] or https://host[:port][/path]"),
    ])
    func rejectsURLs(url: String, message: String) {
        #expect(throws: ValueError(message)) { try ValueKind<String>.url(allowEmpty: false).parse(url) }
    }

    @Test(arguments: ["0.0.0.0:4318", "[::]:4318", "localhost:0", "127.0.0.1:65535", "fluxtel.flux-system.svc:8888"])
    func acceptsListenAddresses(address: String) throws {
        _ = try ValueKind<String>.listenAddress(allowEmpty: false).parse(address)
    }

    @Test(arguments: [":4318", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "::1:4318", "[::1]4318", "http://0.0.0.0:4318"])
    func rejectsListenAddresses(address: String) {
        #expect(throws: ValueError.self) { try ValueKind<String>.listenAddress(allowEmpty: false).parse(address) }
    }

    @Test func emptyTelemetryAddressTurnsTheServerOff() throws {
        let configuration = try #require(load("service:\n  telemetry: { address: \"\" }\n"))
        #expect(configuration.service.telemetryAddress == "")
    }
}
