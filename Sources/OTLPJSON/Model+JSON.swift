// OTLP/JSON → `OTLP.*` model, message by message. Field names: the lowerCamelCase JSON name and the
// original proto name are both accepted (as protobuf's JSON parsers do); unknown fields are skipped
// (OTLP/JSON receivers MUST ignore them); `null` leaves a field at its default; a second member of
// a oneof is an error; a repeated key replaces the earlier value (last wins).
// Source: opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding".

public import OTLPWire

/// A model message decodable from a JSON object, one member at a time.
protocol JSONMessage {
    init()
    /// Decodes the value of member `key`; returns false (value not consumed) for unknown keys.
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool
}

extension JSONReader {
    /// A message, or nil for `null`.
    @inline(__always)
    mutating func message<M: JSONMessage>(_: M.Type = M.self) throws(OTLPJSONError) -> M? {
        if try consumeNull() { return nil }
        try charge(MemoryLayout<M>.stride)
        var m = M()
        try object { (r, key) throws(OTLPJSONError) in
            if try !m.decodeMember(key, &r) { try r.skipValue() }
        }
        return m
    }

    /// A repeated message field (`null` is the empty list; `null` elements are errors).
    mutating func messages<M: JSONMessage>(_: M.Type = M.self) throws(OTLPJSONError) -> [M] {
        if try consumeNull() { return [] }
        var out: [M] = []
        try array { (r, _) throws(OTLPJSONError) in
            guard let m = try r.message(M.self) else { throw r.error("null is not allowed in a repeated field") }
            out.append(m)
        }
        return out
    }

    func oneofConflict(_ oneof: String) -> OTLPJSONError {
        error("more than one member of oneof '\(oneof)' is set")
    }
}

// MARK: enum names

let spanKindNames: [StaticString] = [
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
]
let statusCodeNames: [StaticString] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]
let severityNumberNames: [StaticString] = [
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE", "SEVERITY_NUMBER_TRACE2", "SEVERITY_NUMBER_TRACE3", "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG", "SEVERITY_NUMBER_DEBUG2", "SEVERITY_NUMBER_DEBUG3", "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO", "SEVERITY_NUMBER_INFO2", "SEVERITY_NUMBER_INFO3", "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN", "SEVERITY_NUMBER_WARN2", "SEVERITY_NUMBER_WARN3", "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR", "SEVERITY_NUMBER_ERROR2", "SEVERITY_NUMBER_ERROR3", "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL", "SEVERITY_NUMBER_FATAL2", "SEVERITY_NUMBER_FATAL3", "SEVERITY_NUMBER_FATAL4",
]
let aggregationTemporalityNames: [StaticString] = [
    "AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE",
]

// MARK: common

extension OTLP.AnyValue: JSONMessage {
    /// The oneof member number (0: none).
    var member: Int {
        switch self {
        case .empty: 0
        case .string: 1
        case .bool: 2
        case .int: 3
        case .double: 4
        case .array: 5
        case .kvlist: 6
        case .bytes: 7
        case .stringIndex: 8
        }
    }

    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        let member: Int
        if key.matches("stringValue", "string_value") {
            member = 1
        } else if key.matches("boolValue", "bool_value") {
            member = 2
        } else if key.matches("intValue", "int_value") {
            member = 3
        } else if key.matches("doubleValue", "double_value") {
            member = 4
        } else if key.matches("arrayValue", "array_value") {
            member = 5
        } else if key.matches("kvlistValue", "kvlist_value") {
            member = 6
        } else if key.matches("bytesValue", "bytes_value") {
            member = 7
        } else if key.matches("stringValueStrindex", "string_value_strindex") {
            member = 8
        } else {
            return false
        }
        if try r.consumeNull() { return true }
        if self.member != 0 && self.member != member { throw r.oneofConflict("value") }
        switch member {
        case 1: self = .string(try r.string())
        case 2: self = .bool(try r.bool())
        case 3: self = .int(try r.int64())
        case 4: self = .double(try r.double())
        case 5: self = .array(try r.message(ArrayValueJSON.self)?.values ?? [])
        case 6: self = .kvlist(try r.message(KeyValueListJSON.self)?.values ?? [])
        case 7: self = .bytes(try r.base64())
        default: self = .stringIndex(try r.int32())
        }
        return true
    }
}

