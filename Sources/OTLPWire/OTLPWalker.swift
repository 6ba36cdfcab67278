/// Wire-level operations on encoded OTLP request bodies, without materialising the model.
///
/// A *body* is the encoding of an `Export{Trace,Logs,Metrics}ServiceRequest`, i.e. a
/// concatenation of `repeated Resource{Spans,Logs,Metrics} resource_* = 1` fields. Bodies
/// concatenate: appending two bodies gives a valid body with the items of both.
public enum OTLPWalker {
    /// Validates `body` against the OTLP schema of `signal` (wire types of every known field,
    /// UTF-8 of strings, bounds, nesting depth; unknown fields are skipped) and counts its items:
    /// spans, log records, or metric data points (gauge, sum, histogram, exponential histogram
    /// and summary points together).
    public static func countItems(
        signal: Signal, body: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth
    ) throws(ProtoDecodingError) -> Int {
        var reader = ProtoReader(body, maxDepth: maxDepth)
        var items = 0
        try reader.validate(signal.requestKind, items: &items)
        return items
    }

    /// Frames one encoded `ResourceSpans`/`ResourceLogs`/`ResourceMetrics` message as field 1
    /// of a request (tag 0x0A, varint length, bytes): the unit the pipeline concatenates.
    public static func frame(_ resourceMessage: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        appendFramed(resourceMessage, to: &out)
        return out
    }

    /// Appends `resourceMessage` framed as field 1 to `body`.
    public static func appendFramed(_ resourceMessage: [UInt8], to body: inout [UInt8]) {
        var v = UInt64(resourceMessage.count)
        body.reserveCapacity(body.count + resourceMessage.count + 11)
        body.append(0x0A)
        while v >= 0x80 {
            body.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        body.append(UInt8(v))
        body.append(contentsOf: resourceMessage)
    }

    /// Splits `body` into bodies of at most `maxBytes` bytes and `maxItems` items each, when
    /// possible. Items (spans, log records, data points) are copied verbatim and stay in order;
    /// the enclosing `Resource*` / `Scope*` (and for metrics the `Metric` and its data message
    /// with name, unit, temporality...) are repeated around each subset. An item that alone
    /// exceeds `maxBytes` goes into a body of its own: nothing is dropped. Containers without
    /// items (e.g. a resource with no scopes) are kept too.
    ///
    /// If `body` is already within both limits it is returned unchanged as the only part. The
    /// body is validated first (as `countItems`); malformed input throws.
    ///
    /// Note: if one `Metric` carries several different `data` oneof members (only the last one
    /// counts for the official decoders), each is treated as a container of its own.
    public static func split(
        signal: Signal, body: [UInt8], maxBytes: Int, maxItems: Int = .max, maxDepth: Int = ProtoReader.defaultMaxDepth
    ) throws(ProtoDecodingError) -> [(bytes: [UInt8], items: Int)] {
        let total = try countItems(signal: signal, body: body, maxDepth: maxDepth)
        if body.count <= maxBytes && total <= maxItems { return [(body, total)] }
        var plan = SplitPlan(body: body, signal: signal)
        try plan.collect(maxDepth: maxDepth)
        return plan.pack(maxBytes: maxBytes, maxItems: max(1, maxItems))
    }
}

extension Signal {
    var requestKind: OTLPMessageKind {
        switch self {
        case .traces: .traceRequest
        case .logs: .logsRequest
        case .metrics: .metricsRequest
        }
    }
}

/// The flattened structure of a body: containers (with their non-child fields) and entries
/// (an item, or an empty container) with the path of containers around them.
private struct SplitPlan {
    struct Container {
        var field: UInt32
        /// Raw field encodings (tag included) other than the children.
        var header: [Range<Int>]
        var headerBytes: Int
    }

    struct Entry {
        /// Container ids from the outermost level inwards.
        var path: [Int]
        /// Payload range of the item, nil for an empty container.
        var item: Range<Int>?
    }

    let body: [UInt8]
    let signal: Signal
    var containers: [Container] = []
    var entries: [Entry] = []

    init(body: [UInt8], signal: Signal) {
        self.body = body
        self.signal = signal
    }

    /// Reads a container's fields: returns its header and the payload ranges of the children
    /// (fields whose number satisfies `isChild`), with their field numbers.
    func scan(
        _ reader: inout ProtoReader, isChild: (UInt32) -> Bool
    ) throws(ProtoDecodingError) -> (Container, [(UInt32, ProtoReader)]) {
        var header: [Range<Int>] = []
        var headerBytes = 0
        var children: [(UInt32, ProtoReader)] = []
        while let key = try reader.nextField() {
            if isChild(key.number) && key.wireType == .lengthDelimited {
                children.append((key.number, try reader.nested(key)))
            } else {
                try reader.skip(key)
                header.append(key.offset..<reader.position)
                headerBytes += reader.position - key.offset
            }
        }
        return (Container(field: 0, header: header, headerBytes: headerBytes), children)
    }

