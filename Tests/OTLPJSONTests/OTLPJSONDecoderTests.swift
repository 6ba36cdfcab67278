import OTLPJSON
import OTLPWire
import Testing

// MARK: helpers

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Decodes a trace request and checks that `decodeRequest` gives the model's protobuf encoding.
private func traces(_ json: String) throws -> OTLP.ExportTraceServiceRequest {
    let model = try OTLPJSON.decodeTraceRequest(json: bytes(json))
    #expect(try OTLPJSON.decodeRequest(signal: .traces, json: bytes(json)) == model.serializedBytes())
    return model
}

/// The single span of `{"resourceSpans":[{"scopeSpans":[{"spans":[{<fields>}]}]}]}`.
private func span(_ fields: String) throws -> OTLP.Span {
    let r = try traces(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"# + fields + "}]}]}]}")
    return try #require(r.resourceSpans.first?.scopeSpans.first?.spans.first)
}

/// The single attribute value of a span with `"attributes":[{"key":"k","value":<value>}]`.
private func attribute(_ value: String) throws -> OTLP.AnyValue? {
    try span(#""attributes":[{"key":"k","value":"# + value + "}]").attributes.first?.value
}

/// The error for `json` (nil if it decodes).
private func failure(_ json: String, _ signal: Signal = .traces, limits: OTLPJSON.Limits = .default) -> OTLPJSONError? {
    do {
        _ = try OTLPJSON.decodeRequest(signal: signal, json: bytes(json), limits: limits)
        return nil
    } catch {
        return error
    }
}

private func spanFailure(_ fields: String) -> OTLPJSONError? {
    failure(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"# + fields + "}]}]}]}")
}

private func metrics(_ json: String) throws -> OTLP.ExportMetricsServiceRequest {
    let model = try OTLPJSON.decodeMetricsRequest(json: bytes(json))
    #expect(try OTLPJSON.decodeRequest(signal: .metrics, json: bytes(json)) == model.serializedBytes())
    return model
}

