import FluxtelTestSupport
import Foundation
import Testing

@testable import PrometheusReceiver

/// The fixture shipped with the tests (a copy of ../shared/fixtures/kustomize-controller.prom).
func fixtureBytes(_ name: String = "kustomize-controller.prom") throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return Array(try Data(contentsOf: url))
}

func parse(_ text: String, _ format: ExpositionFormat = .prometheusText) throws -> Exposition {
    try ExpositionParser.parse(Array(text.utf8), format: format)
}

func parseError(_ text: String, _ format: ExpositionFormat = .prometheusText) -> ExpositionError? {
    do {
        _ = try ExpositionParser.parse(Array(text.utf8), format: format)
        return nil
    } catch {
        return error
    }
}

@Suite struct ExpositionParserTests {
    @Test func kustomizeControllerFixture() throws {
        let exposition = try ExpositionParser.parse(try fixtureBytes())
        #expect(exposition.families.count == 67)
        let histogram = try #require(exposition.family(named: "gotk_reconcile_duration_seconds"))
        #expect(histogram.type == .histogram)
        #expect(
            exposition.string(histogram.help) == "The duration in seconds of a GitOps Toolkit resource reconciliation.")
        let samples = exposition.samples(ofFamily: "gotk_reconcile_duration_seconds")
        #expect(samples.count == 4 * 13)
        let buckets = samples.filter { $0.suffix == .bucket }
        #expect(buckets.count == 44)
        #expect(
            Array(buckets.prefix(11).map(\.bound)) == [
                0.01, 0.038363583488692544, 0.1471764538093883, 0.5646216173286169, 2.166090855590701,
                8.309900738254731, 31.879757075478317, 122.30217221643493, 469.19495946736544, 1799.9999999999986,
                .infinity,
            ])
        let sum = try #require(samples.first { $0.suffix == .sum })
        #expect(sum.value == 72.35523105)
        #expect(
            exposition.labelPairs(of: sum).map { "\($0.name)=\($0.value)" } == [
                "kind=Kustomization", "name=apps", "namespace=flux-system",
            ])
        // Buckets of one series share the series hash of its _sum and _count.
        #expect(buckets.prefix(11).allSatisfy { $0.seriesHash == sum.seriesHash })
        #expect(samples.filter { $0.seriesHash == sum.seriesHash }.count == 13)

        let gomemlimit = try #require(exposition.samples(ofFamily: "go_gc_gomemlimit_bytes").first)
        #expect(gomemlimit.value == 1_073_741_824)
        let summary = exposition.samples(ofFamily: "go_gc_duration_seconds")
        #expect(summary.filter { $0.suffix == .none }.map(\.bound) == [0, 0.25, 0.5, 0.75, 1])
        #expect(exposition.family(named: "go_gc_duration_seconds")?.type == .summary)
        // Every sample of the fixture belongs to a typed family.
        #expect(exposition.families.allSatisfy { $0.typed })
    }

    @Test func labelValueEscapes() throws {
        let exposition = try parse(
            #"""
            m{a="back\\slash",b="q\"uote",c="new\nline",d="plain",e=""} 1
            """#)
        let pairs = exposition.labelPairs(of: exposition.samples[0])
        #expect(pairs.map(\.value) == ["back\\slash", "q\"uote", "new\nline", "plain", ""])
    }

    @Test func helpEscapes() throws {
        let exposition = try parse(
            #"""
            # HELP m Line one\nline two with \\ backslash and \"kept\" quotes
            # TYPE m gauge
            m 1
            """#)
        let family = try #require(exposition.family(named: "m"))
        #expect(exposition.string(family.help) == "Line one\nline two with \\ backslash and \\\"kept\\\" quotes")
    }

    @Test(arguments: [
        ("1", 1.0), ("-1", -1.0), ("+1.5", 1.5), ("1.208354e+06", 1_208_354), ("2.1458744e+07", 21_458_744),
        ("9.999999999999999e-06", 9.999999999999999e-06), ("0.038363583488692544", 0.038363583488692544),
        ("1799.9999999999986", 1799.9999999999986), ("1.7976931348623157e+308", .greatestFiniteMagnitude),
        ("+Inf", .infinity), ("-Inf", -.infinity), ("Inf", .infinity), ("inf", .infinity), ("1E3", 1000),
        (".5", 0.5), ("5.", 5), ("0x1p-2", 0.25), ("12345678901234567890123", 1.2345678901234568e+22),
        ("-0", -0.0), ("0.000102561", 0.000102561),
    ])
    func floatForms(_ text: String, _ expected: Double) throws {
        let exposition = try parse("m \(text)\n")
        #expect(exposition.samples[0].value == expected)
        #expect(exposition.samples[0].value.sign == expected.sign)
    }

    @Test func nanValues() throws {
        for text in ["NaN", "nan", "-NaN"] {
            #expect(try parse("m \(text)").samples[0].value.isNaN)
        }
    }

    @Test func timestamps() throws {
        let exposition = try parse("a 1 1712345678901\nb 2\nc{x=\"y\"} 3 -5\n")
        #expect(exposition.samples.map(\.timestampMs) == [1_712_345_678_901, Int64.min, -5])
        let om = try parse("# TYPE a gauge\na 1 1712345678.901\n# EOF\n", .openMetrics)
        #expect(om.samples[0].timestampMs == 1_712_345_678_901)
    }

    @Test func interleavedFamiliesAndUntyped() throws {
        let exposition = try parse(
            """
            # TYPE a counter
            # TYPE h histogram
            a{x="1"} 1
            h_bucket{le="1"} 2
            b 7
            a{x="2"} 3
            h_bucket{le="+Inf"} 4
            h_count 4
            h_sum 1.5
              # a comment that is not HELP/TYPE

            \tc\t{ l = "v" , }\t9
            """)
        #expect(exposition.families.map(\.name) == ["a", "h", "b", "c"])
        #expect(exposition.samples(ofFamily: "a").map(\.value) == [1, 3])
        #expect(exposition.samples(ofFamily: "h").map(\.suffix) == [.bucket, .bucket, .count, .sum])
        #expect(exposition.family(named: "b")?.type == .untyped)
        #expect(exposition.labelPairs(of: exposition.samples(ofFamily: "c")[0]).map(\.value) == ["v"])
    }

    @Test func metricNamesWithColons() throws {
        let exposition = try parse("# TYPE job:rate:5m gauge\njob:rate:5m{a=\"b\"} 0.5\n")
        #expect(exposition.family(named: "job:rate:5m")?.type == .gauge)
        #expect(exposition.samples.count == 1)
    }

    @Test func seriesHashIsOrderIndependentAndLabelSensitive() throws {
        let exposition = try parse(
            "m{a=\"1\",b=\"2\"} 1\nm{b=\"2\",a=\"1\"} 1\nm{a=\"1\",b=\"3\"} 1\nn{a=\"1\",b=\"2\"} 1\n")
        let hashes = exposition.samples.map(\.seriesHash)
        #expect(hashes[0] == hashes[1])
        #expect(hashes[0] != hashes[2])
        #expect(hashes[0] != hashes[3])
    }

    @Test func openMetricsWithExemplarsCreatedInfoStateset() throws {
        let exposition = try parse(
            """
            # TYPE requests counter
            # UNIT requests requests
            # HELP requests Requests \\"served\\".
            requests_total{path="/"} 10 # {trace_id="0123456789abcdef0123456789abcdef"} 1 1712345678.5
            requests_created{path="/"} 1712340000.25
            # TYPE build info
            build_info{version="1.2"} 1
            # TYPE state stateset
            state{state="a"} 1
            state{state="b"} 0
            # TYPE lat gaugehistogram
            lat_bucket{le="1"} 1
            lat_bucket{le="+Inf"} 2
            lat_gcount 2
            lat_gsum 1.5
            # TYPE h histogram
            h_bucket{le="0.5"} 1 # {span_id="0123456789abcdef"} 0.3
            h_bucket{le="+Inf"} 1
            h_count 1
            h_sum 0.3
            h_created 1712340000
            # EOF
            """, .openMetrics)
        #expect(exposition.families.map(\.type) == [.counter, .info, .stateset, .gaugeHistogram, .histogram])
        #expect(exposition.samples(ofFamily: "requests").map(\.suffix) == [.total, .created])
        let exemplar = exposition.exemplars[0]
        #expect(exemplar.value == 1)
        #expect(exemplar.timestampMs == 1_712_345_678_500)
        #expect(exposition.exemplars.count == 2)
        #expect(exposition.string(exposition.family(named: "requests")!.unit) == "requests")
        #expect(exposition.string(exposition.family(named: "requests")!.help) == "Requests \"served\".")
    }

    @Test func emptyBodyIsAnEmptyScrape() throws {
        #expect(try parse("").samples.isEmpty)
        #expect(try parse("\n\n# just a comment\n").families.isEmpty)
    }

    /// (format, body, line, reason fragment)
    static let malformed: [(ExpositionFormat, String, Int, String)] = [
        (.prometheusText, "ok 1\n{a=\"b\"} 1\n", 2, "expected a metric name"),
        (.prometheusText, "ok 1\nm{a=\"b\" 1\n", 2, "expected ',' or '}'"),
        (.prometheusText, "m{a=\"b\n", 1, "unterminated label value"),
        (.prometheusText, "m{a=\"b\",\n", 1, "unterminated label set"),
        (.prometheusText, "m{a\"b\"} 1\n", 1, "expected '='"),
        (.prometheusText, "m{a=b} 1\n", 1, "expected '\"'"),
        (.prometheusText, "m{1a=\"b\"} 1\n", 1, "invalid label name"),
        (.prometheusText, "m{a=\"\\x\"} 1\n", 1, "invalid escape"),
        (.prometheusText, "m{a=\"1\",a=\"2\"} 1\n", 1, "duplicate label"),
        (.prometheusText, "m\n", 1, "missing value"),
        (.prometheusText, "m{} \n", 1, "missing value"),
        (.prometheusText, "m 1x\n", 1, "invalid value"),
        (.prometheusText, "m 1_000\n", 1, "invalid value"),
        (.prometheusText, "m nan(1)\n", 1, "invalid value"),
        (.prometheusText, "m 1 12.5\n", 1, "invalid timestamp"),
        (.prometheusText, "m 1 99999999999999999999\n", 1, "invalid timestamp"),
        (.prometheusText, "m 1 2 3\n", 1, "unexpected text"),
        (.prometheusText, "m- 1\n", 1, "invalid character"),
        (.prometheusText, "# TYPE m bogus\n", 1, "unknown metric type"),
        (.prometheusText, "# TYPE m counter\n# TYPE m gauge\n", 2, "second TYPE"),
        (.prometheusText, "m 1\n# TYPE m gauge\n", 2, "after its samples"),
        (.prometheusText, "# TYPE 1m gauge\n", 1, "invalid metric name"),
        (.prometheusText, "# TYPE\n", 1, "without a metric name"),
        (.prometheusText, "# TYPE h histogram\nh_bucket 1\n", 2, "without an 'le'"),
        (.prometheusText, "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", 2, "invalid 'le'"),
        (.prometheusText, "# TYPE h histogram\nh 1\n", 2, "does not fit histogram"),
        (.prometheusText, "# TYPE s summary\ns{a=\"b\"} 1\n", 2, "without a 'quantile'"),
        (.prometheusText, "m 1 # {a=\"b\"} 1\n", 1, "unexpected text"),
        (.openMetrics, "# TYPE a gauge\na 1\n", 2, "missing '# EOF'"),
        (.openMetrics, "# TYPE a gauge\na 1\n# EOF\nb 1\n", 4, "after '# EOF'"),
        (.openMetrics, "a 1\n# EOF\n", 1, "no TYPE"),
        (.openMetrics, "# TYPE a counter\na 1\n# EOF\n", 2, "does not fit counter"),
        (.openMetrics, "# TYPE a gauge\n\na 1\n# EOF\n", 2, "empty line"),
        (.openMetrics, "# TYPE a gauge\na 1 # {x=\"y\"} z\n# EOF\n", 2, "invalid exemplar value"),
        (.openMetrics, "# TYPE a gauge\na 1 # x\n# EOF\n", 2, "exemplar"),
    ]

    @Test(arguments: malformed)
    func malformedLines(_ format: ExpositionFormat, _ body: String, _ line: Int, _ reason: String) {
        let error = parseError(body, format)
        #expect(error?.line == line, "\(body)")
        #expect(error?.reason.contains(reason) == true, "\(String(describing: error)) for \(body)")
    }

    @Test func invalidUTF8ByteInLabelValue() {
        var bytes = Array("m{a=\"".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"} 1\n".utf8)
        #expect(throws: ExpositionError.self) { try ExpositionParser.parse(bytes) }
    }

    /// Random damage to the fixture never traps; it either parses or fails with a line inside the body.
    @Test func damagedInputNeverCrashes() throws {
        let original = try fixtureBytes()
        var generator = SeededRandom(seed: 42)
        let alphabet: [UInt8] = Array("{}\"\\=,# \n\t_e+-.0123456789aZ:".utf8) + [0x00, 0xFF, 0xC3]
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 6)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                }
            }
            if generator.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(generator.next() % UInt64(bytes.count)))) }
            for format in [ExpositionFormat.prometheusText, .openMetrics] {
                do {
                    _ = try ExpositionParser.parse(bytes, format: format)
                } catch {
                    #expect(error.line >= 1 && error.line <= 400)
                }
            }
        }
    }
}