    mutating func collect(maxDepth: Int) throws(ProtoDecodingError) {
        var top = ProtoReader(body, maxDepth: maxDepth)
        let levels = signal == .metrics ? 4 : 2
        try walk(&top, level: -1, levels: levels, path: [])
    }

    /// Containers are at levels 0..<levels (Resource*, Scope*, and for metrics Metric and its
    /// data message); the children of the innermost level are items.
    mutating func walk(_ reader: inout ProtoReader, level: Int, levels: Int, path: [Int]) throws(ProtoDecodingError) {
        // The request itself: its resource messages are the level-0 containers.
        let (_, children) = try scan(&reader, isChild: { $0 == 1 })
        for (number, var child) in children {
            let id = containers.count
            containers.append(Container(field: number, header: [], headerBytes: 0))
            try walkContainer(&child, id: id, level: 0, levels: levels, path: [id])
        }
    }

    mutating func walkContainer(
        _ reader: inout ProtoReader, id: Int, level: Int, levels: Int, path: [Int]
    ) throws(ProtoDecodingError) {
        let childLevel = level + 1
        let isChild: (UInt32) -> Bool
        switch (signal, level) {
        case (.metrics, 2): isChild = { $0 == 5 || $0 == 7 || $0 == 9 || $0 == 10 || $0 == 11 }
        case (.metrics, 3): isChild = { $0 == 1 }
        default: isChild = { $0 == 2 }
        }
        let (scanned, children) = try scan(&reader, isChild: isChild)
        containers[id].header = scanned.header
        containers[id].headerBytes = scanned.headerBytes
        if children.isEmpty {
            entries.append(Entry(path: path, item: nil))
            return
        }
        if childLevel == levels {
            for (_, child) in children { entries.append(Entry(path: path, item: child.position..<child.end)) }
            return
        }
        for (number, var child) in children {
            let cid = containers.count
            containers.append(Container(field: number, header: [], headerBytes: 0))
            try walkContainer(&child, id: cid, level: childLevel, levels: levels, path: path + [cid])
        }
    }

    var itemField: UInt32 { signal == .metrics ? 1 : 2 }

    func containerCost(_ id: Int) -> Int { 1 + 5 + containers[id].headerBytes }

    func itemCost(_ r: Range<Int>) -> Int { 1 + protoVarintSize(UInt64(r.count)) + r.count }

    func pack(maxBytes: Int, maxItems: Int) -> [(bytes: [UInt8], items: Int)] {
        var parts: [(bytes: [UInt8], items: Int)] = []
        var current: [Entry] = []
        var bytes = 0
        var items = 0
        var lastPath: [Int] = []

        func cost(_ e: Entry, after previous: [Int]) -> Int {
            var common = 0
            while common < e.path.count && common < previous.count && e.path[common] == previous[common] { common += 1 }
            var c = 0
            for level in common..<e.path.count { c += containerCost(e.path[level]) }
            if let r = e.item { c += itemCost(r) }
            return c
        }

        for e in entries {
            let add = e.item == nil ? 0 : 1
            var c = cost(e, after: lastPath)
            if !current.isEmpty && (bytes + c > maxBytes || items + add > maxItems) {
                parts.append((emit(current), items))
                current.removeAll(keepingCapacity: true)
                bytes = 0
                items = 0
                c = cost(e, after: [])
            }
            current.append(e)
            bytes += c
            items += add
            lastPath = e.path
        }
        if !current.isEmpty { parts.append((emit(current), items)) }
        return parts
    }

    func emit(_ part: [Entry]) -> [UInt8] {
        var w = ProtoWriter(reservingCapacity: 1024)
        var open: [(id: Int, mark: ProtoWriter.MessageMark)] = []
        for e in part {
            var common = 0
            while common < open.count && common < e.path.count && open[common].id == e.path[common] { common += 1 }
            while open.count > common { w.endMessage(open.removeLast().mark) }
            for level in common..<e.path.count {
                let c = containers[e.path[level]]
                let mark = w.beginMessage(c.field)
                body.withUnsafeBytes { raw in
                    for r in c.header { w.writeRawBytes(UnsafeRawBufferPointer(rebasing: raw[r])) }
                }
                open.append((e.path[level], mark))
            }
            if let r = e.item {
                w.writeTag(itemField, .lengthDelimited)
                w.writeVarint(UInt64(r.count))
                body.withUnsafeBytes { raw in w.writeRawBytes(UnsafeRawBufferPointer(rebasing: raw[r])) }
            }
        }
        while let last = open.popLast() { w.endMessage(last.mark) }
        return w.finish()
    }
}
