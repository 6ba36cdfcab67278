#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte-level parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0 text.
///
/// It walks the body once, line by line (`memchr`), keeps names and label values as spans into the body
/// (copying only values that contain escapes), parses floats with an exact fast path (Clinger: up to 19
/// significant digits and a power of ten within ±22) and `strtod` otherwise. It never traps: every
/// index is checked against the line's end. The first malformed line stops the parse with its line
/// number and the reason; the caller then drops the whole scrape.
public enum ExpositionParser {
    /// Largest body accepted (spans are 32-bit).
    public static let maxBodyBytes = Int(Int32.max) / 2

    public static func parse(
        _ body: [UInt8], format: ExpositionFormat = .prometheusText
    ) throws(ExpositionError)
        -> Exposition
    {
        try parse(body: .bytes(body), format: format)
    }

    /// Parses the bytes where they are: the HTTP client's buffer for a plain scrape body (no copy).
    static func parse(body: ExpositionBody, format: ExpositionFormat) throws(ExpositionError) -> Exposition {
        guard body.count < maxBodyBytes else { throw ExpositionError(line: 0, reason: "body too large") }
        var state = ParserState(format: format)
        var result = Exposition(body: body, format: format)
        let failure: ExpositionError? = body.withUnsafeBufferPointer { buffer -> ExpositionError? in
            do throws(ExpositionError) {
                try state.run(buffer, into: &result)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return result
    }
}

// MARK: - character classes

private let tab: UInt8 = 0x09
private let newline: UInt8 = 0x0A
private let carriageReturn: UInt8 = 0x0D
private let space: UInt8 = 0x20
private let quote: UInt8 = 0x22
private let hash: UInt8 = 0x23
private let plus: UInt8 = 0x2B
private let comma: UInt8 = 0x2C
private let minus: UInt8 = 0x2D
private let dot: UInt8 = 0x2E
private let colon: UInt8 = 0x3A
private let equals: UInt8 = 0x3D
private let backslash: UInt8 = 0x5C
private let underscore: UInt8 = 0x5F
private let openBrace: UInt8 = 0x7B
private let closeBrace: UInt8 = 0x7D

@inline(__always) private func isLetter(_ c: UInt8) -> Bool { (c | 0x20) &- 0x61 < 26 }
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
@inline(__always) private func isBlank(_ c: UInt8) -> Bool { c == space || c == tab }
@inline(__always) private func isLabelStart(_ c: UInt8) -> Bool { isLetter(c) || c == underscore }
@inline(__always) private func isLabelChar(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) || c == underscore }
@inline(__always) private func isNameStart(_ c: UInt8) -> Bool { isLabelStart(c) || c == colon }
@inline(__always) private func isNameChar(_ c: UInt8) -> Bool { isLabelChar(c) || c == colon }

// MARK: - hashing (FNV-1a, finalised with a splitmix step)

@inline(__always) func fnv1a(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var i = start
    while i < end {
        h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01B3
        i += 1
    }
    return h
}

@inline(__always) func mix64(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// Hash of one label (name and value), to be summed (order-independent) into a series hash.
@inline(__always) func labelHash(name: UInt64, value: UInt64) -> UInt64 {
    mix64(name &* 0x9E37_79B9_7F4A_7C15 ^ value)
}

func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBufferPointer { fnv1a($0, 0, $0.count) }
}

// MARK: - the parser

private struct ParserState {
    let openMetrics: Bool
    /// Family lookup by name hash (the stored name is compared to rule out collisions).
    var familyIndex: [UInt64: Int32] = [:]
    /// The family of the previous sample (samples of one family are usually contiguous).
    var current: Int32 = -1
    var line = 0
    var sawEOF = false

    init(format: ExpositionFormat) {
        openMetrics = format.backing == .openMetrics
        familyIndex.reserveCapacity(128)
    }

    func fail(_ reason: String) -> ExpositionError {
        ExpositionError(line: line, reason: reason)
    }