/// `ArrayValue { repeated AnyValue values = 1; }`
struct ArrayValueJSON: JSONMessage {
    var values: [OTLP.AnyValue] = []
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("values") else { return false }
        values = try r.messages()
        return true
    }
}

/// `KeyValueList { repeated KeyValue values = 1; }`
struct KeyValueListJSON: JSONMessage {
    var values: [OTLP.KeyValue] = []
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("values") else { return false }
        values = try r.messages()
        return true
    }
}

extension OTLP.KeyValue: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("key") {
            self.key = try r.string()
        } else if key.matches("value") {
            value = try r.message()
        } else if key.matches("keyStrindex", "key_strindex") {
            keyIndex = try r.int32()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.InstrumentationScope: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("name") {
            name = try r.string()
        } else if key.matches("version") {
            version = try r.string()
        } else if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("droppedAttributesCount", "dropped_attributes_count") {
            droppedAttributesCount = try r.uint32()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.EntityRef: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else if key.matches("type") {
            type = try r.string()
        } else if key.matches("idKeys", "id_keys") {
            idKeys = try r.strings()
        } else if key.matches("descriptionKeys", "description_keys") {
            descriptionKeys = try r.strings()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Resource: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("droppedAttributesCount", "dropped_attributes_count") {
            droppedAttributesCount = try r.uint32()
        } else if key.matches("entityRefs", "entity_refs") {
            entityRefs = try r.messages()
        } else {
            return false
        }
        return true
    }
}

// MARK: traces

extension OTLP.ExportTraceServiceRequest: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("resourceSpans", "resource_spans") else { return false }
        resourceSpans = try r.messages()
        return true
    }
}

extension OTLP.ResourceSpans: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("resource") {
            resource = try r.message()
        } else if key.matches("scopeSpans", "scope_spans") {
            scopeSpans = try r.messages()
        } else if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.ScopeSpans: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("scope") {
            scope = try r.message()
        } else if key.matches("spans") {
            spans = try r.messages()
        } else if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Span: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("traceId", "trace_id") {
            traceID = try r.hexID(byteCount: 16)
        } else if key.matches("spanId", "span_id") {
            spanID = try r.hexID(byteCount: 8)
        } else if key.matches("traceState", "trace_state") {
            traceState = try r.string()
        } else if key.matches("parentSpanId", "parent_span_id") {
            parentSpanID = try r.hexID(byteCount: 8)
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else if key.matches("name") {
            name = try r.string()
        } else if key.matches("kind") {
            kind = Kind(rawValue: try r.enumValue(spanKindNames, "SpanKind"))
        } else if key.matches("startTimeUnixNano", "start_time_unix_nano") {
            startTimeUnixNano = try r.uint64()
        } else if key.matches("endTimeUnixNano", "end_time_unix_nano") {
            endTimeUnixNano = try r.uint64()
        } else if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("droppedAttributesCount", "dropped_attributes_count") {
            droppedAttributesCount = try r.uint32()
        } else if key.matches("events") {
            events = try r.messages()
        } else if key.matches("droppedEventsCount", "dropped_events_count") {
            droppedEventsCount = try r.uint32()
        } else if key.matches("links") {
            links = try r.messages()
        } else if key.matches("droppedLinksCount", "dropped_links_count") {
            droppedLinksCount = try r.uint32()
        } else if key.matches("status") {
            status = try r.message()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Span.Event: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("name") {
            name = try r.string()
        } else if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("droppedAttributesCount", "dropped_attributes_count") {
            droppedAttributesCount = try r.uint32()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Span.Link: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("traceId", "trace_id") {
            traceID = try r.hexID(byteCount: 16)
        } else if key.matches("spanId", "span_id") {
            spanID = try r.hexID(byteCount: 8)
        } else if key.matches("traceState", "trace_state") {
            traceState = try r.string()
        } else if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("droppedAttributesCount", "dropped_attributes_count") {
            droppedAttributesCount = try r.uint32()
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Status: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("message") {
            message = try r.string()
        } else if key.matches("code") {
            code = Code(rawValue: try r.enumValue(statusCodeNames, "StatusCode"))
        } else {
            return false
        }
        return true
    }
}

// MARK: logs

extension OTLP.ExportLogsServiceRequest: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("resourceLogs", "resource_logs") else { return false }
        resourceLogs = try r.messages()
        return true
    }
}

