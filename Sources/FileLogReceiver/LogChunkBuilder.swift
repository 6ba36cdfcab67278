import OTLPWire

/// Builds one chunk for the pipeline: a `ResourceLogs` (framed as field 1 of the export request) whose
/// resource carries the file's Kubernetes attributes once, and whose one `ScopeLogs` holds the records.
struct LogChunkBuilder: ~Copyable {
    /// Encoded `resource` (field 1) and `scope_logs.scope` prefix, per file.
    let resourceField: [UInt8]
    let scopeField: [UInt8]
    /// Encoded attributes (field 6 of `LogRecord`) added to every record of the file; none at the moment.
    let fileAttributes: [UInt8]
    /// Encoded `resource` (field 1 of `ResourceMetrics`) of the metrics derived from the file's lines:
    /// the Kubernetes attributes, without `log.file.path`.
    let metricResourceField: [UInt8]
    private(set) var writer = ProtoWriter()
    private(set) var records = 0
    private var outer: ProtoWriter.MessageMark?
    private var scope: ProtoWriter.MessageMark?

    static let scope = OTLP.InstrumentationScope(name: "fluxtel/filelog")

    /// - Parameter nodeName: this agent's node (`k8s.node.name`), empty when unknown.
    init(path: String, resolvedPath: String, nodeName: String = "") {
        // `log.file.path` is the same for every record of a chunk (one chunk = one file), so it sits on
        // the resource once. As a record attribute it cost 7 more gzip bytes per line on the benchmark
        // (69.9 instead of 63.1, above the 68 of the target), see benchmarks/filelog/README.md.
        var attributes =
            (KubernetesPath(path: resolvedPath) ?? KubernetesPath(path: path))?.resourceAttributes(nodeName: nodeName)
            ?? []
        var w = ProtoWriter()
        w.message(1, OTLP.Resource(attributes: attributes))
        metricResourceField = w.bytes
        attributes.append(OTLP.KeyValue("log.file.path", path))
        w = ProtoWriter()
        w.message(1, OTLP.Resource(attributes: attributes))
        resourceField = w.bytes
        w = ProtoWriter()
        w.message(1, Self.scope)
        scopeField = w.bytes
        fileAttributes = []
    }

    var isEmpty: Bool { records == 0 }
    var byteCount: Int { writer.count }

    /// Starts a new chunk when none is open; returns the writer positioned for `LogRecord`s (field 2 of `ScopeLogs`).
    mutating func open(reservingCapacity: Int) {
        guard outer == nil else { return }
        writer = ProtoWriter(reservingCapacity: reservingCapacity)
        outer = writer.beginMessage(1)
        writer.writeRawBytes(resourceField)
        scope = writer.beginMessage(2)
        writer.writeRawBytes(scopeField)
        records = 0
    }

    mutating func withWriter<R>(_ body: (inout ProtoWriter, [UInt8]) -> R) -> R {
        records += 1
        return body(&writer, fileAttributes)
    }

    /// Closes the chunk and hands its bytes over (nil when it holds no record).
    mutating func finish() -> (bytes: [UInt8], records: Int)? {
        guard let outer, let scope else { return nil }
        self.outer = nil
        self.scope = nil
        guard records > 0 else { return nil }
        writer.endMessage(scope)
        writer.endMessage(outer)
        let bytes = writer.bytes
        writer = ProtoWriter()
        return (bytes, records)
    }
}