    mutating func run(_ p: UnsafeBufferPointer<UInt8>, into out: inout Exposition) throws(ExpositionError) {
        let n = p.count
        guard let base = p.baseAddress else {
            if openMetrics {
                throw ExpositionError(line: 1, reason: "missing '# EOF' at the end of an OpenMetrics body")
            }
            return
        }
        out.samples.reserveCapacity(n / 64)
        out.labels.reserveCapacity(n / 24)
        var i = 0
        while i < n {
            line += 1
            var lineEnd = n
            if let found = memchr(base + i, Int32(newline), n - i) {
                lineEnd = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            }
            var end = lineEnd
            if end > i, p[end - 1] == carriageReturn { end -= 1 }
            if sawEOF { throw fail("content after '# EOF'") }
            try parseLine(p, i, end, into: &out)
            i = lineEnd + 1
        }
        if openMetrics && !sawEOF {
            throw ExpositionError(line: max(line, 1), reason: "missing '# EOF' at the end of an OpenMetrics body")
        }
    }

    mutating func parseLine(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout Exposition
    )
        throws(ExpositionError)
    {
        var i = start
        while i < end, isBlank(p[i]) { i += 1 }
        if i == end {
            if openMetrics { throw fail("empty line (not allowed in OpenMetrics)") }
            return
        }
        if p[i] == hash {
            try parseComment(p, i + 1, end, into: &out)
        } else {
            try parseSample(p, i, end, into: &out)
        }
    }

    // MARK: comments

    mutating func parseComment(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout Exposition
    )
        throws(ExpositionError)
    {
        var i = start
        while i < end, isBlank(p[i]) { i += 1 }
        let keywordStart = i
        while i < end, !isBlank(p[i]) { i += 1 }
        let keyword = Keyword(p, keywordStart, i)
        if keyword == .eof, openMetrics {
            guard i == end else { throw fail("unexpected text after '# EOF'") }
            sawEOF = true
            return
        }
        guard keyword == .help || keyword == .type || (keyword == .unit && openMetrics) else {
            return  // an ordinary comment
        }
        guard i < end else { throw fail("'# \(keyword.text)' without a metric name") }
        while i < end, isBlank(p[i]) { i += 1 }
        let nameStart = i
        guard i < end, isNameStart(p[i]) else { throw fail("invalid metric name in '# \(keyword.text)'") }
        while i < end, isNameChar(p[i]) { i += 1 }
        let nameEnd = i
        if i < end, !isBlank(p[i]) { throw fail("invalid metric name in '# \(keyword.text)'") }
        // One separator, then the rest of the line is the argument.
        if i < end { i += 1 }
        if !openMetrics { while i < end, isBlank(p[i]) { i += 1 } }
        let family = lookupOrCreateFamily(p, nameStart, nameEnd, out: &out)
        switch keyword {
        case .type:
            var argEnd = end
            while argEnd > i, isBlank(p[argEnd - 1]) { argEnd -= 1 }
            guard let type = metricType(p, i, argEnd) else {
                throw fail(
                    "unknown metric type '\(String(decoding: UnsafeBufferPointer(rebasing: p[i..<argEnd]), as: UTF8.self))'"
                )
            }
            if out.families[Int(family)].typed {
                throw fail("second TYPE line for metric \(out.families[Int(family)].name)")
            }
            if out.families[Int(family)].hasSamples {
                throw fail("TYPE line for metric \(out.families[Int(family)].name) after its samples")
            }
            out.families[Int(family)].type = type
            out.families[Int(family)].typed = true
        case .help:
            if out.families[Int(family)].hasHelp, openMetrics {
                throw fail("second HELP line for metric \(out.families[Int(family)].name)")
            }
            out.families[Int(family)].help = try unescape(p, i, end, isLabelValue: false, arena: &out.arena)
            out.families[Int(family)].hasHelp = true
        case .unit:
            var k = i
            while k < end {
                guard isNameChar(p[k]) else { throw fail("invalid UNIT") }
                k += 1
            }
            out.families[Int(family)].unit = ByteRange(offset: Int32(i), count: Int32(end - i))
        default:
            break
        }
    }

    enum Keyword: Equatable {
        case help, type, unit, eof, other
        var text: String {
            switch self {
            case .help: "HELP"
            case .type: "TYPE"
            case .unit: "UNIT"
            case .eof: "EOF"
            case .other: ""
            }
        }

