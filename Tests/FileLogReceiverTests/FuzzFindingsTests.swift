import OTLPWire
import Testing

@testable import FileLogReceiver

/// Inputs the libFuzzer targets (Fuzz/FuzzLogLine, Fuzz/FuzzFluxJSON) found, kept as regression tests.
@Suite struct FileLogFuzzFindingsTests {
    /// FuzzFluxJSON (seed big-numbers.json): a valid JSON number beyond Double's range made the whole
    /// line fall back to raw text; it is now the number's text, and the line keeps its structure.
    @Test func numberBeyondDoubleKeepsTheLineStructured() throws {
        let record = try encode(#"{"i":123456789012345678901,"d":1e400,"m":-0,"e":1E-7,"n":-1e400,"msg":"m"}"#)
        #expect(record.body == .string("m"))
        #expect(record.attribute("d") == .string("1e400"))
        #expect(record.attribute("n") == .string("-1e400"))
        #expect(record.attribute("i") == .double(1.2345678901234568e20))
        #expect(record.attribute("m") == .int(0))
        #expect(record.attribute("e") == .double(1e-7))
    }

    /// FuzzFluxJSON: a number longer than 64 characters (a long exponent or mantissa) sent the line raw too.
    @Test func numberLongerThan64CharactersKeepsTheLineStructured() throws {
        let long = "1e4" + String(repeating: "6", count: 100)
        let mantissa = "0." + String(repeating: "5", count: 80)
        let record = try encode(#"{"d":\#(long),"m":\#(mantissa),"msg":"m"}"#)
        #expect(record.body == .string("m"))
        #expect(record.attribute("d") == .string(long))
        #expect(record.attribute("m") == .double(0.5555555555555556))
    }

    /// FuzzFluxJSON: a JSON object after leading whitespace (`\r{…}`) went out as raw text.
    @Test func leadingWhitespaceBeforeTheObjectKeepsTheLineStructured() throws {
        let record = try encode("\r \t{\"level\":\"debug\",\"msg\":\"m\",\"n\":-12}")
        #expect(record.body == .string("m"))
        #expect(record.attribute("n") == .int(-12))
    }

    /// The same number as `ts` is not a time: it stays an attribute (as text), the runtime's time is used.
    @Test func timestampBeyondDoubleIsAnAttribute() throws {
        let record = try encode(#"{"ts":1e400,"msg":"m"}"#)
        #expect(record.attribute("ts") == .string("1e400"))
        #expect(record.timeUnixNano == 1_786_525_201_000_000_000)
    }
}

/// FuzzFluxJSON: JSON nested 20 to 31 levels deep was parsed into a LogRecord nested deeper (3 protobuf
/// levels per object) than the repo's own reader accepts (ProtoReader.defaultMaxDepth 64), so the
/// pipeline's splitter and every depth-checking decoder rejected the chunk. The encoder now stops at
/// 20 levels (deeper lines go out as raw text), which keeps every record within 64 levels.
@Suite struct FileLogDepthTests {
    func chunk(_ line: String) throws -> [UInt8] {
        var builder = LogChunkBuilder(path: "/var/log/pods/flux-system_a-1_0/manager/0.log", resolvedPath: "")
        var encoder = LogRecordEncoder()
        builder.open(reservingCapacity: 1024)
        Array(line.utf8).withUnsafeBytes { bytes in
            let record = DecodedRecord(
                content: bytes, stream: .stderr, time: 1, truncated: false, originalSize: bytes.count)
            builder.withWriter { w, attributes in
                encoder.append(record, fileAttributes: attributes, observedNow: 1, into: &w)
            }
        }
        let finished = builder.finish()
        return try #require(finished).bytes
    }

    @Test(arguments: [1, 18, 19, 20, 21, 25, 31, 40])
    func nestedObjectsStayWithinTheReaderDepth(levels: Int) throws {
        let line =
            "{\"msg\":\"m\",\"a\":" + String(repeating: "{\"k\":", count: levels) + "1"
            + String(repeating: "}", count: levels) + "}"
        let bytes = try chunk(line)
        #expect(try OTLPWalker.countItems(signal: .logs, body: bytes) == 1)
        let record = try #require(
            OTLP.ExportLogsServiceRequest(decoding: bytes).resourceLogs.first?.scopeLogs.first?.logRecords.first)
        // Structured up to the encoder's depth, raw text beyond it.
        #expect((record.body == .string("m")) == (levels < LogRecordEncoder.maxDepth), "\(levels) levels")
    }

    @Test(arguments: [19, 20, 30])
    func nestedArraysStayWithinTheReaderDepth(levels: Int) throws {
        let line =
            "{\"a\":" + String(repeating: "[", count: levels) + "{}" + String(repeating: "]", count: levels) + "}"
        #expect(try OTLPWalker.countItems(signal: .logs, body: try chunk(line)) == 1)
    }
}

/// FuzzFluxJSON: `"ts"` as epoch seconds up to 1e11 passed the range check, but seconds beyond
/// 1.8e10 overflow UInt64 nanoseconds and `UInt64(_:)` trapped: one such Flux log line crashed the
/// agent. ISO 8601 years after 2554 wrapped around silently. Both are now "not a time" (an attribute).
@Suite struct FileLogTimestampRangeTests {
    @Test func epochSecondsBeyondUInt64NanosecondsIsNotATime() throws {
        // The input as found (the JSON is broken after `ts`: the line goes out raw, and must not crash).
        let found: [UInt8] = Array(#"{"ts":89012345950,76""1d:0e40E-7}"#.utf8)
        let raw = try #require(encodeChunk([found]).scopeLogs.first?.logRecords.first)
        #expect(raw.body == .string(String(decoding: found, as: UTF8.self)))
        let record = try encode(#"{"ts":89012345950,"msg":"m"}"#)
        #expect(record.attribute("ts") == .int(89_012_345_950))
        #expect(record.timeUnixNano == 1_786_525_201_000_000_000)  // the runtime's time
        #expect(Timestamp.fromEpochSeconds(18_446_744_073.5) == nil)
        #expect(Timestamp.fromEpochSeconds(18_446_744_072) == 18_446_744_072_000_000_000)
    }

    @Test func isoYearsBeyond2554AreNotATime() {
        func parse(_ text: String) -> UInt64? {
            Array(text.utf8).withUnsafeBufferPointer { Timestamp.parseISO8601($0.baseAddress!, $0.count) }
        }
        #expect(parse("9999-12-31T23:59:59.999999999Z") == nil)
        #expect(parse("2554-07-21T23:34:33Z") == nil)
        #expect(parse("2554-07-21T23:34:32.999999999Z") == 18_446_744_072_999_999_999)
        #expect(parse("2026-08-12T09:00:01.102Z") == 1_786_525_201_102_000_000)
    }
}
