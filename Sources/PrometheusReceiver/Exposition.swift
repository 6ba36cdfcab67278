/// The result of parsing one scrape body: metric families, samples and labels, kept as byte spans
/// into the body (and into a small arena for values that had escapes) so that parsing allocates per
/// family, not per sample. Only `ExpositionParser` builds it.
public struct Exposition: Sendable {
    /// The scrape body as received (spans with a non-negative offset point here).
    let body: ExpositionBody
    /// Unescaped label values and HELP texts (spans with a negative offset point here).
    public internal(set) var arena: [UInt8] = []
    public internal(set) var families: [Family] = []
    public internal(set) var samples: [Sample] = []
    public internal(set) var labels: [Label] = []
    public internal(set) var exemplars: [Exemplar] = []
    public let format: ExpositionFormat

    init(body: ExpositionBody, format: ExpositionFormat) {
        self.body = body
        self.format = format
    }

    /// The bytes of a span.
    public func withBytes<R>(_ span: ByteRange, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if span.offset >= 0 {
            return try self.body.withUnsafeBufferPointer { buffer in
                try body(UnsafeBufferPointer(rebasing: buffer[Int(span.offset)..<Int(span.offset) + Int(span.count)]))
            }
        }
        let start = Int(-(span.offset + 1))
        return try arena.withUnsafeBufferPointer { buffer in
            try body(UnsafeBufferPointer(rebasing: buffer[start..<start + Int(span.count)]))
        }
    }

    /// A span as a `String` (for tests and logs; the converter writes bytes).
    public func string(_ span: ByteRange) -> String {
        withBytes(span) { String(decoding: $0, as: UTF8.self) }
    }

    /// The labels of a sample as strings, in served order (tests, logs).
    public func labelPairs(of sample: Sample) -> [(name: String, value: String)] {
        labels[Int(sample.labelStart)..<Int(sample.labelStart + sample.labelCount)].map {
            (string($0.name), string($0.value))
        }
    }

    /// The family with this name, if any (tests).
    public func family(named name: String) -> Family? {
        families.first { $0.name == name }
    }

    /// The samples of one family, in served order (tests).
    public func samples(ofFamily name: String) -> [Sample] {
        guard let index = families.firstIndex(where: { $0.name == name }) else { return [] }
        return samples.filter { $0.family == Int32(index) }
    }

    /// The full sample name (family name plus suffix).
    public func sampleName(_ sample: Sample) -> String {
        families[Int(sample.family)].name + sample.suffix.text
    }
}

/// Which text format a body is in; chosen from the response's `Content-Type`.
public struct ExpositionFormat: Sendable, Hashable, CustomStringConvertible {
    enum Backing: Sendable, Hashable { case text004, openMetrics }
    let backing: Backing
    /// Prometheus text format 0.0.4.
    public static let prometheusText = Self(backing: .text004)
    /// OpenMetrics 1.0 text.
    public static let openMetrics = Self(backing: .openMetrics)
    public var description: String {
        backing == .text004 ? "text/plain; version=0.0.4" : "application/openmetrics-text"
    }

    /// The `Accept` header Prometheus sends: OpenMetrics preferred, then text 0.0.4.
    public static let acceptHeader =
        "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    /// The format of a response from its `Content-Type` (text 0.0.4 unless it says OpenMetrics).
    public static func from(contentType: String?) -> ExpositionFormat {
        guard let contentType else { return .prometheusText }
        return contentType.lowercased().hasPrefix("application/openmetrics-text") ? .openMetrics : .prometheusText
    }
}

/// Prometheus / OpenMetrics metric types.
public enum MetricType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case untyped, counter, gauge, histogram, summary, info, stateset, gaugeHistogram, unknown

    public var description: String {
        switch self {
        case .untyped: "untyped"
        case .counter: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        case .summary: "summary"
        case .info: "info"
        case .stateset: "stateset"
        case .gaugeHistogram: "gaugehistogram"
        case .unknown: "unknown"
        }
    }
}

/// What follows the family name in a sample's name.
public enum SampleSuffix: UInt8, Sendable, Hashable {
    case none, total, created, bucket, sum, count, info, gcount, gsum

    public var text: String {
        switch self {
        case .none: ""
        case .total: "_total"
        case .created: "_created"
        case .bucket: "_bucket"
        case .sum: "_sum"
        case .count: "_count"
        case .info: "_info"
        case .gcount: "_gcount"
        case .gsum: "_gsum"
        }
    }

    var bytes: [UInt8] { Array(text.utf8) }
}

public struct Family: Sendable {
    /// The family name as served (for an OpenMetrics counter, without `_total`).
    public let nameBytes: [UInt8]
    public internal(set) var type: MetricType
    /// `# HELP` text, unescaped.
    public internal(set) var help: ByteRange = .empty
    /// `# UNIT` (OpenMetrics).
    public internal(set) var unit: ByteRange = .empty
    /// Whether a `# TYPE` line declared the type.
    var typed = false
    var hasSamples = false
    var hasHelp = false
    /// Hash of the name, mixed into series hashes.
    let nameHash: UInt64

    public var name: String { String(decoding: nameBytes, as: UTF8.self) }
}

public struct Sample: Sendable {
    /// Index into `Exposition.families`.
    public var family: Int32
    public var suffix: SampleSuffix
    /// 1-based line number in the body.
    public var line: Int32
    /// Labels are `Exposition.labels[labelStart ..< labelStart + labelCount]`, as served (with `le`/`quantile`).
    public var labelStart: Int32
    public var labelCount: Int32
    public var value: Double
    /// Milliseconds since the epoch, or `Int64.min` when the sample has none.
    public var timestampMs: Int64
    /// The `le` of a bucket or the `quantile` of a summary sample; NaN otherwise.
    public var bound: Double
    /// Order-independent hash of the family name and the labels other than `le`/`quantile`.
    public var seriesHash: UInt64
    /// Index into `Exposition.exemplars`, or -1.
    public var exemplar: Int32

    public var hasTimestamp: Bool { timestampMs != Int64.min }
}

public struct Label: Sendable {
    public var name: ByteRange
    public var value: ByteRange
}

public struct Exemplar: Sendable {
    public var labelStart: Int32
    public var labelCount: Int32
    public var value: Double
    /// Milliseconds since the epoch, or `Int64.min`.
    public var timestampMs: Int64
}

/// A malformed exposition: the scrape fails as a whole (nothing of it is applied).
public struct ExpositionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}