        init(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
            switch end - start {
            case 3 where p[start] == 0x45 && p[start + 1] == 0x4F && p[start + 2] == 0x46: self = .eof
            case 4:
                let word =
                    UInt32(p[start]) << 24 | UInt32(p[start + 1]) << 16 | UInt32(p[start + 2]) << 8
                    | UInt32(p[start + 3])
                switch word {
                case 0x4845_4C50: self = .help
                case 0x5459_5045: self = .type
                case 0x554E_4954: self = .unit
                default: self = .other
                }
            default: self = .other
            }
        }
    }

    func metricType(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> MetricType? {
        let word = String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)
        switch word {
        case "counter": return .counter
        case "gauge": return .gauge
        case "histogram": return .histogram
        case "summary": return .summary
        case "untyped" where !openMetrics: return .untyped
        case "unknown" where openMetrics: return .unknown
        case "info" where openMetrics: return .info
        case "stateset" where openMetrics: return .stateset
        case "gaugehistogram" where openMetrics: return .gaugeHistogram
        default: return nil
        }
    }

    // MARK: families

    func familyMatches(_ family: Family, _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        guard family.nameBytes.count == end - start else { return false }
        return family.nameBytes.withUnsafeBufferPointer { name in
            memcmp(name.baseAddress!, p.baseAddress! + start, end - start) == 0
        }
    }

    func findFamily(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64, in out: Exposition
    )
        -> Int32?
    {
        guard let index = familyIndex[hash], familyMatches(out.families[Int(index)], p, start, end) else { return nil }
        return index
    }

    mutating func lookupOrCreateFamily(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, out: inout Exposition
    ) -> Int32 {
        let hash = fnv1a(p, start, end)
        if let index = findFamily(p, start, end, hash: hash, in: out) { return index }
        return createFamily(p, start, end, hash: hash, out: &out)
    }

    mutating func createFamily(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64, out: inout Exposition
    ) -> Int32 {
        let index = Int32(out.families.count)
        out.families.append(
            Family(
                nameBytes: Array(p[start..<end]), type: openMetrics ? .unknown : .untyped,
                nameHash: mix64(hash)))
        // On a (practically impossible) hash collision the newer family wins the index; the older
        // one still exists and keeps its samples.
        familyIndex[hash] = index
        return index
    }

    /// Which suffixes a family of this type has on its samples.
    func allows(_ type: MetricType, _ suffix: SampleSuffix) -> Bool {
        switch (type, suffix) {
        case (.counter, .none): return !openMetrics
        case (.counter, .total): return openMetrics
        case (.counter, .created), (.histogram, .created), (.summary, .created): return openMetrics
        case (.gauge, .none), (.untyped, .none), (.unknown, .none), (.stateset, .none): return true
        case (.histogram, .bucket), (.histogram, .sum), (.histogram, .count): return true
        case (.gaugeHistogram, .bucket), (.gaugeHistogram, .gsum), (.gaugeHistogram, .gcount): return true
        case (.summary, .none), (.summary, .sum), (.summary, .count): return true
        case (.info, .info): return openMetrics
        default: return false
        }
    }

    static let suffixes: [(SampleSuffix, [UInt8])] = [
        (.bucket, SampleSuffix.bucket.bytes), (.sum, SampleSuffix.sum.bytes), (.count, SampleSuffix.count.bytes),
        (.total, SampleSuffix.total.bytes), (.created, SampleSuffix.created.bytes), (.info, SampleSuffix.info.bytes),
        (.gcount, SampleSuffix.gcount.bytes), (.gsum, SampleSuffix.gsum.bytes),
    ]

    @inline(__always)
    func hasSuffix(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ suffix: [UInt8]) -> Bool {
        guard end - start > suffix.count else { return false }
        return suffix.withUnsafeBufferPointer { s in
            memcmp(s.baseAddress!, p.baseAddress! + end - s.count, s.count) == 0
        }
    }

