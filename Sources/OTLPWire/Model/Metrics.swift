// OTLP metrics: `opentelemetry/proto/metrics/v1/metrics.proto` (opentelemetry-proto 1.45.2).
// Watch the types: times and counts are fixed64, `as_int` is sfixed64, exponential bucket
// counts are (packed) uint64 varints, `scale`/`offset` are sint32, `sum`/`min`/`max` of
// histograms are `optional double` (presence matters), `zero_threshold` is a plain double.

extension OTLP {
    /// `opentelemetry.proto.metrics.v1.ResourceMetrics`.
    public struct ResourceMetrics: Sendable, Hashable {
        public var resource: Resource?  // 1
        public var scopeMetrics: [ScopeMetrics]  // 2
        public var schemaURL: String  // 3

        public init(resource: Resource? = nil, scopeMetrics: [ScopeMetrics] = [], schemaURL: String = "") {
            self.resource = resource
            self.scopeMetrics = scopeMetrics
            self.schemaURL = schemaURL
        }
    }

    /// `opentelemetry.proto.metrics.v1.ScopeMetrics`.
    public struct ScopeMetrics: Sendable, Hashable {
        public var scope: InstrumentationScope?  // 1
        public var metrics: [Metric]  // 2
        public var schemaURL: String  // 3

        public init(scope: InstrumentationScope? = nil, metrics: [Metric] = [], schemaURL: String = "") {
            self.scope = scope
            self.metrics = metrics
            self.schemaURL = schemaURL
        }
    }

    /// The `data` oneof of `Metric`.
    public enum MetricData: Sendable, Hashable {
        case gauge(Gauge)  // 5
        case sum(Sum)  // 7
        case histogram(Histogram)  // 9
        case exponentialHistogram(ExponentialHistogram)  // 10
        case summary(Summary)  // 11
    }

    /// `opentelemetry.proto.metrics.v1.Metric`.
    public struct Metric: Sendable, Hashable {
        public var name: String  // 1
        public var description: String  // 2
        public var unit: String  // 3
        public var data: MetricData?  // 5, 7, 9, 10, 11
        public var metadata: [KeyValue]  // 12

        public init(
            name: String = "", description: String = "", unit: String = "", data: MetricData? = nil,
            metadata: [KeyValue] = []
        ) {
            self.name = name
            self.description = description
            self.unit = unit
            self.data = data
            self.metadata = metadata
        }
    }

    /// `opentelemetry.proto.metrics.v1.AggregationTemporality` (open enum).
    public struct AggregationTemporality: RawRepresentable, Sendable, Hashable {
        public var rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let unspecified = AggregationTemporality(rawValue: 0)
        public static let delta = AggregationTemporality(rawValue: 1)
        public static let cumulative = AggregationTemporality(rawValue: 2)
    }

    /// `opentelemetry.proto.metrics.v1.DataPointFlags` bits.
    public enum DataPointFlags {
        public static let noRecordedValue: UInt32 = 1
    }

    public struct Gauge: Sendable, Hashable {
        public var dataPoints: [NumberDataPoint]  // 1
        public init(dataPoints: [NumberDataPoint] = []) { self.dataPoints = dataPoints }
    }

    public struct Sum: Sendable, Hashable {
        public var dataPoints: [NumberDataPoint]  // 1
        public var aggregationTemporality: AggregationTemporality  // 2
        public var isMonotonic: Bool  // 3

        public init(
            dataPoints: [NumberDataPoint] = [], aggregationTemporality: AggregationTemporality = .unspecified,
            isMonotonic: Bool = false
        ) {
            self.dataPoints = dataPoints
            self.aggregationTemporality = aggregationTemporality
            self.isMonotonic = isMonotonic
        }
    }

    public struct Histogram: Sendable, Hashable {
        public var dataPoints: [HistogramDataPoint]  // 1
        public var aggregationTemporality: AggregationTemporality  // 2

        public init(
            dataPoints: [HistogramDataPoint] = [], aggregationTemporality: AggregationTemporality = .unspecified
        ) {
            self.dataPoints = dataPoints
            self.aggregationTemporality = aggregationTemporality
        }
    }

    public struct ExponentialHistogram: Sendable, Hashable {
        public var dataPoints: [ExponentialHistogramDataPoint]  // 1
        public var aggregationTemporality: AggregationTemporality  // 2