private func dataPoint(_ fields: String) throws -> OTLP.NumberDataPoint {
    let m = try metrics(
        #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"# + fields + "}]}}]}]}]}")
    guard case .gauge(let g)? = m.resourceMetrics.first?.scopeMetrics.first?.metrics.first?.data else {
        Issue.record("no gauge")
        return OTLP.NumberDataPoint()
    }
    return try #require(g.dataPoints.first)
}

// MARK: fields

@Suite("OTLP/JSON request decoding: fields and spellings")
struct OTLPJSONFieldTests {
    static let camel = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],
         "droppedAttributesCount":1,"entityRefs":[{"schemaUrl":"u","type":"service","idKeys":["a"],"descriptionKeys":["b"]}]},
         "scopeSpans":[{"scope":{"name":"s","version":"1","attributes":[],"droppedAttributesCount":2},
          "spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a0a1a2a3a4a5a6a7","traceState":"k=v",
           "parentSpanId":"ffffffffffffffff","flags":769,"name":"op","kind":2,"startTimeUnixNano":"1786528442000000001",
           "endTimeUnixNano":18446744073709551615,"attributes":[{"key":"i","value":{"intValue":"-42"}}],
           "droppedAttributesCount":3,"events":[{"timeUnixNano":"5","name":"e","attributes":[],"droppedAttributesCount":4}],
           "droppedEventsCount":5,"links":[{"traceId":"09090909090909090909090909090909","spanId":"0808080808080808",
            "traceState":"x","attributes":[],"droppedAttributesCount":6,"flags":256}],"droppedLinksCount":7,
           "status":{"message":"m","code":2}}],"schemaUrl":"scope-schema"}],"schemaUrl":"res-schema"}]}
        """
    static let snake = """
        {"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"svc"}}],
         "dropped_attributes_count":1,"entity_refs":[{"schema_url":"u","type":"service","id_keys":["a"],"description_keys":["b"]}]},
         "scope_spans":[{"scope":{"name":"s","version":"1","attributes":[],"dropped_attributes_count":2},
          "spans":[{"trace_id":"0102030405060708090A0B0C0D0E0F10","span_id":"A0A1A2A3A4A5A6A7","trace_state":"k=v",
           "parent_span_id":"FFFFFFFFFFFFFFFF","flags":"769","name":"op","kind":"SPAN_KIND_SERVER","start_time_unix_nano":1786528442000000001,
           "end_time_unix_nano":"18446744073709551615","attributes":[{"key":"i","value":{"int_value":-42}}],
           "dropped_attributes_count":3,"events":[{"time_unix_nano":5,"name":"e","attributes":[],"dropped_attributes_count":4}],
           "dropped_events_count":5,"links":[{"trace_id":"09090909090909090909090909090909","span_id":"0808080808080808",
            "trace_state":"x","attributes":[],"dropped_attributes_count":6,"flags":256}],"dropped_links_count":7,
           "status":{"message":"m","code":"STATUS_CODE_ERROR"}}],"schema_url":"scope-schema"}],"schema_url":"res-schema"}]}
        """

    @Test("every trace field, in lowerCamelCase and in proto names, gives the same request")
    func everyTraceField() throws {
        let a = try traces(Self.camel)
        let b = try traces(Self.snake)
        #expect(a == b)
        let rs = try #require(a.resourceSpans.first)
        #expect(rs.schemaURL == "res-schema")
        #expect(rs.resource?.attributes == [OTLP.KeyValue("service.name", "svc")])
        #expect(rs.resource?.droppedAttributesCount == 1)
        #expect(
            rs.resource?.entityRefs == [
                OTLP.EntityRef(schemaURL: "u", type: "service", idKeys: ["a"], descriptionKeys: ["b"])
            ])
        let ss = try #require(rs.scopeSpans.first)
        #expect(ss.scope == OTLP.InstrumentationScope(name: "s", version: "1", droppedAttributesCount: 2))
        #expect(ss.schemaURL == "scope-schema")
        let expected = OTLP.Span(
            traceID: Array(1...16), spanID: Array(0xA0...0xA7), traceState: "k=v",
            parentSpanID: Array(repeating: 0xFF, count: 8),
            flags: 0x301, name: "op", kind: .server, startTimeUnixNano: 1_786_528_442_000_000_001,
            endTimeUnixNano: .max,
            attributes: [OTLP.KeyValue(key: "i", value: .int(-42))], droppedAttributesCount: 3,
            events: [OTLP.Span.Event(timeUnixNano: 5, name: "e", droppedAttributesCount: 4)], droppedEventsCount: 5,
            links: [
                OTLP.Span.Link(
                    traceID: Array(repeating: 9, count: 16), spanID: Array(repeating: 8, count: 8), traceState: "x",
                    droppedAttributesCount: 6, flags: 0x100)
            ],
            droppedLinksCount: 7, status: OTLP.Status(message: "m", code: .error))
        #expect(ss.spans == [expected])
    }

    @Test("every log record field, both spellings")
    func everyLogField() throws {
        let camel = """
            {"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","observedTimeUnixNano":2,
             "severityNumber":"SEVERITY_NUMBER_INFO","severityText":"info","body":{"stringValue":"hi"},
             "attributes":[{"key":"a","value":{"boolValue":true}}],"droppedAttributesCount":3,"flags":1,
             "traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a0a1a2a3a4a5a6a7","eventName":"ev"}]}]}]}
            """
        let snake = """
            {"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":1,"observed_time_unix_nano":"2",
             "severity_number":9,"severity_text":"info","body":{"string_value":"hi"},
             "attributes":[{"key":"a","value":{"bool_value":true}}],"dropped_attributes_count":3,"flags":1,
             "trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"a0a1a2a3a4a5a6a7","event_name":"ev"}]}]}]}
            """
        let a = try OTLPJSON.decodeLogsRequest(json: bytes(camel))
        #expect(try OTLPJSON.decodeLogsRequest(json: bytes(snake)) == a)
        let expected = OTLP.LogRecord(
            timeUnixNano: 1, observedTimeUnixNano: 2, severityNumber: .info, severityText: "info", body: .string("hi"),
            attributes: [OTLP.KeyValue(key: "a", value: .bool(true))], droppedAttributesCount: 3, flags: 1,
            traceID: Array(1...16), spanID: Array(0xA0...0xA7), eventName: "ev")
        #expect(a.resourceLogs.first?.scopeLogs.first?.logRecords == [expected])
        #expect(try OTLPJSON.decodeRequest(signal: .logs, json: bytes(camel)) == a.serializedBytes())
    }

    @Test("metrics: every data kind, temporality by name and number, oneof value members")
    func metricKinds() throws {
        let json = """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[
             {"name":"g","description":"d","unit":"1","metadata":[{"key":"m","value":{"intValue":1}}],
              "gauge":{"dataPoints":[{"asInt":"7","timeUnixNano":"3","startTimeUnixNano":2,"flags":1,
               "exemplars":[{"asDouble":0.5,"timeUnixNano":4,"spanId":"0102030405060708","traceId":"0102030405060708090a0b0c0d0e0f10",
                "filteredAttributes":[{"key":"f","value":{"stringValue":"v"}}]}]}]}},
             {"name":"s","sum":{"dataPoints":[{"asDouble":1.5}],"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","isMonotonic":true}},
             {"name":"h","histogram":{"aggregation_temporality":1,"data_points":[{"count":"10","sum":2.5,"bucketCounts":["1",2,"7"],
              "explicitBounds":[0.5,"1.5"],"min":0,"max":"Infinity"}]}},
             {"name":"e","exponentialHistogram":{"dataPoints":[{"count":3,"scale":-3,"zeroCount":"1","zeroThreshold":1e-9,
              "positive":{"offset":-5,"bucketCounts":[1,"2"]},"negative":{"bucket_counts":[]}}]}},
             {"name":"q","summary":{"dataPoints":[{"count":2,"sum":3,"quantileValues":[{"quantile":0.5,"value":1},{}]}]}}
            ]}]}]}
            """
        let m = try metrics(json)
        let list = try #require(m.resourceMetrics.first?.scopeMetrics.first?.metrics)
        #expect(list.count == 5)
        #expect(list[0].metadata == [OTLP.KeyValue(key: "m", value: .int(1))])
        guard case .gauge(let g)? = list[0].data, let p = g.dataPoints.first else {
            Issue.record("gauge")
            return
        }
        #expect(p.value == .int(7) && p.timeUnixNano == 3 && p.startTimeUnixNano == 2 && p.flags == 1)
        #expect(p.exemplars.first?.value == .double(0.5))
        #expect(p.exemplars.first?.spanID == Array(1...8))
        guard case .sum(let s)? = list[1].data else {
            Issue.record("sum")
            return
        }
        #expect(s.aggregationTemporality == .cumulative && s.isMonotonic && s.dataPoints.first?.value == .double(1.5))
        guard case .histogram(let h)? = list[2].data, let hp = h.dataPoints.first else {
            Issue.record("histogram")
            return
        }
        #expect(h.aggregationTemporality == .delta)
        #expect(hp.count == 10 && hp.sum == 2.5 && hp.bucketCounts == [1, 2, 7] && hp.explicitBounds == [0.5, 1.5])
        #expect(hp.min == 0 && hp.max == .infinity)
        guard case .exponentialHistogram(let e)? = list[3].data, let ep = e.dataPoints.first else {
            Issue.record("exp")
            return
        }
        #expect(ep.scale == -3 && ep.zeroCount == 1 && ep.zeroThreshold == 1e-9 && ep.sum == nil)
        #expect(ep.positive == OTLP.ExponentialHistogramDataPoint.Buckets(offset: -5, bucketCounts: [1, 2]))
        #expect(ep.negative == OTLP.ExponentialHistogramDataPoint.Buckets())
        guard case .summary(let q)? = list[4].data, let qp = q.dataPoints.first else {
            Issue.record("summary")
            return
        }
        #expect(qp.quantileValues == [.init(quantile: 0.5, value: 1), .init()])
    }

    @Test("enums by name, by number, and by number in a string")
    func enums() throws {
        #expect(try span(#""kind":"SPAN_KIND_CONSUMER""#).kind == .consumer)
        #expect(try span(#""kind":5"#).kind == .consumer)
        #expect(try span(#""kind":"5""#).kind == .consumer)
        #expect(try span(#""kind":42"#).kind.rawValue == 42)  // open enums keep unknown numbers
        #expect(try span(#""status":{"code":"STATUS_CODE_OK"}"#).status?.code == .ok)
        #expect(try span(#""status":{"code":1}"#).status?.code == .ok)
        let e = try #require(spanFailure(#""kind":"SPAN_KIND_SOMETHING""#))
        #expect(e.reason.contains("unknown SpanKind value"))
        #expect(spanFailure(#""kind":true"#) != nil)
    }

    @Test("64-bit integers as strings and numbers, exponents when integral")
    func integers() throws {
        #expect(try span(#""startTimeUnixNano":"18446744073709551615""#).startTimeUnixNano == .max)
        #expect(try span(#""startTimeUnixNano":18446744073709551615"#).startTimeUnixNano == .max)
        #expect(try span(#""startTimeUnixNano":1e18"#).startTimeUnixNano == 1_000_000_000_000_000_000)
        #expect(try span(#""startTimeUnixNano":"1.5e1""#).startTimeUnixNano == 15)
        #expect(try span(#""startTimeUnixNano":2.0"#).startTimeUnixNano == 2)
        #expect(try span(#""startTimeUnixNano":-0"#).startTimeUnixNano == 0)
        #expect(try attribute(#"{"intValue":"-9223372036854775808"}"#) == .int(.min))
        #expect(try attribute(#"{"intValue":-9223372036854775808}"#) == .int(.min))
        #expect(try attribute(#"{"intValue":9223372036854775807}"#) == .int(.max))

        #expect(spanFailure(#""startTimeUnixNano":18446744073709551616"#)?.reason == "integer out of range")
        #expect(spanFailure(#""startTimeUnixNano":1.5"#)?.reason == "not an integer")
        #expect(spanFailure(#""startTimeUnixNano":-1"#)?.reason == "negative value for an unsigned field")
        #expect(spanFailure(#""startTimeUnixNano":" 1""#)?.reason == "not a number")
        #expect(spanFailure(#""startTimeUnixNano":"0x10""#)?.reason == "not a number")
        #expect(spanFailure(#""startTimeUnixNano":1e999999999999"#)?.reason == "integer out of range")
        #expect(spanFailure(#""droppedAttributesCount":4294967296"#) != nil)
        #expect(spanFailure(#""attributes":[{"key":"k","value":{"intValue":"9223372036854775808"}}]"#) != nil)
        #expect(spanFailure(#""startTimeUnixNano":01"#) != nil)
    }

    @Test("trace and span ids are hex, either case; wrong length or digits are errors")
    func hexIDs() throws {
        #expect(
            try span(#""traceId":"ABCDEF0123456789abcdef0123456789""#).traceID == [
                0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x01, 0x23, 0x45, 0x67, 0x89,
            ])
        #expect(try span(#""traceId":"","spanId":null"#).traceID == [])
        let short = try #require(spanFailure(#""traceId":"AQIDBAUGBwgJCgsMDQ4PEA==""#))  // base64 is not accepted
        #expect(short.reason.contains("expected 32 hex digits"))
        let bad = try #require(spanFailure(#""spanId":"a0a1a2a3a4a5a6zz""#))
        #expect(bad.reason == "invalid hex digit in an id")
        #expect(bad.path == "resourceSpans[0].scopeSpans[0].spans[0].spanId")
        let prefix = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"a0a1a2a3a4a5a6"#
        #expect(bad.offset == prefix.utf8.count)
    }

    @Test("bytesValue is base64: standard or URL-safe alphabet, padding optional")
    func base64() throws {
        #expect(try attribute(#"{"bytesValue":"AAH+/w=="}"#) == .bytes([0x00, 0x01, 0xFE, 0xFF]))
        #expect(try attribute(#"{"bytesValue":"AAH-_w"}"#) == .bytes([0x00, 0x01, 0xFE, 0xFF]))
        #expect(try attribute(#"{"bytesValue":"aGVsbG8="}"#) == .bytes(Array("hello".utf8)))
        #expect(try attribute(#"{"bytesValue":""}"#) == .bytes([]))
        #expect(
            spanFailure(#""attributes":[{"key":"k","value":{"bytesValue":"AAH*"}}]"#)?.reason
                == "invalid base64 character")
        #expect(spanFailure(#""attributes":[{"key":"k","value":{"bytesValue":"A"}}]"#) != nil)
        #expect(spanFailure(#""attributes":[{"key":"k","value":{"bytesValue":"AA==="}}]"#) != nil)
    }

    @Test("doubles: numbers, numeric strings, NaN, Infinity, -Infinity, -0.0 kept")
    func doubles() throws {
        #expect(try dataPoint(#""asDouble":2.5"#).value == .double(2.5))
        #expect(try dataPoint(#""asDouble":"2.5""#).value == .double(2.5))
        #expect(try dataPoint(#""asDouble":"Infinity""#).value == .double(.infinity))
        #expect(try dataPoint(#""asDouble":"-Infinity""#).value == .double(-.infinity))
        guard case .double(let nan)? = try dataPoint(#""asDouble":"NaN""#).value else {
            Issue.record("NaN")
            return
        }
        #expect(nan.isNaN)
        guard case .double(let z)? = try dataPoint(#""asDouble":-0.0"#).value else {
            Issue.record("-0")
            return
        }
        #expect(z.bitPattern == (-0.0 as Double).bitPattern)
        // Correct rounding, fast path and slow path.
        #expect(try dataPoint(#""asDouble":0.1"#).value == .double(0.1))
        #expect(try dataPoint(#""asDouble":1.7976931348623157e308"#).value == .double(.greatestFiniteMagnitude))
        #expect(try dataPoint(#""asDouble":4.9406564584124654e-324"#).value == .double(.leastNonzeroMagnitude))
        #expect(
            try dataPoint(#""asDouble":123456789012345678901234567890"#).value
                == .double(123456789012345678901234567890.0))
        #expect(try dataPoint(#""asDouble":3.141592653589793238"#).value == .double(3.141592653589793))

        let pre = #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"#
        let post = "}]}}]}]}]}"
        #expect(failure(pre + #""asDouble":1e400"# + post, .metrics)?.reason == "number out of range for a double")
        #expect(failure(pre + #""asDouble":"nan""# + post, .metrics) != nil)
        #expect(failure(pre + #""asDouble":NaN"# + post, .metrics) != nil)
        #expect(failure(pre + #""asDouble":"1e400""# + post, .metrics) != nil)
        #expect(failure(pre + #""asDouble":.5"# + post, .metrics) != nil)
        #expect(
            failure(pre + #""asDouble":1.5,"asInt":1"# + post, .metrics)?.reason
                == "more than one member of oneof 'value' is set")
    }

    @Test("AnyValue: every member, empty, absent, nested, oneof conflict")
    func anyValues() throws {
        #expect(try attribute(#"{"stringValue":"s"}"#) == .string("s"))
        #expect(try attribute(#"{"boolValue":false}"#) == .bool(false))
        #expect(try attribute(#"{"doubleValue":1}"#) == .double(1))
        #expect(try attribute(#"{"stringValueStrindex":5}"#) == .stringIndex(5))
        #expect(try attribute(#"{}"#) == .empty)
        #expect(try attribute(#"{"stringValue":null}"#) == .empty)
        #expect(try attribute(#"null"#) == nil)
        #expect(try attribute(#"{"arrayValue":{}}"#) == .array([]))
        #expect(
            try attribute(#"{"arrayValue":{"values":[{"intValue":"1"},{},{"kvlistValue":{"values":[{"key":"x"}]}}]}}"#)
                == .array([.int(1), .empty, .kvlist([OTLP.KeyValue(key: "x", value: nil)])]))
        #expect(
            try span(#""attributes":[{"keyStrindex":3,"value":{"stringValue":"by index"}}]"#).attributes
                == [OTLP.KeyValue(key: "", value: .string("by index"), keyIndex: 3)])
        let e = try #require(spanFailure(#""attributes":[{"key":"k","value":{"stringValue":"s","intValue":1}}]"#))
        #expect(e.reason == "more than one member of oneof 'value' is set")
        #expect(e.path == "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue")
        // The same member twice: the last one wins.
        #expect(try attribute(#"{"stringValue":"a","stringValue":"b"}"#) == .string("b"))
    }

    @Test("metric data oneof: a second kind is an error")
    func metricOneof() {
        let json = #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{},"sum":{}}]}]}]}"#
        #expect(failure(json, .metrics)?.reason == "more than one member of oneof 'data' is set")
    }

    @Test("strings: escapes, surrogate pairs, raw UTF-8")
    func strings() throws {
        #expect(
            try span(#""name":"a\"b\\c\/d\b\f\n\r\t\u0000\u00e9\u20AC\ud83d\ude00 ✓""#).name
                == "a\"b\\c/d\u{8}\u{C}\n\r\t\u{0}é€😀 ✓")
        #expect(try span(#""name":"\uD83D\uDE00""#).name == "😀")
        #expect(spanFailure(#""name":"\ud83d""#)?.reason.contains("unpaired high surrogate") == true)
        #expect(spanFailure(#""name":"\ud83dx""#)?.reason.contains("unpaired high surrogate") == true)
        #expect(spanFailure(#""name":"\ude00""#)?.reason.contains("unpaired low surrogate") == true)
        #expect(spanFailure(#""name":"\ud83d\u0041""#)?.reason == "high surrogate not followed by a low surrogate")
        #expect(spanFailure(#""name":"\x""#)?.reason == "invalid escape sequence in a string")
        #expect(spanFailure(#""name":"\u12G4""#)?.reason == "invalid \\u escape")
        #expect(spanFailure("\"name\":\"tab\there\"")?.reason.contains("control character") == true)
        // Escaped keys work (and are matched after unescaping).
        #expect(try span(#""n\u0061me":"x""#).name == "x")
    }

    @Test("null leaves defaults; unknown fields are skipped; repeated keys: last wins")
    func nullsUnknownsDuplicates() throws {
        let s = try span(#""name":null,"kind":null,"attributes":null,"status":null,"startTimeUnixNano":null"#)
        #expect(s == OTLP.Span())
        let u = try span(#""future":{"a":[1,{"b":null}],"c":"\u00e9"},"name":"x","alsoNew":[true,false,-1.5e3]"#)
        #expect(u.name == "x")
        let d = try span(#""name":"a","attributes":[{"key":"1"}],"name":"b","attributes":[{"key":"2"}]"#)
        #expect(d.name == "b")
        #expect(d.attributes == [OTLP.KeyValue(key: "2", value: nil)])
        #expect(try traces("{}") == OTLP.ExportTraceServiceRequest())
        #expect(try traces(#" {"resourceSpans":[]} "#) == OTLP.ExportTraceServiceRequest())
        #expect(spanFailure(#""attributes":[null]"#)?.reason == "null is not allowed in a repeated field")
        // Unknown fields must still be valid JSON.
        #expect(spanFailure(#""future":[1,]"#) != nil)
        #expect(spanFailure(#""future":tru"#) != nil)
    }
}

// MARK: errors and hostile input

@Suite("OTLP/JSON errors and hostile input")
struct OTLPJSONErrorTests {
    @Test("a wrong type names the JSON path and the byte offset")
    func pathAndOffset() throws {
        let json = #"{"resourceSpans":[{"scopeSpans":[{"spans":[{},{},{},{"startTimeUnixNano":true}]}]}]}"#
        let e = try #require(failure(json))
        #expect(e.path == "resourceSpans[0].scopeSpans[0].spans[3].startTimeUnixNano")
        #expect(e.reason == "expected a string or number, found a boolean")
        #expect(e.offset == json.utf8.count - "true}]}]}]}".utf8.count)
        #expect(
            e.description.hasPrefix(
                "resourceSpans[0].scopeSpans[0].spans[3].startTimeUnixNano: expected a string or number"))
        #expect(e.description.hasSuffix("(at byte \(e.offset))"))
        // Snake-case keys appear as written.
        let s = try #require(failure(#"{"resource_spans":[{"scope_spans":{}}]}"#))
        #expect(s.path == "resource_spans[0].scope_spans")
        #expect(s.reason == "expected an array, found an object")
    }

    @Test("syntax errors: empty, top level not an object, trailing data, truncation, missing commas, BOM")
    func syntax() throws {
        #expect(failure("")?.reason == "unexpected end of input, expected a JSON object (the export request)")
        #expect(failure("   ")?.offset == 3)
        #expect(failure("[]") != nil)
        #expect(failure("null") != nil)
        #expect(failure("{} {}")?.reason == "unexpected data after the JSON value")
        #expect(failure("{}x")?.offset == 2)
        #expect(failure(#"{"resourceSpans":[] "x":1}"#)?.reason == "expected ',' or '}', found a string")
        #expect(failure(#"{"resourceSpans":[{} {}]}"#) != nil)
        #expect(failure(#"{"resourceSpans":[],}"#) != nil)
        #expect(failure(#"{resourceSpans:[]}"#) != nil)
        #expect(failure("\u{FEFF}{}") != nil)
        #expect(failure(#"{"name" "x"}"#)?.reason == "expected ':', found a string")
        #expect(failure(#"{"a":nul}"#)?.reason == "invalid literal")
        #expect(failure(#"{"a":"unterminated}"#)?.reason == "unterminated string")
    }

    @Test("every truncation of a valid request is an error, never a crash")
    func truncations() throws {
        let full = Array(OTLPJSONFieldTests.camel.utf8)
        _ = try OTLPJSON.decodeRequest(signal: .traces, json: full)
        for n in 0..<full.count {
            #expect(throws: OTLPJSONError.self) { try OTLPJSON.decodeRequest(signal: .traces, json: Array(full[..<n])) }
        }
    }

    @Test("invalid UTF-8 in strings and keys is rejected at its offset")
    func invalidUTF8() throws {
        for bad: [UInt8] in [
            [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80],
        ] {
            let prefix = Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"ok"#.utf8)
            let json = prefix + bad + Array(#""}]}]}]}"#.utf8)
            do {
                _ = try OTLPJSON.decodeRequest(signal: .traces, json: json)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.reason.hasPrefix("invalid UTF-8"))
                #expect(error.offset == prefix.count)
            }
            let key = Array(#"{"x"#.utf8) + bad + Array(#"":1}"#.utf8)
            #expect(throws: OTLPJSONError.self) { try OTLPJSON.decodeRequest(signal: .traces, json: key) }
        }
    }

    @Test("a depth bomb of 10,000 nested arrays (and AnyValues) is an error, not a stack overflow")
    func depthBomb() throws {
        let arrays =
            #"{"resourceSpans":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(failure(arrays) != nil)
        let unknown = #"{"x":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(failure(unknown)?.reason == "nested deeper than 88 levels")
        let objects =
            #"{"x":"# + String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_001)
        #expect(failure(objects)?.reason == "nested deeper than 88 levels")
        var value = #"{"stringValue":"leaf"}"#
        for _ in 0..<5_000 { value = #"{"arrayValue":{"values":["# + value + "]}}" }
        let anyValues = #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"# + value + "}]}]}]}"
        #expect(failure(anyValues, .logs)?.reason == "nested deeper than 88 levels")
        // Unclosed: also fine.
        #expect(failure(String(repeating: "[", count: 100_000)) != nil)
        #expect(failure(#"{"x":"# + String(repeating: "[", count: 100_000)) != nil)
    }

    @Test(
        "whatever nesting the JSON depth limit lets through, the protobuf walker's depth limit accepts too",
        arguments: ["kvlist", "array"])
    func depthLimitsAgree(kind: String) throws {
        func nest(_ k: Int) -> String {
            var value = #"{"intValue":1}"#
            for _ in 0..<k {
                value =
                    kind == "kvlist"
                    ? #"{"kvlistValue":{"values":[{"key":"k","value":"# + value + "}]}}"
                    : #"{"arrayValue":{"values":["# + value + "]}}"
            }
            return value
        }
        // The deepest places an AnyValue can sit in each signal.
        let shapes: [(Signal, (String) -> String)] = [
            (.logs, { #"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"# + $0 + "}]}]}]}" }),
            (
                .traces,
                {
                    #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"links":[{"attributes":[{"key":"a","value":"# + $0
                        + "}]}]}]}]}]}"
                }
            ),
            (
                .metrics,
                {
                    #"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"exemplars":[{"filteredAttributes":[{"key":"a","value":"#
                        + $0 + "}]}]}]}}]}]}]}"
                }
            ),
        ]
        for (signal, wrap) in shapes {
            var k = 0
            while let body = try? OTLPJSON.decodeRequest(signal: signal, json: bytes(wrap(nest(k)))) {
                #expect(throws: Never.self, "\(signal), \(kind) nested \(k) deep") {
                    try OTLPWalker.countItems(signal: signal, body: body)
                }
                k += 1
            }
            #expect(k > 10, "\(signal): only \(k) levels")
        }
    }

    @Test("limits: input size and decoded-model budget")
    func limits() throws {
        let small = OTLPJSON.Limits(maxDepth: 128, maxInputBytes: 10, maxModelBytes: 1 << 20)
        #expect(failure(#"{"resourceSpans":[]}"#, limits: small)?.reason == "JSON body larger than 10 bytes")
        // 100,000 empty spans: 3 bytes of JSON each, far more as model values.
        let spans = Array(repeating: "{}", count: 100_000).joined(separator: ",")
        let json = #"{"resourceSpans":[{"scopeSpans":[{"spans":["# + spans + "]}]}]}"
        let tight = OTLPJSON.Limits(maxDepth: 128, maxInputBytes: 1 << 30, maxModelBytes: 1 << 20)
        #expect(failure(json, limits: tight)?.reason.hasPrefix("request too large once decoded") == true)
        // The default budget (16 × input + 1 MiB) stops such a flood of empty objects too...
        #expect(failure(json)?.reason.hasPrefix("request too large once decoded") == true)
        // ...while real spans, of any number, stay far below it.
        let real = Array(
            repeating:
                #"{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"a0a1a2a3a4a5a6a7","name":"s","startTimeUnixNano":"1"}"#,
            count: 20_000
        ).joined(separator: ",")
        let body = try OTLPJSON.decodeRequest(
            signal: .traces, json: bytes(#"{"resourceSpans":[{"scopeSpans":[{"spans":["# + real + "]}]}]}"))
        #expect(try OTLPWalker.countItems(signal: .traces, body: body) == 20_000)
    }

    @Test("the wrong signal's request is an empty request (unknown fields), as for protobuf")
    func wrongSignal() throws {
        #expect(try OTLPJSON.decodeRequest(signal: .logs, json: bytes(#"{"resourceSpans":[{}]}"#)) == [])
    }
}

// MARK: responses

@Suite("OTLP/JSON responses and status")
struct OTLPJSONResponseTests {
    private func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    @Test("export responses use the signal's partial-success field names")
    func responses() {
        #expect(text(OTLPJSON.encodeResponse(OTLP.ExportServiceResponse(), signal: .traces)) == "{}")
        let p = OTLP.ExportServiceResponse(
            partialSuccess: OTLP.PartialSuccess(rejected: 3, errorMessage: "bad \"id\"\n"))
        #expect(
            text(OTLPJSON.encodeResponse(p, signal: .traces))
                == #"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad \"id\"\n"}}"#)
        #expect(text(OTLPJSON.encodeResponse(p, signal: .logs)).contains(#""rejectedLogRecords":"3""#))
        #expect(text(OTLPJSON.encodeResponse(p, signal: .metrics)).contains(#""rejectedDataPoints":"3""#))
        let empty = OTLP.ExportServiceResponse(partialSuccess: OTLP.PartialSuccess())
        #expect(text(OTLPJSON.encodeResponse(empty, signal: .metrics)) == #"{"partialSuccess":{}}"#)
        let onlyMessage = OTLP.ExportServiceResponse(partialSuccess: OTLP.PartialSuccess(errorMessage: "m"))
        #expect(
            text(OTLPJSON.encodeResponse(onlyMessage, signal: .logs)) == #"{"partialSuccess":{"errorMessage":"m"}}"#)
    }

    @Test("google.rpc.Status as JSON, control characters escaped")
    func status() {
        #expect(text(OTLPJSON.encodeStatus(code: 3, message: "bad")) == #"{"code":3,"message":"bad"}"#)
        #expect(text(OTLPJSON.encodeStatus(code: 8, message: "")) == #"{"code":8}"#)
        #expect(
            text(OTLPJSON.encodeStatus(code: 3, message: "a\u{1}\\b\tü")) == #"{"code":3,"message":"a\u0001\\b\tü"}"#)
    }

    @Test("an error description round-trips through a JSON status into our own parser")
    func statusParses() throws {
        let e = try #require(failure(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"\ud800"}]}]}]}"#))
        let status = OTLPJSON.encodeStatus(code: 3, message: e.description)
        // A status is not a request, but it must be valid JSON: unknown fields are skipped.
        #expect(try OTLPJSON.decodeRequest(signal: .traces, json: status) == [])
    }
}