    /// The family and suffix of a sample name.
    mutating func resolveSample(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, out: inout Exposition
    ) throws(ExpositionError) -> (Int32, SampleSuffix) {
        // Fast path: the family of the previous sample.
        if current >= 0 {
            let family = out.families[Int(current)]
            let length = family.nameBytes.count
            if end - start >= length, familyMatches(family, p, start, start + length) {
                if end - start == length {
                    if allows(family.type, .none) { return (current, .none) }
                } else if p[start + length] == underscore {
                    for (suffix, bytes) in Self.suffixes where bytes.count == end - start - length {
                        if allows(family.type, suffix), hasSuffix(p, start, end, bytes) { return (current, suffix) }
                    }
                }
            }
        }
        // A typed family with a suffix.
        for (suffix, bytes) in Self.suffixes where hasSuffix(p, start, end, bytes) {
            let baseEnd = end - bytes.count
            if let index = findFamily(p, start, baseEnd, hash: fnv1a(p, start, baseEnd), in: out),
                out.families[Int(index)].typed
            {
                let type = out.families[Int(index)].type
                if allows(type, suffix) {
                    current = index
                    return (index, suffix)
                }
            }
        }
        // The exact name.
        let hash = fnv1a(p, start, end)
        if let index = findFamily(p, start, end, hash: hash, in: out) {
            let type = out.families[Int(index)].type
            guard allows(type, .none) else {
                throw fail(
                    "sample \(String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)) does not fit \(type) family \(out.families[Int(index)].name)"
                )
            }
            current = index
            return (index, .none)
        }
        if openMetrics {
            throw fail(
                "sample \(String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)) has no TYPE (OpenMetrics needs one per family)"
            )
        }
        let index = createFamily(p, start, end, hash: hash, out: &out)
        current = index
        return (index, .none)
    }

    // MARK: samples

    mutating func parseSample(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout Exposition
    )
        throws(ExpositionError)
    {
        var i = start
        guard isNameStart(p[i]) else {
            throw fail("expected a metric name, found '\(Character(Unicode.Scalar(p[i])))'")
        }
        while i < end, isNameChar(p[i]) { i += 1 }
        let nameEnd = i
        let (family, suffix) = try resolveSample(p, start, nameEnd, out: &out)
        let type = out.families[Int(family)].type
        let boundLabel: BoundLabel =
            switch (type, suffix) {
            case (.histogram, .bucket), (.gaugeHistogram, .bucket): .le
            case (.summary, .none): .quantile
            default: .none
            }
        out.families[Int(family)].hasSamples = true

        while i < end, isBlank(p[i]) { i += 1 }
        let labelStart = out.labels.count
        var seriesHash = out.families[Int(family)].nameHash
        var bound = Double.nan
        var sawBound = false
        if i < end, p[i] == openBrace {
            i += 1
            try parseLabels(
                p, &i, end, into: &out, boundLabel: boundLabel, seriesHash: &seriesHash, bound: &bound,
                sawBound: &sawBound)
            while i < end, isBlank(p[i]) { i += 1 }
        } else if i == nameEnd, i < end {
            throw fail("invalid character '\(Character(Unicode.Scalar(p[i])))' in metric name")
        }
        if boundLabel != .none, !sawBound {
            throw fail(
                "\(boundLabel == .le ? "histogram bucket without an 'le'" : "summary sample without a 'quantile'") label"
            )
        }
        guard i < end else { throw fail("missing value") }
        let valueStart = i
        while i < end, !isBlank(p[i]) { i += 1 }
        guard let value = parseFloat(p, valueStart, i) else {
            throw fail(
                "invalid value '\(String(decoding: UnsafeBufferPointer(rebasing: p[valueStart..<i]), as: UTF8.self))'")
        }
        while i < end, isBlank(p[i]) { i += 1 }
        var timestamp = Int64.min
        if i < end, p[i] != hash {
            let timestampStart = i
            while i < end, !isBlank(p[i]) { i += 1 }
            guard let parsed = parseTimestamp(p, timestampStart, i) else {
                throw fail(
                    "invalid timestamp '\(String(decoding: UnsafeBufferPointer(rebasing: p[timestampStart..<i]), as: UTF8.self))'"
                )
            }
            timestamp = parsed
            while i < end, isBlank(p[i]) { i += 1 }
        }
        let labelCount = Int32(out.labels.count - labelStart)
        var exemplar: Int32 = -1
        if i < end {
            guard openMetrics, p[i] == hash else { throw fail("unexpected text after the sample value") }
            exemplar = try parseExemplar(p, i + 1, end, into: &out)
        }
        out.samples.append(
            Sample(
                family: family, suffix: suffix, line: Int32(truncatingIfNeeded: line), labelStart: Int32(labelStart),
                labelCount: labelCount, value: value, timestampMs: timestamp, bound: bound,
                seriesHash: seriesHash, exemplar: exemplar))
    }