extension OTLP.ResourceLogs: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("resource") {
            resource = try r.message()
        } else if key.matches("scopeLogs", "scope_logs") {
            scopeLogs = try r.messages()
        } else if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.ScopeLogs: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("scope") {
            scope = try r.message()
        } else if key.matches("logRecords", "log_records") {
            logRecords = try r.messages()
        } else if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.LogRecord: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("observedTimeUnixNano", "observed_time_unix_nano") {
            observedTimeUnixNano = try r.uint64()
        } else if key.matches("severityNumber", "severity_number") {
            severityNumber = OTLP.SeverityNumber(rawValue: try r.enumValue(severityNumberNames, "SeverityNumber"))
        } else if key.matches("severityText", "severity_text") {
            severityText = try r.string()
        } else if key.matches("body") {
            body = try r.message()
        } else if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("droppedAttributesCount", "dropped_attributes_count") {
            droppedAttributesCount = try r.uint32()
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else if key.matches("traceId", "trace_id") {
            traceID = try r.hexID(byteCount: 16)
        } else if key.matches("spanId", "span_id") {
            spanID = try r.hexID(byteCount: 8)
        } else if key.matches("eventName", "event_name") {
            eventName = try r.string()
        } else {
            return false
        }
        return true
    }
}

// MARK: metrics

extension OTLP.ExportMetricsServiceRequest: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("resourceMetrics", "resource_metrics") else { return false }
        resourceMetrics = try r.messages()
        return true
    }
}

extension OTLP.ResourceMetrics: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("resource") {
            resource = try r.message()
        } else if key.matches("scopeMetrics", "scope_metrics") {
            scopeMetrics = try r.messages()
        } else if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.ScopeMetrics: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("scope") {
            scope = try r.message()
        } else if key.matches("metrics") {
            metrics = try r.messages()
        } else if key.matches("schemaUrl", "schema_url") {
            schemaURL = try r.string()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.MetricData {
    var member: Int {
        switch self {
        case .gauge: 5
        case .sum: 7
        case .histogram: 9
        case .exponentialHistogram: 10
        case .summary: 11
        }
    }
}

extension OTLP.Metric: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("name") {
            name = try r.string()
        } else if key.matches("description") {
            description = try r.string()
        } else if key.matches("unit") {
            unit = try r.string()
        } else if key.matches("metadata") {
            metadata = try r.messages()
        } else {
            let member: Int
            if key.matches("gauge") {
                member = 5
            } else if key.matches("sum") {
                member = 7
            } else if key.matches("histogram") {
                member = 9
            } else if key.matches("exponentialHistogram", "exponential_histogram") {
                member = 10
            } else if key.matches("summary") {
                member = 11
            } else {
                return false
            }
            if try r.consumeNull() { return true }
            if let data, data.member != member { throw r.oneofConflict("data") }
            switch member {
            case 5: data = .gauge(try r.message() ?? .init())
            case 7: data = .sum(try r.message() ?? .init())
            case 9: data = .histogram(try r.message() ?? .init())
            case 10: data = .exponentialHistogram(try r.message() ?? .init())
            default: data = .summary(try r.message() ?? .init())
            }
        }
        return true
    }
}

extension OTLP.Gauge: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("dataPoints", "data_points") else { return false }
        dataPoints = try r.messages()
        return true
    }
}

extension OTLP.Sum: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("dataPoints", "data_points") {
            dataPoints = try r.messages()
        } else if key.matches("aggregationTemporality", "aggregation_temporality") {
            aggregationTemporality = .init(
                rawValue: try r.enumValue(aggregationTemporalityNames, "AggregationTemporality"))
        } else if key.matches("isMonotonic", "is_monotonic") {
            isMonotonic = try r.bool()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Histogram: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("dataPoints", "data_points") {
            dataPoints = try r.messages()
        } else if key.matches("aggregationTemporality", "aggregation_temporality") {
            aggregationTemporality = .init(
                rawValue: try r.enumValue(aggregationTemporalityNames, "AggregationTemporality"))
        } else {
            return false
        }
        return true
    }
}

extension OTLP.ExponentialHistogram: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("dataPoints", "data_points") {
            dataPoints = try r.messages()
        } else if key.matches("aggregationTemporality", "aggregation_temporality") {
            aggregationTemporality = .init(
                rawValue: try r.enumValue(aggregationTemporalityNames, "AggregationTemporality"))
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Summary: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        guard key.matches("dataPoints", "data_points") else { return false }
        dataPoints = try r.messages()
        return true
    }
}

