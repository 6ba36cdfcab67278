import FluxtelConfig
import OTLPWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed per-scrape inputs of the encoder.
struct Context {
    let time: UInt64
    let honorLabels: Bool
    let filter: MetricFilter
    let relabel: [RelabelRule]
    /// Target labels to add to every point (job/instance are resource attributes instead).
    let targetLabels: [(name: [UInt8], value: [UInt8])]

    init(target: TargetInfo, rules: ConversionRules, time: UInt64) {
        self.time = time
        self.honorLabels = rules.honorLabels
        self.filter = rules.filter
        self.relabel = rules.relabel
        self.targetLabels = target.labels.filter { $0.name != "job" && $0.name != "instance" && !$0.value.isEmpty }
            .map { (Array($0.name.utf8), Array($0.value.utf8)) }
    }
}

private let exportedPrefix: [UInt8] = Array("exported_".utf8)
private let jobBytes: [UInt8] = Array("job".utf8)
private let instanceBytes: [UInt8] = Array("instance".utf8)
private let leBytes: [UInt8] = Array("le".utf8)
private let quantileBytes: [UInt8] = Array("quantile".utf8)
private let totalBytes: [UInt8] = Array("_total".utf8)
private let infoBytes: [UInt8] = Array("_info".utf8)

/// Walks the families of one exposition and writes their metrics. Over 400 lines as one cohesive thing:
/// the OTLP encoding of every Prometheus metric type (start times and staleness are `SeriesTracker`'s).
struct Encoder {
    let exposition: Exposition
    let body: UnsafeBufferPointer<UInt8>
    let arena: UnsafeBufferPointer<UInt8>
    var context: Context
    var tracker: SeriesTracker
    var points = 0
    var samplesPost = 0
    var seriesAdded = 0
    /// Index of the OpenMetrics `target` info family, if any (its labels are resource attributes).
    var targetInfoFamily: Int32 = -1

    @inline(__always)
    func bytes(_ span: ByteRange) -> UnsafeBufferPointer<UInt8> {
        if span.offset >= 0 {
            return UnsafeBufferPointer(rebasing: body[Int(span.offset)..<Int(span.offset) + Int(span.count)])
        }
        let start = Int(-(span.offset + 1))
        return UnsafeBufferPointer(rebasing: arena[start..<start + Int(span.count)])
    }

    /// Groups sample indices by family (counting sort, stable), then writes each family.
    mutating func encodeAll(_ w: inout ProtoWriter) {
        let familyCount = exposition.families.count
        let samples = exposition.samples
        tracker.counts.removeAll(keepingCapacity: true)
        tracker.counts.append(contentsOf: repeatElement(0, count: familyCount + 1))
        for sample in samples { tracker.counts[Int(sample.family) + 1] += 1 }
        for f in 0..<familyCount { tracker.counts[f + 1] += tracker.counts[f] }
        tracker.order.removeAll(keepingCapacity: true)
        tracker.order.append(contentsOf: repeatElement(0, count: samples.count))
        var next = tracker.counts
        for (index, sample) in samples.enumerated() {
            let f = Int(sample.family)
            tracker.order[Int(next[f])] = Int32(index)
            next[f] += 1
        }
        for f in 0..<familyCount {
            let start = Int(tracker.counts[f])
            let end = Int(tracker.counts[f + 1])
            guard end > start else { continue }
            let family = exposition.families[f]
            // OpenMetrics `target` info became resource attributes; gauge histograms MUST be dropped (spec).
            if family.type == .gaugeHistogram || Int32(f) == targetInfoFamily { continue }
            guard included(family) else { continue }
            switch family.type {
            case .histogram, .gaugeHistogram, .summary:
                encodeGrouped(&w, family: family, start: start, end: end)
            default:
                encodeNumbers(&w, family: family, start: start, end: end)
            }
        }
    }

    mutating func included(_ family: Family) -> Bool {
        if let cached = tracker.filterCache[family.nameHash] { return cached }
        let decision = context.filter.includes(family.nameBytes)
        tracker.filterCache[family.nameHash] = decision
        return decision
    }

    // MARK: attributes