    enum BoundLabel { case none, le, quantile }

    /// Parses `name="value",...}` after the `{`; leaves `i` after the `}`.
    mutating func parseLabels(
        _ p: UnsafeBufferPointer<UInt8>, _ i: inout Int, _ end: Int, into out: inout Exposition,
        boundLabel: BoundLabel, seriesHash: inout UInt64, bound: inout Double, sawBound: inout Bool
    ) throws(ExpositionError) {
        let first = out.labels.count
        while true {
            while i < end, isBlank(p[i]) { i += 1 }
            guard i < end else { throw fail("unterminated label set (missing '}')") }
            if p[i] == closeBrace {
                i += 1
                return
            }
            let nameStart = i
            guard isLabelStart(p[i]) else {
                throw fail("invalid label name starting with '\(Character(Unicode.Scalar(p[i])))'")
            }
            while i < end, isLabelChar(p[i]) { i += 1 }
            let nameEnd = i
            while i < end, isBlank(p[i]) { i += 1 }
            guard i < end, p[i] == equals else { throw fail("expected '=' after label name") }
            i += 1
            while i < end, isBlank(p[i]) { i += 1 }
            guard i < end, p[i] == quote else { throw fail("expected '\"' to start a label value") }
            i += 1
            let valueStart = i
            var escaped = false
            var highBit: UInt8 = 0
            while i < end, p[i] != quote {
                highBit |= p[i]
                if p[i] == backslash {
                    escaped = true
                    i += 1
                }
                i += 1
            }
            guard i < end else { throw fail("unterminated label value") }
            let valueEnd = i
            i += 1
            if highBit & 0x80 != 0, !isValidUTF8(p, valueStart, valueEnd) {
                throw fail("label value is not valid UTF-8")
            }
            let value: ByteRange =
                escaped
                ? try unescape(p, valueStart, valueEnd, isLabelValue: true, arena: &out.arena)
                : ByteRange(offset: Int32(valueStart), count: Int32(valueEnd - valueStart))
            let nameLength = nameEnd - nameStart
            // Duplicate label names (label sets are small: a linear scan beats hashing).
            var k = first
            while k < out.labels.count {
                let other = out.labels[k].name
                if Int(other.count) == nameLength,
                    memcmp(p.baseAddress! + Int(other.offset), p.baseAddress! + nameStart, nameLength) == 0
                {
                    throw fail(
                        "duplicate label '\(String(decoding: UnsafeBufferPointer(rebasing: p[nameStart..<nameEnd]), as: UTF8.self))'"
                    )
                }
                k += 1
            }
            out.labels.append(Label(name: ByteRange(offset: Int32(nameStart), count: Int32(nameLength)), value: value))
            let isBound: Bool
            switch boundLabel {
            case .le: isBound = nameLength == 2 && p[nameStart] == 0x6C && p[nameStart + 1] == 0x65
            case .quantile:
                isBound =
                    nameLength == 8 && memcmp(p.baseAddress! + nameStart, Self.quantileBytes, 8) == 0
            case .none: isBound = false
            }
            if isBound {
                let parsed =
                    escaped
                    ? out.withBytes(value) { parseFloat($0, 0, $0.count) } : parseFloat(p, valueStart, valueEnd)
                guard let parsed, !parsed.isNaN else {
                    throw fail("invalid \(boundLabel == .le ? "'le'" : "'quantile'") value")
                }
                bound = parsed
                sawBound = true
            } else {
                // An unescaped value is read where it is (`withBytes` would reach it through the body's storage).
                let valueHash =
                    escaped ? out.withBytes(value) { fnv1a($0, 0, $0.count) } : fnv1a(p, valueStart, valueEnd)
                seriesHash &+= labelHash(name: fnv1a(p, nameStart, nameEnd), value: valueHash)
            }
            while i < end, isBlank(p[i]) { i += 1 }
            guard i < end else { throw fail("unterminated label set (missing '}')") }
            if p[i] == comma {
                i += 1
            } else if p[i] != closeBrace {
                throw fail("expected ',' or '}' after a label value")
            }
        }
    }

    static let quantileBytes: [UInt8] = Array("quantile".utf8)

