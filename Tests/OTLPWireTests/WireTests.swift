import FluxtelTestSupport
import OTLPWire
import Testing

private func written(_ body: (inout ProtoWriter) -> Void) -> [UInt8] {
    var w = ProtoWriter()
    body(&w)
    return w.finish()
}

private func decodeError(
    _ bytes: [UInt8], maxDepth: Int = 64, _ read: (inout ProtoReader) throws(ProtoDecodingError) -> Void
) -> ProtoDecodingError? {
    var r = ProtoReader(bytes, maxDepth: maxDepth)
    do {
        try read(&r)
        return nil
    } catch {
        return error
    }
}

@Suite("ProtoWriter / ProtoReader")
struct WireTests {
    static let varintCases: [(UInt64, [UInt8])] = [
        (0, [0]), (1, [1]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]),
        (16383, [0xFF, 0x7F]), (16384, [0x80, 0x80, 0x01]), (UInt64(UInt32.max), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        (UInt64.max, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
    ]

    @Test("varint edge values round-trip with the canonical length", arguments: varintCases)
    func varints(value: UInt64, encoding: [UInt8]) throws {
        let bytes = written { $0.writeVarint(value) }
        #expect(bytes == encoding)
        #expect(protoVarintSize(value) == encoding.count)
        var r = ProtoReader(bytes)
        #expect(try r.readVarint() == value)
        #expect(r.isAtEnd)
    }

    @Test("zigzag")
    func zigzag() {
        let pairs32: [(Int32, UInt32)] = [
            (0, 0), (-1, 1), (1, 2), (-2, 3), (Int32.max, UInt32.max - 1), (Int32.min, UInt32.max),
        ]
        for (v, z) in pairs32 {
            #expect(ProtoWriter.zigzag32(v) == z)
            #expect(ProtoWriter.unzigzag32(z) == v)
        }
        let pairs64: [(Int64, UInt64)] = [
            (0, 0), (-1, 1), (1, 2), (Int64.max, UInt64.max - 1), (Int64.min, UInt64.max),
        ]
        for (v, z) in pairs64 {
            #expect(ProtoWriter.zigzag64(v) == z)
            #expect(ProtoWriter.unzigzag64(z) == v)
        }
        #expect(written { $0.sint32(1, -3) } == [0x08, 0x05])
        #expect(written { $0.sint64(1, -3) } == [0x08, 0x05])
    }

    @Test("every wire type, proto3 defaults omitted")
    func wireTypes() throws {
        let bytes = written { w in
            w.uint64(1, 150)  // varint
            w.fixed64(2, 0x0102_0304_0506_0708)  // I64
            w.string(3, "hi")  // LEN
            w.fixed32(5, 0xDEAD_BEEF)  // I32
            w.int32(6, -1)  // negative int32: 10 bytes
            w.double(7, 1.5)
            w.bool(8, true)
            w.sfixed64(9, -2)
            // defaults: nothing written
            w.uint64(20, 0)
            w.string(21, "")
            w.bytes(22, [UInt8]())
            w.bool(23, false)
            w.double(24, 0)
            w.fixed32(25, 0)
            w.packedFixed64(26, [])
            w.int64(27, 0)
        }
        #expect(bytes.prefix(3) == [0x08, 0x96, 0x01])
        var r = ProtoReader(bytes)
        var k = try #require(try r.nextField())
        #expect(k.number == 1 && k.wireType == .varint)
        #expect(try r.uint64(k) == 150)
        k = try #require(try r.nextField())
        #expect(k.wireType == .fixed64)
        #expect(try r.fixed64(k) == 0x0102_0304_0506_0708)
        k = try #require(try r.nextField())
        #expect(k.wireType == .lengthDelimited)
        #expect(try r.string(k) == "hi")
        k = try #require(try r.nextField())
        #expect(k.number == 5 && k.wireType == .fixed32)
        #expect(try r.fixed32(k) == 0xDEAD_BEEF)
        let before = r.position
        k = try #require(try r.nextField())
        #expect(try r.int32(k) == -1)
        #expect(r.position - before == 11)
        k = try #require(try r.nextField())
        #expect(try r.double(k) == 1.5)
        k = try #require(try r.nextField())
        #expect(try r.bool(k))
        k = try #require(try r.nextField())
        #expect(try r.sfixed64(k) == -2)
        #expect(try r.nextField() == nil)
        // -0.0 is not the default bit pattern: written, as the official runtimes do.
        #expect(written { $0.double(1, -0.0) }.count == 9)
    }

    @Test("nested message lengths around the one-byte boundary and deep nesting")
    func nestedLengths() throws {
        for size in [0, 1, 126, 127, 128, 129, 16383, 16384, 70000] {
            let payload = [UInt8](repeating: 0x41, count: size)
            let bytes = written { w in
                w.message(1) { inner in
                    inner.message(2) { $0.writeBytesAlways(3, payload) }
                    inner.uint32(4, 7)
                }
                w.uint32(5, 9)
            }
            var r = ProtoReader(bytes)
            let k = try #require(try r.nextField())
            var outer = try r.nested(k)
            let k2 = try #require(try outer.nextField())
            var mid = try outer.nested(k2)
            let k3 = try #require(try mid.nextField())
            #expect(try mid.bytes(k3) == payload)
            #expect(mid.isAtEnd)
            let k4 = try #require(try outer.nextField())
            #expect(try outer.uint32(k4) == 7)
            #expect(try outer.nextField() == nil)
            let k5 = try #require(try r.nextField())
            #expect(try r.uint32(k5) == 9)
            // Canonical: the length prefix has its minimal size.
            let innerLen = 1 + protoVarintSize(UInt64(size)) + size
            let midLen = 1 + protoVarintSize(UInt64(innerLen)) + innerLen + 2
            #expect(bytes.count == 1 + protoVarintSize(UInt64(midLen)) + midLen + 2)
        }
    }

    @Test("packed repeated fields, and unpacked ones are accepted too")
    func packed() throws {
        let bytes = written { w in
            w.packedFixed64(1, [1, UInt64.max])
            w.packedDouble(2, [0.5, -2])
            w.packedVarint(3, [0, 300, UInt64.max])
            w.fixed64(1, 3)  // unpacked element of field 1
            w.uint64(3, 5)  // unpacked element of field 3
        }
        var r = ProtoReader(bytes)
        var f1: [UInt64] = []
        var f2: [Double] = []
        var f3: [UInt64] = []
        while let k = try r.nextField() {
            switch k.number {
            case 1: try r.appendFixed64(k, to: &f1)
            case 2: try r.appendDouble(k, to: &f2)
            default: try r.appendVarint(k, to: &f3)
            }
        }
        #expect(f1 == [1, UInt64.max, 3])
        #expect(f2 == [0.5, -2])
        #expect(f3 == [0, 300, UInt64.max, 5])
        // Packed fixed64 with a length that is not a multiple of 8.
        let bad: [UInt8] = [0x0A, 0x03, 1, 2, 3]
        let e = decodeError(bad) { r throws(ProtoDecodingError) in
            var v: [UInt64] = []
            while let k = try r.nextField() { try r.appendFixed64(k, to: &v) }
        }
        #expect(e?.reason == .badPackedLength(field: 1, length: 3))
    }

    @Test("writer reuse, truncate and appending")
    func writerLifecycle() {
        var w = ProtoWriter(reservingCapacity: 1)
        for i in 0..<1000 { w.uint64(1, UInt64(i)) }
        let filled = w.count
        #expect(filled > 1000)
        w.removeAll()
        let emptied = w.count
        #expect(emptied == 0)
        w.string(1, "x")
        let n = w.count
        w.string(2, "y")
        #expect(n == 3)
        w.truncate(to: n)
        let truncated = w.bytes
        #expect(truncated == [0x0A, 0x01, 0x78])
        var w2 = ProtoWriter(appendingTo: [0x08, 0x01])
        w2.uint64(2, 1)
        let appended = w2.finish()
        #expect(appended == [0x08, 0x01, 0x10, 0x01])
    }
}

@Suite("ProtoReader rejects malformed input with typed errors")
struct MalformedInputTests {
    private func readAll(_ bytes: [UInt8], maxDepth: Int = 64) -> ProtoDecodingError? {
        decodeError(bytes, maxDepth: maxDepth) { r throws(ProtoDecodingError) in
            while let k = try r.nextField() { try r.skip(k) }
        }
    }