    /// Writes a sample's labels (minus `skip`, minus empty values) and the target labels as `KeyValue`s;
    /// or, after `metric_relabel_configs`, the relabeled set.
    func writeAttributes(
        _ w: inout ProtoWriter, field: UInt32, sample: Sample, skip: [UInt8]?, relabeled: [KeyValuePair]?
    ) {
        if let relabeled {
            for label in relabeled where !label.key.hasPrefix("__") && !label.value.isEmpty {
                MetricsConverter.writeStringAttribute(&w, field: field, key: label.key, value: label.value)
            }
            writeFluxObject(&w, field: field, sample: sample, relabeled: relabeled)
            return
        }
        let first = Int(sample.labelStart)
        let last = first + Int(sample.labelCount)
        let targetLabels = context.targetLabels
        var k = first
        while k < last {
            let label = exposition.labels[k]
            k += 1
            let name = bytes(label.name)
            let value = bytes(label.value)
            if value.isEmpty { continue }
            if let skip, equal(name, skip) { continue }
            var rename = false
            if !targetLabels.isEmpty || name.count == 3 || name.count == 8 {
                if !context.honorLabels,
                    equal(name, jobBytes) || equal(name, instanceBytes)
                        || targetLabels.contains(where: { equal(name, $0.name) })
                {
                    rename = true
                }
            }
            let kv = w.beginMessage(field)
            w.writeTag(1, .lengthDelimited)
            if rename {
                w.writeVarint(UInt64(name.count + exportedPrefix.count))
                w.writeRawBytes(exportedPrefix)
            } else {
                w.writeVarint(UInt64(name.count))
            }
            w.writeRawBytes(UnsafeRawBufferPointer(name))
            let any = w.beginMessage(2)
            w.writeTag(1, .lengthDelimited)
            w.writeVarint(UInt64(value.count))
            w.writeRawBytes(UnsafeRawBufferPointer(value))
            w.endMessage(any)
            w.endMessage(kv)
        }
        for label in targetLabels {
            if context.honorLabels, sampleHas(sample, label.name) { continue }
            MetricsConverter.writeKeyValue(&w, field: field, key: label.name, value: label.value)
        }
        writeFluxObject(&w, field: field, sample: sample, relabeled: nil)
    }

    func sampleHas(_ sample: Sample, _ name: [UInt8]) -> Bool {
        let first = Int(sample.labelStart)
        for k in first..<first + Int(sample.labelCount) where equal(bytes(exposition.labels[k].name), name) {
            return exposition.labels[k].value.count > 0
        }
        return false
    }

    // MARK: counters, gauges, untyped, info, stateset

    mutating func encodeNumbers(_ w: inout ProtoWriter, family: Family, start: Int, end: Int) {
        let samples = exposition.samples
        let isCounter = family.type == .counter
        let cumulative = isCounter || family.type == .info || family.type == .stateset
        // OpenMetrics `_created` samples give the start time of the counter with the same labels.
        var created: [UInt64: Double] = [:]
        if isCounter && exposition.format == .openMetrics {
            for k in start..<end {
                let sample = samples[Int(tracker.order[k])]
                if sample.suffix == .created { created[sample.seriesHash] = sample.value }
            }
        }
        let metricOffset = w.count
        let metric = w.beginMessage(2)
        writeName(&w, family: family, suffix: servedSuffix(family))
        writeHelpAndUnit(&w, family)
        let data = w.beginMessage(cumulative ? 7 : 5)
        var written = 0
        for k in start..<end {
            let sample = samples[Int(tracker.order[k])]
            if sample.suffix == .created { continue }
            var relabeled: [KeyValuePair]?
            if !context.relabel.isEmpty {
                guard let result = relabel(sample, family: family, skip: nil) else { continue }
                relabeled = result
            }
            let time = sample.hasTimestamp ? UInt64(clamping: sample.timestampMs) &* 1_000_000 : context.time
            let point = w.beginMessage(1)
            let attributesStart = w.count
            writeAttributes(&w, field: 7, sample: sample, skip: nil, relabeled: relabeled)
            let attributesEnd = w.count
            if cumulative {
                let start = startTime(
                    sample.seriesHash, value: sample.value, created: created[sample.seriesHash], time: time,
                    kind: family.type, name: family, w: w, attributes: attributesStart..<attributesEnd)
                w.fixed64(2, start)
            } else {
                touch(
                    sample.seriesHash, kind: family.type, name: family, w: w,
                    attributes: attributesStart..<attributesEnd)
            }
            w.fixed64(3, time)
            w.doubleAlways(4, sample.value)
            if sample.exemplar >= 0 { writeExemplar(&w, exposition.exemplars[Int(sample.exemplar)], field: 5) }
            w.endMessage(point)
            written += 1
        }
        if cumulative {
            w.int32(2, OTLP.AggregationTemporality.cumulative.rawValue)
            w.bool(3, isCounter)
        }
        w.endMessage(data)
        writeTypeMetadata(&w, family)
        w.endMessage(metric)
        if written == 0 {
            // Everything relabeled away: drop the metric we started.
            w.truncate(to: metricOffset)
        }
        points += written
        samplesPost += written
    }