    /// Copies an escaped value into the arena, resolving `\\`, `\n` and (label values, OpenMetrics HELP) `\"`.
    func unescape(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, isLabelValue: Bool, arena: inout [UInt8]
    ) throws(ExpositionError) -> ByteRange {
        var needsCopy = false
        var k = start
        while k < end {
            if p[k] == backslash {
                needsCopy = true
                break
            }
            k += 1
        }
        if !needsCopy {
            if !isLabelValue, !isValidUTF8(p, start, end) { throw fail("HELP text is not valid UTF-8") }
            return ByteRange(offset: Int32(start), count: Int32(end - start))
        }
        let arenaStart = arena.count
        var i = start
        while i < end {
            let c = p[i]
            if c == backslash {
                guard i + 1 < end else {
                    if isLabelValue { throw fail("invalid escape at the end of a label value") }
                    arena.append(c)
                    break
                }
                let next = p[i + 1]
                switch next {
                case backslash: arena.append(backslash)
                case 0x6E: arena.append(newline)
                case quote where isLabelValue || openMetrics: arena.append(quote)
                default:
                    if isLabelValue {
                        throw fail("invalid escape sequence '\\\(Character(Unicode.Scalar(next)))' in label value")
                    }
                    // HELP in text 0.0.4 knows only \\ and \n; keep anything else as served.
                    arena.append(c)
                    arena.append(next)
                }
                i += 2
            } else {
                arena.append(c)
                i += 1
            }
        }
        if !isLabelValue {
            let valid = arena.withUnsafeBufferPointer { isValidUTF8($0, arenaStart, $0.count) }
            if !valid { throw fail("HELP text is not valid UTF-8") }
        }
        return ByteRange(offset: -Int32(arenaStart) - 1, count: Int32(arena.count - arenaStart))
    }

    // MARK: exemplars (OpenMetrics)

    mutating func parseExemplar(
        _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout Exposition
    )
        throws(ExpositionError) -> Int32
    {
        var i = start
        while i < end, isBlank(p[i]) { i += 1 }
        guard i < end, p[i] == openBrace else { throw fail("expected '{' to start an exemplar's labels") }
        i += 1
        let labelStart = out.labels.count
        var ignoredHash: UInt64 = 0
        var ignoredBound = Double.nan
        var ignoredSaw = false
        try parseLabels(
            p, &i, end, into: &out, boundLabel: .none, seriesHash: &ignoredHash, bound: &ignoredBound,
            sawBound: &ignoredSaw)
        let labelCount = out.labels.count - labelStart
        while i < end, isBlank(p[i]) { i += 1 }
        let valueStart = i
        while i < end, !isBlank(p[i]) { i += 1 }
        guard let value = parseFloat(p, valueStart, i) else { throw fail("invalid exemplar value") }
        while i < end, isBlank(p[i]) { i += 1 }
        var timestamp = Int64.min
        if i < end {
            let timestampStart = i
            while i < end, !isBlank(p[i]) { i += 1 }
            guard let parsed = parseTimestamp(p, timestampStart, i) else { throw fail("invalid exemplar timestamp") }
            timestamp = parsed
            while i < end, isBlank(p[i]) { i += 1 }
            guard i == end else { throw fail("unexpected text after the exemplar") }
        }
        out.exemplars.append(
            Exemplar(labelStart: Int32(labelStart), labelCount: Int32(labelCount), value: value, timestampMs: timestamp)
        )
        return Int32(out.exemplars.count - 1)
    }

    // MARK: timestamps

    /// Text 0.0.4: integer milliseconds. OpenMetrics: (fractional) seconds.
    func parseTimestamp(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        if openMetrics {
            guard let seconds = parseFloat(p, start, end), seconds.isFinite, abs(seconds) < 9.2e15 else { return nil }
            return Int64((seconds * 1000).rounded())
        }
        var i = start
        var negative = false
        if i < end, p[i] == minus || p[i] == plus {
            negative = p[i] == minus
            i += 1
        }
        guard i < end else { return nil }
        var value: Int64 = 0
        while i < end {
            guard isDigit(p[i]) else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(p[i] &- 0x30))
            if o1 || o2 { return nil }
            value = sum
            i += 1
        }
        return negative ? -value : value
    }
}