extension JSONReader {
    /// One member of the `as_double` / `as_int` oneof of data points and exemplars.
    mutating func numberValue(
        _ key: JSONKey, into value: inout OTLP.NumberValue?
    ) throws(OTLPJSONError) -> Bool {
        let isDouble: Bool
        if key.matches("asDouble", "as_double") {
            isDouble = true
        } else if key.matches("asInt", "as_int") {
            isDouble = false
        } else {
            return false
        }
        if try consumeNull() { return true }
        switch value {
        case .double?: if !isDouble { throw oneofConflict("value") }
        case .int?: if isDouble { throw oneofConflict("value") }
        case nil: break
        }
        value = isDouble ? .double(try double()) : .int(try int64())
        return true
    }
}

extension OTLP.NumberDataPoint: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("startTimeUnixNano", "start_time_unix_nano") {
            startTimeUnixNano = try r.uint64()
        } else if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("exemplars") {
            exemplars = try r.messages()
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else {
            return try r.numberValue(key, into: &value)
        }
        return true
    }
}

extension OTLP.HistogramDataPoint: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("startTimeUnixNano", "start_time_unix_nano") {
            startTimeUnixNano = try r.uint64()
        } else if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("count") {
            count = try r.uint64()
        } else if key.matches("sum") {
            sum = try r.optionalDouble()
        } else if key.matches("bucketCounts", "bucket_counts") {
            bucketCounts = try r.uint64s()
        } else if key.matches("explicitBounds", "explicit_bounds") {
            explicitBounds = try r.doubles()
        } else if key.matches("exemplars") {
            exemplars = try r.messages()
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else if key.matches("min") {
            min = try r.optionalDouble()
        } else if key.matches("max") {
            max = try r.optionalDouble()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.ExponentialHistogramDataPoint: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("startTimeUnixNano", "start_time_unix_nano") {
            startTimeUnixNano = try r.uint64()
        } else if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("count") {
            count = try r.uint64()
        } else if key.matches("sum") {
            sum = try r.optionalDouble()
        } else if key.matches("scale") {
            scale = try r.int32()
        } else if key.matches("zeroCount", "zero_count") {
            zeroCount = try r.uint64()
        } else if key.matches("positive") {
            positive = try r.message()
        } else if key.matches("negative") {
            negative = try r.message()
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else if key.matches("exemplars") {
            exemplars = try r.messages()
        } else if key.matches("min") {
            min = try r.optionalDouble()
        } else if key.matches("max") {
            max = try r.optionalDouble()
        } else if key.matches("zeroThreshold", "zero_threshold") {
            zeroThreshold = try r.double()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.ExponentialHistogramDataPoint.Buckets: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("offset") {
            offset = try r.int32()
        } else if key.matches("bucketCounts", "bucket_counts") {
            bucketCounts = try r.uint64s()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.SummaryDataPoint: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("attributes") {
            attributes = try r.messages()
        } else if key.matches("startTimeUnixNano", "start_time_unix_nano") {
            startTimeUnixNano = try r.uint64()
        } else if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("count") {
            count = try r.uint64()
        } else if key.matches("sum") {
            sum = try r.double()
        } else if key.matches("quantileValues", "quantile_values") {
            quantileValues = try r.messages()
        } else if key.matches("flags") {
            flags = try r.uint32()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.SummaryDataPoint.ValueAtQuantile: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("quantile") {
            quantile = try r.double()
        } else if key.matches("value") {
            value = try r.double()
        } else {
            return false
        }
        return true
    }
}

extension OTLP.Exemplar: JSONMessage {
    mutating func decodeMember(_ key: JSONKey, _ r: inout JSONReader) throws(OTLPJSONError) -> Bool {
        if key.matches("filteredAttributes", "filtered_attributes") {
            filteredAttributes = try r.messages()
        } else if key.matches("timeUnixNano", "time_unix_nano") {
            timeUnixNano = try r.uint64()
        } else if key.matches("spanId", "span_id") {
            spanID = try r.hexID(byteCount: 8)
        } else if key.matches("traceId", "trace_id") {
            traceID = try r.hexID(byteCount: 16)
        } else {
            return try r.numberValue(key, into: &value)
        }
        return true
    }
}
