// A compact description of the OTLP message schema, used to validate encoded requests without
// materialising them: every known field must carry its schema's wire type, strings must be UTF-8,
// embedded messages are validated recursively (depth-limited), unknown fields are skipped.
// Field numbers as in Model/*.swift (opentelemetry-proto 1.45.2).

enum OTLPMessageKind: Sendable {
    case traceRequest, logsRequest, metricsRequest
    case resourceSpans, scopeSpans, span, spanEvent, spanLink, status
    case resourceLogs, scopeLogs, logRecord
    case resourceMetrics, scopeMetrics, metric, gauge, sum, histogram, expHistogram, summary
    case numberDataPoint, histogramDataPoint, expHistogramDataPoint, buckets, summaryDataPoint, valueAtQuantile,
        exemplar
    case resource, scope, entityRef, keyValue, anyValue, arrayValue, keyValueList

    /// Counted as one item by `OTLPWalker`: spans, log records, metric data points.
    var isItem: Bool {
        switch self {
        case .span, .logRecord, .numberDataPoint, .histogramDataPoint, .expHistogramDataPoint, .summaryDataPoint: true
        default: false
        }
    }
}

enum OTLPFieldSpec: Sendable {
    case varint, fixed32, fixed64, string, bytes
    /// Repeated fixed64/double: packed (LEN) or not (I64).
    case repeatedFixed64
    /// Repeated varint: packed (LEN) or not (VARINT).
    case repeatedVarint
    case message(OTLPMessageKind)
}

extension OTLPMessageKind {
    // swift-format-ignore
    func field(_ n: UInt32) -> OTLPFieldSpec? {
        switch self {
        case .traceRequest: return n == 1 ? .message(.resourceSpans) : nil
        case .logsRequest: return n == 1 ? .message(.resourceLogs) : nil
        case .metricsRequest: return n == 1 ? .message(.resourceMetrics) : nil
        case .resourceSpans, .resourceLogs, .resourceMetrics:
            switch n {
            case 1: return .message(.resource)
            case 2: return .message(self == .resourceSpans ? .scopeSpans : self == .resourceLogs ? .scopeLogs : .scopeMetrics)
            case 3: return .string
            default: return nil
            }
        case .scopeSpans, .scopeLogs, .scopeMetrics:
            switch n {
            case 1: return .message(.scope)
            case 2: return .message(self == .scopeSpans ? .span : self == .scopeLogs ? .logRecord : .metric)
            case 3: return .string
            default: return nil
            }
        case .span:
            switch n {
            case 1, 2, 4: return .bytes
            case 3, 5: return .string
            case 6, 10, 12, 14: return .varint
            case 7, 8: return .fixed64
            case 9: return .message(.keyValue)
            case 11: return .message(.spanEvent)
            case 13: return .message(.spanLink)
            case 15: return .message(.status)
            case 16: return .fixed32
            default: return nil
            }
        case .spanEvent:
            switch n {
            case 1: return .fixed64
            case 2: return .string
            case 3: return .message(.keyValue)
            case 4: return .varint
            default: return nil
            }
        case .spanLink:
            switch n {
            case 1, 2: return .bytes
            case 3: return .string
            case 4: return .message(.keyValue)
            case 5: return .varint
            case 6: return .fixed32
            default: return nil
            }
        case .status:
            switch n {
            case 2: return .string
            case 3: return .varint
            default: return nil
            }
        case .logRecord:
            switch n {
            case 1, 11: return .fixed64
            case 2, 7: return .varint
            case 3, 12: return .string
            case 5: return .message(.anyValue)
            case 6: return .message(.keyValue)
            case 8: return .fixed32
            case 9, 10: return .bytes
            default: return nil
            }
        case .metric:
            switch n {
            case 1, 2, 3: return .string
            case 5: return .message(.gauge)
            case 7: return .message(.sum)
            case 9: return .message(.histogram)
            case 10: return .message(.expHistogram)
            case 11: return .message(.summary)
            case 12: return .message(.keyValue)
            default: return nil
            }
        case .gauge: return n == 1 ? .message(.numberDataPoint) : nil
        case .summary: return n == 1 ? .message(.summaryDataPoint) : nil
        case .sum:
            switch n {
            case 1: return .message(.numberDataPoint)
            case 2, 3: return .varint
            default: return nil
            }
        case .histogram:
            switch n {
            case 1: return .message(.histogramDataPoint)
            case 2: return .varint
            default: return nil
            }
        case .expHistogram:
            switch n {
            case 1: return .message(.expHistogramDataPoint)
            case 2: return .varint
            default: return nil
            }
        case .numberDataPoint:
            switch n {
            case 2, 3, 4, 6: return .fixed64
            case 5: return .message(.exemplar)
            case 7: return .message(.keyValue)
            case 8: return .varint
            default: return nil
            }
        case .histogramDataPoint:
            switch n {
            case 2, 3, 4, 5, 11, 12: return .fixed64
            case 6, 7: return .repeatedFixed64
            case 8: return .message(.exemplar)
            case 9: return .message(.keyValue)
            case 10: return .varint
            default: return nil
            }
        case .expHistogramDataPoint:
            switch n {
            case 1: return .message(.keyValue)
            case 2, 3, 4, 5, 7, 12, 13, 14: return .fixed64
            case 6, 10: return .varint
            case 8, 9: return .message(.buckets)
            case 11: return .message(.exemplar)
            default: return nil
            }
        case .buckets:
            switch n {
            case 1: return .varint
            case 2: return .repeatedVarint
            default: return nil
            }
        case .summaryDataPoint:
            switch n {
            case 2, 3, 4, 5: return .fixed64
            case 6: return .message(.valueAtQuantile)
            case 7: return .message(.keyValue)
            case 8: return .varint
            default: return nil
            }
        case .valueAtQuantile: return n == 1 || n == 2 ? .fixed64 : nil
        case .exemplar:
            switch n {
            case 2, 3, 6: return .fixed64
            case 4, 5: return .bytes
            case 7: return .message(.keyValue)
            default: return nil
            }
        case .resource:
            switch n {
            case 1: return .message(.keyValue)
            case 2: return .varint
            case 3: return .message(.entityRef)
            default: return nil
            }
        case .scope:
            switch n {
            case 1, 2: return .string
            case 3: return .message(.keyValue)
            case 4: return .varint
            default: return nil
            }
        case .entityRef: return (1...4).contains(n) ? .string : nil
        case .keyValue:
            switch n {
            case 1: return .string
            case 2: return .message(.anyValue)
            case 3: return .varint
            default: return nil
            }
        case .anyValue:
            switch n {
            case 1: return .string
            case 2, 3, 8: return .varint
            case 4: return .fixed64
            case 5: return .message(.arrayValue)
            case 6: return .message(.keyValueList)
            case 7: return .bytes
            default: return nil
            }
        case .arrayValue: return n == 1 ? .message(.anyValue) : nil
        case .keyValueList: return n == 1 ? .message(.keyValue) : nil
        }
    }
}