// MARK: - floats

private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

/// Parses a float the way Go's `strconv.ParseFloat` and Python's `float()` print them: decimal with
/// optional exponent (exact fast path), and `NaN`, `Inf`, `+Inf`, `-Inf`, hex, long mantissas via `strtod`.
func parseFloat(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    guard start < end else { return nil }
    var i = start
    var negative = false
    if p[i] == minus {
        negative = true
        i += 1
    } else if p[i] == plus {
        i += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    var sawDigit = false
    var truncated = false
    while i < end, isDigit(p[i]) {
        sawDigit = true
        let d = UInt64(p[i] &- 0x30)
        if mantissa == 0 && d == 0 {
        } else if digits < 19 {
            mantissa = mantissa &* 10 &+ d
            digits += 1
        } else {
            exponent += 1
            if d != 0 { truncated = true }
        }
        i += 1
    }
    if i < end, p[i] == dot {
        i += 1
        while i < end, isDigit(p[i]) {
            sawDigit = true
            let d = UInt64(p[i] &- 0x30)
            if mantissa == 0 && d == 0 {
                exponent -= 1
            } else if digits < 19 {
                mantissa = mantissa &* 10 &+ d
                digits += 1
                exponent -= 1
            } else if d != 0 {
                truncated = true
            }
            i += 1
        }
    }
    guard sawDigit else { return slowParseFloat(p, start, end) }
    if i < end, p[i] | 0x20 == 0x65 {
        i += 1
        var expNegative = false
        if i < end, p[i] == minus || p[i] == plus {
            expNegative = p[i] == minus
            i += 1
        }
        guard i < end, isDigit(p[i]) else { return nil }
        var e = 0
        while i < end, isDigit(p[i]) {
            if e < 100_000 { e = e * 10 + Int(p[i] &- 0x30) }
            i += 1
        }
        exponent += expNegative ? -e : e
    }
    guard i == end else { return slowParseFloat(p, start, end) }
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    if !truncated, mantissa < (1 << 53), exponent >= -22, exponent <= 22 {
        let m = Double(mantissa)
        let value = exponent >= 0 ? m * exactPowersOfTen[exponent] : m / exactPowersOfTen[-exponent]
        return negative ? -value : value
    }
    return slowParseFloat(p, start, end)
}

/// `strtod` on a NUL-terminated copy, accepting only what Go's `ParseFloat` accepts too.
private func slowParseFloat(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    let length = end - start
    guard length > 0, length < 128 else { return nil }
    // Refuse C-only forms: `nan(...)`, leading blanks (already split on), "infinity" is fine in both.
    var k = start
    while k < end {
        let c = p[k]
        guard isLetter(c) || isDigit(c) || c == plus || c == minus || c == dot else { return nil }
        k += 1
    }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 129) { buffer -> Double? in
        guard let base = buffer.baseAddress else { return nil }
        for j in 0..<length { buffer[j] = CChar(bitPattern: p[start + j]) }
        buffer[length] = 0
        var endPointer: UnsafeMutablePointer<CChar>?
        let value = strtod(base, &endPointer)
        guard let endPointer, endPointer == base + length else { return nil }
        return value
    }
}

// MARK: - UTF-8

/// Validates UTF-8 (no overlongs, no surrogates, at most U+10FFFF) in `p[start..<end]`.
func isValidUTF8(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
    var i = start
    while i < end {
        let c = p[i]
        if c < 0x80 {
            i += 1
            continue
        }
        let length: Int
        let min: UInt32
        var scalar: UInt32
        if c & 0xE0 == 0xC0 {
            length = 2
            min = 0x80
            scalar = UInt32(c & 0x1F)
        } else if c & 0xF0 == 0xE0 {
            length = 3
            min = 0x800
            scalar = UInt32(c & 0x0F)
        } else if c & 0xF8 == 0xF0 {
            length = 4
            min = 0x10000
            scalar = UInt32(c & 0x07)
        } else {
            return false
        }
        guard end - i >= length else { return false }
        for j in 1..<length {
            let next = p[i + j]
            guard next & 0xC0 == 0x80 else { return false }
            scalar = scalar << 6 | UInt32(next & 0x3F)
        }
        if scalar < min || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return false }
        i += length
    }
    return true
}