    // MARK: histograms and summaries

    mutating func encodeGrouped(_ w: inout ProtoWriter, family: Family, start: Int, end: Int) {
        let samples = exposition.samples
        // Group by series (labels without le/quantile), in order of first appearance.
        tracker.groupIndex.removeAll(keepingCapacity: true)
        tracker.groupOf.removeAll(keepingCapacity: true)
        tracker.groupOrder.removeAll(keepingCapacity: true)
        var groupCount: Int32 = 0
        for k in start..<end {
            let hash = samples[Int(tracker.order[k])].seriesHash
            if let g = tracker.groupIndex[hash] {
                tracker.groupOf.append(g)
            } else {
                tracker.groupIndex[hash] = groupCount
                tracker.groupOf.append(groupCount)
                groupCount += 1
            }
        }
        // Counting sort of the family's samples by group.
        var offsets = [Int32](repeating: 0, count: Int(groupCount) + 1)
        for g in tracker.groupOf { offsets[Int(g) + 1] += 1 }
        for g in 0..<Int(groupCount) { offsets[g + 1] += offsets[g] }
        tracker.groupOrder.append(contentsOf: repeatElement(0, count: end - start))
        var cursor = offsets
        for (position, g) in tracker.groupOf.enumerated() {
            tracker.groupOrder[Int(cursor[Int(g)])] = tracker.order[start + position]
            cursor[Int(g)] += 1
        }

        let isSummary = family.type == .summary
        let metricOffset = w.count
        let metric = w.beginMessage(2)
        writeName(&w, family: family, suffix: nil)
        writeHelpAndUnit(&w, family)
        let data = w.beginMessage(isSummary ? 11 : 9)
        var written = 0
        for g in 0..<Int(groupCount) {
            let first = Int(offsets[g])
            let last = Int(offsets[g + 1])
            var sum: Double?
            var count: Double?
            var created: Double?
            var timestampMs = Int64.min
            var representative = samples[Int(tracker.groupOrder[first])]
            var boundSample: Sample?
            tracker.bounds.removeAll(keepingCapacity: true)
            tracker.bucketCounts.removeAll(keepingCapacity: true)
            var quantiles: [(Double, Double)] = []
            var sorted = true
            var infCount: Double?
            var exemplars: [Int32] = []  // of the buckets (OpenMetrics); allocated only when there are any
            for k in first..<last {
                let sample = samples[Int(tracker.groupOrder[k])]
                if sample.hasTimestamp { timestampMs = sample.timestampMs }
                switch sample.suffix {
                case .sum, .gsum: sum = sample.value
                case .count, .gcount: count = sample.value
                case .created: created = sample.value
                case .bucket:
                    boundSample = boundSample ?? sample
                    if sample.exemplar >= 0 { exemplars.append(sample.exemplar) }
                    if sample.bound == .infinity {
                        infCount = sample.value
                    } else {
                        if let previous = tracker.bounds.last, previous >= sample.bound { sorted = false }
                        tracker.bounds.append(sample.bound)
                        tracker.bucketCounts.append(UInt64(cumulativeCount: sample.value))
                    }
                case .none where isSummary:
                    boundSample = boundSample ?? sample
                    quantiles.append((sample.bound, sample.value))
                default: break
                }
            }
            // Attributes come from a sample without le/quantile if there is one (identical by construction).
            var foundPlain = false
            for k in first..<last {
                let sample = samples[Int(tracker.groupOrder[k])]
                if sample.suffix == .sum || sample.suffix == .count || sample.suffix == .gsum
                    || sample.suffix == .gcount
                {
                    representative = sample
                    foundPlain = true
                    break
                }
            }
            if !foundPlain, let boundSample { representative = boundSample }
            let skip: [UInt8]? =
                representative.suffix == .bucket
                ? leBytes : (isSummary && representative.suffix == .none ? quantileBytes : nil)
            var relabeled: [KeyValuePair]?
            if !context.relabel.isEmpty {
                guard let result = relabel(representative, family: family, skip: skip) else { continue }
                relabeled = result
            }
            // The specification: without `_count` the point MUST be dropped.
            guard let count else { continue }
            if !sorted { sortBuckets() }
            let total = count
            let totalCount = UInt64(cumulativeCount: total)
            let time = timestampMs != Int64.min ? UInt64(clamping: timestampMs) &* 1_000_000 : context.time

            let point = w.beginMessage(1)
            let attributesStart = w.count
            writeAttributes(&w, field: isSummary ? 7 : 9, sample: representative, skip: skip, relabeled: relabeled)
            let attributesEnd = w.count
            let startTime = startTime(
                representative.seriesHash, value: total, created: created, time: time, kind: family.type,
                name: family, w: w, attributes: attributesStart..<attributesEnd)
            w.fixed64(2, startTime)
            w.fixed64(3, time)
            w.fixed64(4, totalCount)
            if let sum {
                w.doubleAlways(5, sum)
            } else if isSummary {
                w.doubleAlways(5, 0)  // summary sum is not optional: zero when absent (spec)
            }
            if isSummary {
                for (quantile, value) in quantiles {
                    w.message(6) { q in
                        q.double(1, quantile)
                        q.double(2, value)
                    }
                }
            } else if !tracker.bounds.isEmpty || infCount != nil {
                // De-cumulate; the last bucket is +Inf (from the +Inf sample, else from _count).
                let n = tracker.bounds.count
                w.writeTag(6, .lengthDelimited)
                w.writeVarint(UInt64((n + 1) * 8))
                var previous: UInt64 = 0
                for cumulative in tracker.bucketCounts {
                    w.writeFixed64(cumulative >= previous ? cumulative - previous : 0)
                    previous = max(previous, cumulative)
                }
                let infinite = UInt64(cumulativeCount: infCount ?? total)
                w.writeFixed64(infinite >= previous ? infinite - previous : 0)
                w.packedDouble(7, tracker.bounds)
            }
            if !isSummary {
                for exemplar in exemplars { writeExemplar(&w, exposition.exemplars[Int(exemplar)], field: 8) }
            }
            w.endMessage(point)
            written += 1
            samplesPost += last - first
        }
        if !isSummary { w.int32(2, OTLP.AggregationTemporality.cumulative.rawValue) }
        w.endMessage(data)
        writeTypeMetadata(&w, family)
        w.endMessage(metric)
        if written == 0 { w.truncate(to: metricOffset) }
        points += written
    }

