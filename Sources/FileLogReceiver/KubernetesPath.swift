import OTLPWire

/// What the kubelet's log path says about a container:
/// `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log`.
struct KubernetesPath: Equatable {
    var namespace: String
    var podName: String
    var podUID: String
    var containerName: String
    var restartCount: Int?

    init?(path: String) {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.count >= 3 else { return nil }
        let podDirectory = components[components.count - 3]
        let parts = podDirectory.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        namespace = String(parts[0])
        podName = String(parts[1])
        podUID = String(parts[2])
        containerName = String(components[components.count - 2])
        var file = components[components.count - 1]
        if file.hasSuffix(".log") { file = file.dropLast(4) }
        restartCount = Int(file)
    }

    /// The workload behind the pod name: `<deployment>-<pod-template-hash>-<5>` → deployment,
    /// `<statefulset>-<ordinal>` → statefulset, `<daemonset|job>-<5>` → daemonset/job; else the pod name.
    var workload: (name: String, isDeployment: Bool) {
        let parts = podName.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { return (podName, false) }
        let last = parts[parts.count - 1]
        if parts.count >= 3, Self.isGenerated(last, 5...5), Self.isGenerated(parts[parts.count - 2], 6...10) {
            return (parts.dropLast(2).joined(separator: "-"), true)
        }
        if last.allSatisfy(\.isNumber) || Self.isGenerated(last, 5...5) {
            return (parts.dropLast().joined(separator: "-"), false)
        }
        return (podName, false)
    }

    /// Kubernetes' random suffixes use `bcdfghjklmnpqrstvwxz2456789` (no vowels, no look-alikes).
    private static func isGenerated(_ s: Substring, _ lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(s.utf8.count)
            && s.utf8.allSatisfy { c in
                (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") && !"aeiouy".utf8.contains(c))
                    || (c >= UInt8(ascii: "2") && c <= UInt8(ascii: "9") && c != UInt8(ascii: "3"))
            }
    }

    /// Resource attributes, following the OpenTelemetry semantic conventions for Kubernetes.
    var resourceAttributes: [OTLP.KeyValue] {
        let workload = self.workload
        var attributes: [OTLP.KeyValue] = [
            .init("service.name", workload.name),
            .init("k8s.namespace.name", namespace),
            .init("k8s.pod.name", podName),
            .init("k8s.pod.uid", podUID),
            .init("k8s.container.name", containerName),
        ]
        if let restartCount {
            attributes.append(.init(key: "k8s.container.restart_count", value: .int(Int64(restartCount))))
        }
        if workload.isDeployment { attributes.append(.init("k8s.deployment.name", workload.name)) }
        return attributes
    }
}

/// Builds one chunk for the pipeline: a `ResourceLogs` (framed as field 1 of the export request) whose
/// resource carries the file's Kubernetes attributes once, and whose one `ScopeLogs` holds the records.
struct LogChunkBuilder: ~Copyable {
    /// Encoded `resource` (field 1) and `scope_logs.scope` prefix, per file.
    let resourceField: [UInt8]
    let scopeField: [UInt8]
    /// Encoded attributes (field 6 of `LogRecord`) added to every record of the file; none at the moment.
    let fileAttributes: [UInt8]
    private(set) var writer = ProtoWriter()
    private(set) var records = 0
    private var outer: ProtoWriter.MessageMark?
    private var scope: ProtoWriter.MessageMark?

    static let scope = OTLP.InstrumentationScope(name: "fluxtel/filelog")

    init(path: String, resolvedPath: String) {
        // `log.file.path` is the same for every record of a chunk (one chunk = one file), so it sits on
        // the resource once. As a record attribute it cost 7 more gzip bytes per line on the benchmark
        // (69.9 instead of 63.1, above the 68 of the target), see benchmarks/filelog/README.md.
        var attributes =
            KubernetesPath(path: resolvedPath)?.resourceAttributes
            ?? KubernetesPath(path: path)?.resourceAttributes ?? []
        attributes.append(OTLP.KeyValue("log.file.path", path))
        var w = ProtoWriter()
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