        public init(
            dataPoints: [ExponentialHistogramDataPoint] = [],
            aggregationTemporality: AggregationTemporality = .unspecified
        ) {
            self.dataPoints = dataPoints
            self.aggregationTemporality = aggregationTemporality
        }
    }

    public struct Summary: Sendable, Hashable {
        public var dataPoints: [SummaryDataPoint]  // 1
        public init(dataPoints: [SummaryDataPoint] = []) { self.dataPoints = dataPoints }
    }

    /// The `value` oneof of `NumberDataPoint` and `Exemplar`.
    public enum NumberValue: Sendable, Hashable {
        case double(Double)  // as_double 4 (double)
        case int(Int64)  // as_int 6 (sfixed64)
    }

    /// `opentelemetry.proto.metrics.v1.NumberDataPoint`.
    public struct NumberDataPoint: Sendable, Hashable {
        public var attributes: [KeyValue]  // 7
        public var startTimeUnixNano: UInt64  // 2 fixed64
        public var timeUnixNano: UInt64  // 3 fixed64
        public var value: NumberValue?  // 4 / 6
        public var exemplars: [Exemplar]  // 5
        public var flags: UInt32  // 8

        public init(
            attributes: [KeyValue] = [], startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64 = 0,
            value: NumberValue? = nil, exemplars: [Exemplar] = [], flags: UInt32 = 0
        ) {
            self.attributes = attributes
            self.startTimeUnixNano = startTimeUnixNano
            self.timeUnixNano = timeUnixNano
            self.value = value
            self.exemplars = exemplars
            self.flags = flags
        }
    }

    /// `opentelemetry.proto.metrics.v1.HistogramDataPoint`.
    public struct HistogramDataPoint: Sendable, Hashable {
        public var attributes: [KeyValue]  // 9
        public var startTimeUnixNano: UInt64  // 2 fixed64
        public var timeUnixNano: UInt64  // 3 fixed64
        public var count: UInt64  // 4 fixed64
        public var sum: Double?  // 5 optional double
        public var bucketCounts: [UInt64]  // 6 packed fixed64
        public var explicitBounds: [Double]  // 7 packed double
        public var exemplars: [Exemplar]  // 8
        public var flags: UInt32  // 10
        public var min: Double?  // 11 optional double
        public var max: Double?  // 12 optional double

        public init(
            attributes: [KeyValue] = [], startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64 = 0, count: UInt64 = 0,
            sum: Double? = nil, bucketCounts: [UInt64] = [], explicitBounds: [Double] = [], exemplars: [Exemplar] = [],
            flags: UInt32 = 0, min: Double? = nil, max: Double? = nil
        ) {
            self.attributes = attributes
            self.startTimeUnixNano = startTimeUnixNano
            self.timeUnixNano = timeUnixNano
            self.count = count
            self.sum = sum
            self.bucketCounts = bucketCounts
            self.explicitBounds = explicitBounds
            self.exemplars = exemplars
            self.flags = flags
            self.min = min
            self.max = max
        }
    }

    /// `opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint`.
    public struct ExponentialHistogramDataPoint: Sendable, Hashable {
        /// `ExponentialHistogramDataPoint.Buckets`.
        public struct Buckets: Sendable, Hashable {
            public var offset: Int32  // 1 sint32
            public var bucketCounts: [UInt64]  // 2 packed uint64

            public init(offset: Int32 = 0, bucketCounts: [UInt64] = []) {
                self.offset = offset
                self.bucketCounts = bucketCounts
            }
        }

        public var attributes: [KeyValue]  // 1
        public var startTimeUnixNano: UInt64  // 2 fixed64
        public var timeUnixNano: UInt64  // 3 fixed64
        public var count: UInt64  // 4 fixed64
        public var sum: Double?  // 5 optional double
        public var scale: Int32  // 6 sint32
        public var zeroCount: UInt64  // 7 fixed64
        public var positive: Buckets?  // 8
        public var negative: Buckets?  // 9
        public var flags: UInt32  // 10
        public var exemplars: [Exemplar]  // 11
        public var min: Double?  // 12 optional double
        public var max: Double?  // 13 optional double
        public var zeroThreshold: Double  // 14 double