    mutating func sortBuckets() {
        let pairs = zip(tracker.bounds, tracker.bucketCounts).sorted { $0.0 < $1.0 }
        tracker.bounds = []
        tracker.bucketCounts = []
        for (bound, count) in pairs where tracker.bounds.last != bound {
            tracker.bounds.append(bound)
            tracker.bucketCounts.append(count)
        }
    }

    // MARK: names, help, exemplars

    /// OpenMetrics counters and infos are named as their samples are served (`x_total`, `x_info`),
    /// so a metric keeps its name whichever format the target negotiated.
    func servedSuffix(_ family: Family) -> [UInt8]? {
        guard exposition.format == .openMetrics else { return nil }
        switch family.type {
        case .counter: return totalBytes
        case .info: return infoBytes
        default: return nil
        }
    }

    func writeName(_ w: inout ProtoWriter, family: Family, suffix: [UInt8]?) {
        w.writeTag(1, .lengthDelimited)
        w.writeVarint(UInt64(family.nameBytes.count + (suffix?.count ?? 0)))
        w.writeRawBytes(family.nameBytes)
        if let suffix { w.writeRawBytes(suffix) }
    }

    /// `prometheus.type` in `Metric.metadata` (field 12), as the specification requires.
    func writeTypeMetadata(_ w: inout ProtoWriter, _ family: Family) {
        let type = family.type == .untyped ? "unknown" : family.type.description
        MetricsConverter.writeStringAttribute(&w, field: 12, key: "prometheus.type", value: type)
    }