extension ProtoReader {
    /// Validates a whole message of `kind` against the OTLP schema, adding the number of items
    /// (spans, log records, data points) found to `items`.
    mutating func validate(_ kind: OTLPMessageKind, items: inout Int) throws(ProtoDecodingError) {
        while let key = try nextField() {
            guard let spec = kind.field(key.number) else {
                try skip(key)
                continue
            }
            switch spec {
            case .varint: _ = try uint64(key)
            case .fixed32: _ = try fixed32(key)
            case .fixed64: _ = try fixed64(key)
            case .bytes: _ = try lengthDelimited(key)
            case .string:
                let range = try lengthDelimited(key)
                let ok = buffer.withUnsafeBufferPointer { validateUTF8(UnsafeBufferPointer(rebasing: $0[range])) }
                guard ok else { throw ProtoDecodingError(offset: key.offset, reason: .invalidUTF8(field: key.number)) }
            case .repeatedFixed64:
                switch key.wireType {
                case .fixed64: _ = try readFixed64()
                case .lengthDelimited:
                    let range = try readLengthDelimited()
                    guard range.count % 8 == 0 else {
                        throw ProtoDecodingError(
                            offset: key.offset, reason: .badPackedLength(field: key.number, length: range.count))
                    }
                default: try expect(key, .lengthDelimited)
                }
            case .repeatedVarint:
                switch key.wireType {
                case .varint: _ = try readVarint()
                case .lengthDelimited:
                    var sub = ProtoReader(buffer, range: try readLengthDelimited(), depth: depth, maxDepth: maxDepth)
                    while !sub.isAtEnd { _ = try sub.readVarint() }
                default: try expect(key, .lengthDelimited)
                }
            case .message(let sub):
                var child = try nested(key)
                if sub.isItem { items += 1 }
                try child.validate(sub, items: &items)
            }
        }
    }
}