        public init(
            attributes: [KeyValue] = [], startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64 = 0, count: UInt64 = 0,
            sum: Double? = nil, scale: Int32 = 0, zeroCount: UInt64 = 0, positive: Buckets? = nil,
            negative: Buckets? = nil,
            flags: UInt32 = 0, exemplars: [Exemplar] = [], min: Double? = nil, max: Double? = nil,
            zeroThreshold: Double = 0
        ) {
            self.attributes = attributes
            self.startTimeUnixNano = startTimeUnixNano
            self.timeUnixNano = timeUnixNano
            self.count = count
            self.sum = sum
            self.scale = scale
            self.zeroCount = zeroCount
            self.positive = positive
            self.negative = negative
            self.flags = flags
            self.exemplars = exemplars
            self.min = min
            self.max = max
            self.zeroThreshold = zeroThreshold
        }
    }

    /// `opentelemetry.proto.metrics.v1.SummaryDataPoint`.
    public struct SummaryDataPoint: Sendable, Hashable {
        /// `SummaryDataPoint.ValueAtQuantile`.
        public struct ValueAtQuantile: Sendable, Hashable {
            public var quantile: Double  // 1
            public var value: Double  // 2
            public init(quantile: Double = 0, value: Double = 0) {
                self.quantile = quantile
                self.value = value
            }
        }

        public var attributes: [KeyValue]  // 7
        public var startTimeUnixNano: UInt64  // 2 fixed64
        public var timeUnixNano: UInt64  // 3 fixed64
        public var count: UInt64  // 4 fixed64
        public var sum: Double  // 5 double
        public var quantileValues: [ValueAtQuantile]  // 6
        public var flags: UInt32  // 8

        public init(
            attributes: [KeyValue] = [], startTimeUnixNano: UInt64 = 0, timeUnixNano: UInt64 = 0, count: UInt64 = 0,
            sum: Double = 0, quantileValues: [ValueAtQuantile] = [], flags: UInt32 = 0
        ) {
            self.attributes = attributes
            self.startTimeUnixNano = startTimeUnixNano
            self.timeUnixNano = timeUnixNano
            self.count = count
            self.sum = sum
            self.quantileValues = quantileValues
            self.flags = flags
        }
    }

    /// `opentelemetry.proto.metrics.v1.Exemplar`.
    public struct Exemplar: Sendable, Hashable {
        public var filteredAttributes: [KeyValue]  // 7
        public var timeUnixNano: UInt64  // 2 fixed64
        public var value: NumberValue?  // 3 as_double / 6 as_int
        public var spanID: [UInt8]  // 4
        public var traceID: [UInt8]  // 5

        public init(
            filteredAttributes: [KeyValue] = [], timeUnixNano: UInt64 = 0, value: NumberValue? = nil,
            spanID: [UInt8] = [], traceID: [UInt8] = []
        ) {
            self.filteredAttributes = filteredAttributes
            self.timeUnixNano = timeUnixNano
            self.value = value
            self.spanID = spanID
            self.traceID = traceID
        }
    }
}

// MARK: coding