    @Test("truncated varint")
    func truncatedVarint() {
        let e = readAll([0x08, 0x80, 0x80])
        #expect(e == ProtoDecodingError(offset: 1, reason: .truncated))
        #expect(readAll([0x80]) == ProtoDecodingError(offset: 0, reason: .truncated))
    }

    @Test("varint longer than 10 bytes")
    func varintOverflow() {
        let bytes: [UInt8] = [0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]
        #expect(readAll(bytes) == ProtoDecodingError(offset: 1, reason: .varintTooLong))
        // 10th byte with more than the top bit
        let bytes2: [UInt8] = [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x02]
        #expect(readAll(bytes2)?.reason == .varintTooLong)
    }

    @Test("length past the end, and a declared length of 2 GB")
    func lengthPastEnd() {
        #expect(
            readAll([0x0A, 0x05, 1, 2])
                == ProtoDecodingError(offset: 1, reason: .lengthPastEnd(declared: 5, available: 2)))
        // 2 GiB declared, nothing there: an error, and nothing allocated for it.
        let twoGB: [UInt8] = [0x0A, 0x80, 0x80, 0x80, 0x80, 0x08]
        #expect(readAll(twoGB)?.reason == .lengthPastEnd(declared: 1 << 31, available: 0))
        #expect(throws: ProtoDecodingError.self) { try OTLP.ExportLogsServiceRequest(decoding: twoGB) }
        #expect(throws: ProtoDecodingError.self) { try OTLPWalker.countItems(signal: .logs, body: twoGB) }
        // max UInt64 length
        #expect(
            readAll([0x0A] + [UInt8](repeating: 0xFF, count: 9) + [0x01])?.reason
                == .lengthPastEnd(declared: UInt64.max, available: 0))
    }

    @Test("truncated fixed-width values")
    func truncatedFixed() {
        #expect(readAll([0x09, 1, 2, 3]) == ProtoDecodingError(offset: 1, reason: .truncated))
        #expect(readAll([0x0D, 1, 2, 3]) == ProtoDecodingError(offset: 1, reason: .truncated))
    }

    @Test("group wire types, invalid wire types, field number 0")
    func badTags() {
        #expect(readAll([0x0B]) == ProtoDecodingError(offset: 0, reason: .groupsNotSupported))
        #expect(readAll([0x0C]) == ProtoDecodingError(offset: 0, reason: .groupsNotSupported))
        #expect(readAll([0x0E]) == ProtoDecodingError(offset: 0, reason: .invalidWireType(6)))
        #expect(readAll([0x0F]) == ProtoDecodingError(offset: 0, reason: .invalidWireType(7)))
        #expect(readAll([0x00, 0x01]) == ProtoDecodingError(offset: 0, reason: .invalidFieldNumber(0)))
        #expect(readAll([0x08, 0x01, 0x02, 0x00]) == ProtoDecodingError(offset: 2, reason: .invalidFieldNumber(0)))
    }

    @Test("wrong wire type for a known field")
    func wrongWireType() {
        // Span.name (5) as a varint
        let span: [UInt8] = [0x28, 0x01]
        let e = decodeError(span) { r throws(ProtoDecodingError) in _ = try OTLP.Span(from: &r) }
        #expect(
            e
                == ProtoDecodingError(
                    offset: 0, reason: .wrongWireType(field: 5, expected: .lengthDelimited, actual: .varint)))
        // Span.start_time_unix_nano (7, fixed64) as a varint, inside a request
        var w = ProtoWriter()
        w.message(1) { rs in rs.message(2) { ss in ss.message(2) { sp in sp.uint64(7, 5) } } }
        let body = w.finish()
        #expect(throws: ProtoDecodingError.self) { try OTLP.ExportTraceServiceRequest(decoding: body) }
        let walkerError = #expect(throws: ProtoDecodingError.self) {
            try OTLPWalker.countItems(signal: .traces, body: body)
        }
        #expect(walkerError?.reason == .wrongWireType(field: 7, expected: .fixed64, actual: .varint))
        #expect(walkerError?.offset == 6)
    }

    @Test("invalid UTF-8 in a string field")
    func invalidUTF8() {
        let kv: [UInt8] = [0x0A, 0x02, 0xC3, 0x28]
        let e = decodeError(kv) { r throws(ProtoDecodingError) in _ = try OTLP.KeyValue(from: &r) }
        #expect(e == ProtoDecodingError(offset: 0, reason: .invalidUTF8(field: 1)))
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]] {
            #expect(!bad.withUnsafeBufferPointer { validateUTF8($0) }, "\(bad)")
        }
        let good = Array("aé✓😀".utf8)
        #expect(good.withUnsafeBufferPointer { validateUTF8($0) })
        // The eight-bytes-at-a-time ASCII path: a sequence at every offset in and around a word.
        for offset in 0...17 {
            let ascii = { (count: Int) in [UInt8](repeating: UInt8(ascii: "a"), count: count) }
            for bad: [UInt8] in [[0xC3, 0x28], [0x80], [0xE2, 0x82], [0xFF]] {
                let bytes = ascii(offset) + bad + ascii(9)
                #expect(!bytes.withUnsafeBufferPointer { validateUTF8($0) }, "\(offset) \(bad)")
            }
            let bytes = ascii(offset) + good + ascii(offset)
            #expect(bytes.withUnsafeBufferPointer { validateUTF8($0) }, "\(offset)")
        }
    }

    @Test("nesting 10,000 deep returns an error, not a stack overflow")
    func deepNesting() {
        // AnyValue{array_value: ArrayValue{values: AnyValue{array_value: ...}}} 10,000 levels deep,
        // built inside out.
        var inner: [UInt8] = []
        for _ in 0..<5_000 {
            var w = ProtoWriter()
            w.writeBytesAlways(1, inner)  // ArrayValue.values
            let array = w.finish()
            var w2 = ProtoWriter()
            w2.writeBytesAlways(5, array)  // AnyValue.array_value
            inner = w2.finish()
        }
        var w = ProtoWriter()
        w.message(1) { rl in rl.message(2) { sl in sl.message(2) { lr in lr.writeBytesAlways(5, inner) } } }
        let body = w.finish()
        let e1 = #expect(throws: ProtoDecodingError.self) { try OTLP.ExportLogsServiceRequest(decoding: body) }
        #expect(e1?.reason == .tooDeep(limit: 64))
        let e2 = #expect(throws: ProtoDecodingError.self) { try OTLPWalker.countItems(signal: .logs, body: body) }
        #expect(e2?.reason == .tooDeep(limit: 64))
        // A configurable limit: 3 levels are not enough for a log record.
        #expect(throws: ProtoDecodingError.self) {
            try OTLPWalker.countItems(signal: .logs, body: Golden.logsRequest().serializedBytes(), maxDepth: 3)
        }
        #expect(throws: Never.self) {
            try OTLPWalker.countItems(signal: .logs, body: Golden.logsRequest().serializedBytes())
        }
    }

    @Test("unknown fields of every wire type are skipped")
    func unknownFields() throws {
        var w = ProtoWriter()
        w.uint64(100, 1)
        w.fixed64(101, 2)
        w.string(102, "x")
        w.fixed32(103, 3)
        w.string(1, "key")
        w.uint64(536_870_911, 4)  // max field number
        let kv = try OTLP.KeyValue(decoding: w.finish())
        #expect(kv == OTLP.KeyValue(key: "key", value: nil))
    }

    @Test("every truncation of a valid request is rejected or decodes, never traps")
    func truncations() {
        let full = Golden.metricsRequest().serializedBytes()
        var rejected = 0
        for cut in stride(from: 0, to: full.count, by: 7) {
            let prefix = Array(full[..<cut])
            if (try? OTLP.ExportMetricsServiceRequest(decoding: prefix)) == nil { rejected += 1 }
            _ = try? OTLPWalker.countItems(signal: .metrics, body: prefix)
        }
        #expect(rejected > 0)
    }

    @Test("random bytes never trap")
    func fuzz() {
        var rng = SeededRandom(seed: 42)
        let seed = Golden.traceRequest().serializedBytes()
        for _ in 0..<2000 {
            var bytes = seed
            for _ in 0..<4 {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = try? OTLP.ExportTraceServiceRequest(decoding: bytes)
            _ = try? OTLPWalker.countItems(signal: .traces, body: bytes)
            _ = try? OTLPWalker.split(signal: .traces, body: bytes, maxBytes: 200, maxItems: 2)
        }
    }
}