    func writeHelpAndUnit(_ w: inout ProtoWriter, _ family: Family) {
        if family.help.count > 0 {
            let help = bytes(family.help)
            w.writeTag(2, .lengthDelimited)
            w.writeVarint(UInt64(help.count))
            w.writeRawBytes(UnsafeRawBufferPointer(help))
        }
        if family.unit.count > 0 {
            let unit = bytes(family.unit)
            w.writeTag(3, .lengthDelimited)
            w.writeVarint(UInt64(unit.count))
            w.writeRawBytes(UnsafeRawBufferPointer(unit))
        }
    }

    func writeExemplar(_ w: inout ProtoWriter, _ exemplar: Exemplar, field: UInt32) {
        let mark = w.beginMessage(field)
        let first = Int(exemplar.labelStart)
        for k in first..<first + Int(exemplar.labelCount) {
            let label = exposition.labels[k]
            let name = bytes(label.name)
            let value = bytes(label.value)
            // trace_id / span_id are bytes fields in OTLP: hex-decode them when they are valid hex.
            if equal(name, traceIDBytes), let id = hexDecode(value, length: 16) {
                w.bytes(5, id)
            } else if equal(name, spanIDBytes), let id = hexDecode(value, length: 8) {
                w.bytes(4, id)
            } else {
                MetricsConverter.writeKeyValue(&w, field: 7, key: Array(name), value: Array(value))
            }
        }
        if exemplar.timestampMs != Int64.min { w.fixed64(2, UInt64(clamping: exemplar.timestampMs) &* 1_000_000) }
        w.doubleAlways(3, exemplar.value)
        w.endMessage(mark)
    }

    // MARK: series state (start times, staleness)

    /// The start time of a cumulative point (`SeriesTracker` decides; a new series also gets the
    /// template of its staleness marker).
    mutating func startTime(
        _ hash: UInt64, value: Double, created: Double?, time: UInt64, kind: MetricType, name family: Family,
        w: borrowing ProtoWriter, attributes: Range<Int>
    ) -> UInt64 {
        if let start = tracker.knownCumulativeStart(hash, value: value, created: created, time: time) {
            return start
        }
        seriesAdded += 1
        return tracker.addCumulative(
            hash, value: value, created: created, time: time,
            stale: .init(
                kind: kind, name: staleName(family, kind: kind), attributes: w.withUnsafeBytes { Array($0[attributes]) }
            ))
    }

    /// Marks a gauge series as seen (for staleness).
    mutating func touch(
        _ hash: UInt64, kind: MetricType, name family: Family, w: borrowing ProtoWriter, attributes: Range<Int>
    ) {
        if tracker.touchKnown(hash) { return }
        seriesAdded += 1
        tracker.addGauge(
            hash,
            stale: .init(
                kind: kind, name: staleName(family, kind: kind), attributes: w.withUnsafeBytes { Array($0[attributes]) }
            ))
    }

    func staleName(_ family: Family, kind: MetricType) -> [UInt8] {
        family.nameBytes + (servedSuffix(family) ?? [])
    }
}

private let traceIDBytes: [UInt8] = Array("trace_id".utf8)
private let spanIDBytes: [UInt8] = Array("span_id".utf8)

@inline(__always)
func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return b.withUnsafeBufferPointer { b in
        a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }
}

func hexDecode(_ text: UnsafeBufferPointer<UInt8>, length: Int) -> [UInt8]? {
    guard text.count == length * 2 else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(length)
    var i = 0
    while i < text.count {
        guard let high = hexValue(text[i]), let low = hexValue(text[i + 1]) else { return nil }
        out.append(high << 4 | low)
        i += 2
    }
    return out
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    case 0x41...0x46: c - 0x41 + 10
    default: nil
    }
}