extension OTLP.ResourceMetrics: ProtoMessage {
    public init() { self.init(resource: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let resource { w.message(1, resource) }
        w.messages(2, scopeMetrics)
        w.string(3, schemaURL)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: resource = try r.mergeMessage(k, into: resource)
            case 2: scopeMetrics.append(try r.message(k))
            case 3: schemaURL = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ScopeMetrics: ProtoMessage {
    public init() { self.init(scope: nil) }

    public func encode(into w: inout ProtoWriter) {
        if let scope { w.message(1, scope) }
        w.messages(2, metrics)
        w.string(3, schemaURL)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: scope = try r.mergeMessage(k, into: scope)
            case 2: metrics.append(try r.message(k))
            case 3: schemaURL = try r.string(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Metric: ProtoMessage {
    public init() { self.init(name: "") }

    public func encode(into w: inout ProtoWriter) {
        w.string(1, name)
        w.string(2, description)
        w.string(3, unit)
        switch data {
        case nil: break
        case .gauge(let g): w.message(5, g)
        case .sum(let s): w.message(7, s)
        case .histogram(let h): w.message(9, h)
        case .exponentialHistogram(let e): w.message(10, e)
        case .summary(let s): w.message(11, s)
        }
        w.messages(12, metadata)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: name = try r.string(k)
            case 2: description = try r.string(k)
            case 3: unit = try r.string(k)
            case 5:
                if case .gauge(let g) = data {
                    data = .gauge(try r.mergeMessage(k, into: g))
                } else {
                    data = .gauge(try r.message(k))
                }
            case 7:
                if case .sum(let s) = data {
                    data = .sum(try r.mergeMessage(k, into: s))
                } else {
                    data = .sum(try r.message(k))
                }
            case 9:
                if case .histogram(let h) = data {
                    data = .histogram(try r.mergeMessage(k, into: h))
                } else {
                    data = .histogram(try r.message(k))
                }
            case 10:
                if case .exponentialHistogram(let e) = data {
                    data = .exponentialHistogram(try r.mergeMessage(k, into: e))
                } else {
                    data = .exponentialHistogram(try r.message(k))
                }
            case 11:
                if case .summary(let s) = data {
                    data = .summary(try r.mergeMessage(k, into: s))
                } else {
                    data = .summary(try r.message(k))
                }
            case 12: metadata.append(try r.message(k))
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Gauge: ProtoMessage {
    public init() { self.init(dataPoints: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, dataPoints)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            if k.number == 1 { dataPoints.append(try r.message(k)) } else { try r.skip(k) }
        }
    }
}

extension OTLP.Sum: ProtoMessage {
    public init() { self.init(dataPoints: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, dataPoints)
        w.int32(2, aggregationTemporality.rawValue)
        w.bool(3, isMonotonic)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: dataPoints.append(try r.message(k))
            case 2: aggregationTemporality = .init(rawValue: try r.int32(k))
            case 3: isMonotonic = try r.bool(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Histogram: ProtoMessage {
    public init() { self.init(dataPoints: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, dataPoints)
        w.int32(2, aggregationTemporality.rawValue)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: dataPoints.append(try r.message(k))
            case 2: aggregationTemporality = .init(rawValue: try r.int32(k))
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ExponentialHistogram: ProtoMessage {
    public init() { self.init(dataPoints: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, dataPoints)
        w.int32(2, aggregationTemporality.rawValue)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: dataPoints.append(try r.message(k))
            case 2: aggregationTemporality = .init(rawValue: try r.int32(k))
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Summary: ProtoMessage {
    public init() { self.init(dataPoints: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, dataPoints)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            if k.number == 1 { dataPoints.append(try r.message(k)) } else { try r.skip(k) }
        }
    }
}

extension OTLP.NumberDataPoint: ProtoMessage {
    public init() { self.init(attributes: []) }

    public func encode(into w: inout ProtoWriter) {
        w.fixed64(2, startTimeUnixNano)
        w.fixed64(3, timeUnixNano)
        if case .double(let d) = value { w.doubleAlways(4, d) }
        w.messages(5, exemplars)
        if case .int(let i) = value { w.sfixed64Always(6, i) }
        w.messages(7, attributes)
        w.uint32(8, flags)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 2: startTimeUnixNano = try r.fixed64(k)
            case 3: timeUnixNano = try r.fixed64(k)
            case 4: value = .double(try r.double(k))
            case 5: exemplars.append(try r.message(k))
            case 6: value = .int(try r.sfixed64(k))
            case 7: attributes.append(try r.message(k))
            case 8: flags = try r.uint32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.HistogramDataPoint: ProtoMessage {
    public init() { self.init(attributes: []) }

    public func encode(into w: inout ProtoWriter) {
        w.fixed64(2, startTimeUnixNano)
        w.fixed64(3, timeUnixNano)
        w.fixed64(4, count)
        if let sum { w.doubleAlways(5, sum) }
        w.packedFixed64(6, bucketCounts)
        w.packedDouble(7, explicitBounds)
        w.messages(8, exemplars)
        w.messages(9, attributes)
        w.uint32(10, flags)
        if let min { w.doubleAlways(11, min) }
        if let max { w.doubleAlways(12, max) }
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 2: startTimeUnixNano = try r.fixed64(k)
            case 3: timeUnixNano = try r.fixed64(k)
            case 4: count = try r.fixed64(k)
            case 5: sum = try r.double(k)
            case 6: try r.appendFixed64(k, to: &bucketCounts)
            case 7: try r.appendDouble(k, to: &explicitBounds)
            case 8: exemplars.append(try r.message(k))
            case 9: attributes.append(try r.message(k))
            case 10: flags = try r.uint32(k)
            case 11: min = try r.double(k)
            case 12: max = try r.double(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ExponentialHistogramDataPoint: ProtoMessage {
    public init() { self.init(attributes: []) }

    public func encode(into w: inout ProtoWriter) {
        w.messages(1, attributes)
        w.fixed64(2, startTimeUnixNano)
        w.fixed64(3, timeUnixNano)
        w.fixed64(4, count)
        if let sum { w.doubleAlways(5, sum) }
        w.sint32(6, scale)
        w.fixed64(7, zeroCount)
        if let positive { w.message(8, positive) }
        if let negative { w.message(9, negative) }
        w.uint32(10, flags)
        w.messages(11, exemplars)
        if let min { w.doubleAlways(12, min) }
        if let max { w.doubleAlways(13, max) }
        w.double(14, zeroThreshold)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: attributes.append(try r.message(k))
            case 2: startTimeUnixNano = try r.fixed64(k)
            case 3: timeUnixNano = try r.fixed64(k)
            case 4: count = try r.fixed64(k)
            case 5: sum = try r.double(k)
            case 6: scale = try r.sint32(k)
            case 7: zeroCount = try r.fixed64(k)
            case 8: positive = try r.mergeMessage(k, into: positive)
            case 9: negative = try r.mergeMessage(k, into: negative)
            case 10: flags = try r.uint32(k)
            case 11: exemplars.append(try r.message(k))
            case 12: min = try r.double(k)
            case 13: max = try r.double(k)
            case 14: zeroThreshold = try r.double(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.ExponentialHistogramDataPoint.Buckets: ProtoMessage {
    public init() { self.init(offset: 0) }

    public func encode(into w: inout ProtoWriter) {
        w.sint32(1, offset)
        w.packedVarint(2, bucketCounts)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: offset = try r.sint32(k)
            case 2: try r.appendVarint(k, to: &bucketCounts)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.SummaryDataPoint: ProtoMessage {
    public init() { self.init(attributes: []) }

    public func encode(into w: inout ProtoWriter) {
        w.fixed64(2, startTimeUnixNano)
        w.fixed64(3, timeUnixNano)
        w.fixed64(4, count)
        w.double(5, sum)
        w.messages(6, quantileValues)
        w.messages(7, attributes)
        w.uint32(8, flags)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 2: startTimeUnixNano = try r.fixed64(k)
            case 3: timeUnixNano = try r.fixed64(k)
            case 4: count = try r.fixed64(k)
            case 5: sum = try r.double(k)
            case 6: quantileValues.append(try r.message(k))
            case 7: attributes.append(try r.message(k))
            case 8: flags = try r.uint32(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.SummaryDataPoint.ValueAtQuantile: ProtoMessage {
    public init() { self.init(quantile: 0) }

    public func encode(into w: inout ProtoWriter) {
        w.double(1, quantile)
        w.double(2, value)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 1: quantile = try r.double(k)
            case 2: value = try r.double(k)
            default: try r.skip(k)
            }
        }
    }
}

extension OTLP.Exemplar: ProtoMessage {
    public init() { self.init(filteredAttributes: []) }

    public func encode(into w: inout ProtoWriter) {
        w.fixed64(2, timeUnixNano)
        if case .double(let d) = value { w.doubleAlways(3, d) }
        w.bytes(4, spanID)
        w.bytes(5, traceID)
        if case .int(let i) = value { w.sfixed64Always(6, i) }
        w.messages(7, filteredAttributes)
    }

    public mutating func merge(from r: inout ProtoReader) throws(ProtoDecodingError) {
        while let k = try r.nextField() {
            switch k.number {
            case 2: timeUnixNano = try r.fixed64(k)
            case 3: value = .double(try r.double(k))
            case 4: spanID = try r.bytes(k)
            case 5: traceID = try r.bytes(k)
            case 6: value = .int(try r.sfixed64(k))
            case 7: filteredAttributes.append(try r.message(k))
            default: try r.skip(k)
            }
        }
    }
}
