import OTLPWire
import Testing

@testable import FileLogReceiver

struct Decoded: Equatable {
    var content: [UInt8]
    var stream: LogStream
    var time: UInt64
    var truncated: Bool
    var originalSize: Int
    var text: String { String(decoding: content, as: UTF8.self) }
}

/// Feeds physical lines (without `\n`) through a decoder and collects what it emits.
func decode(
    _ lines: [[UInt8]], format: LineFormat, maxLogSize: Int = 1 << 20
) -> (records: [Decoded], format: LineFormat) {
    var decoder = LineDecoder(format: format, maxLogSize: maxLogSize)
    var out: [Decoded] = []
    var offset: Int64 = 0
    for line in lines {
        line.withUnsafeBytes { bytes in
            decoder.decode(bytes, startOffset: offset) { record in
                out.append(
                    Decoded(
                        content: Array(record.content), stream: record.stream, time: record.time,
                        truncated: record.truncated, originalSize: record.originalSize))
            }
        }
        offset += Int64(line.count + 1)
    }
    return (out, decoder.format)
}

func decode(
    _ lines: [String], format: LineFormat, maxLogSize: Int = 1 << 20
) -> (records: [Decoded], format: LineFormat) {
    decode(lines.map { Array($0.utf8) }, format: format, maxLogSize: maxLogSize)
}

/// A JSON string literal for `s` (docker's `log` field).
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// A line of `count` bytes of varied printable content.
func payload(_ count: Int, seed: Int = 0) -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}:,\"\\")
    return String((0..<count).map { alphabet[($0 * 7 + seed) % alphabet.count] })
}

@Suite struct LineDecoderTests {
    @Test func criFullLine() {
        let (records, format) = decode(["2026-08-12T09:00:01.102345678Z stderr F {\"level\":\"info\"}"], format: .auto)
        #expect(format == .cri)
        #expect(records.count == 1)
        #expect(records[0].text == "{\"level\":\"info\"}")
        #expect(records[0].stream == .stderr)
        #expect(records[0].time == 1_786_525_201_102_345_678)
        #expect(!records[0].truncated)
    }

    @Test func criTimeWithOffsetAndEmptyContent() {
        let (records, _) = decode(
            ["2026-08-12T11:00:01.5+02:00 stdout F x", "2026-08-12T09:00:01Z stdout F"], format: .cri)
        #expect(records.map(\.time) == [1_786_525_201_500_000_000, 1_786_525_201_000_000_000])
        #expect(records.map(\.text) == ["x", ""])
        #expect(records[0].stream == .stdout)
    }

    /// Acceptance 2: a 100 KiB line split by the runtime into 16 KiB `P` fragments reassembles exactly.
    @Test func criPartialsJoinExactly() {
        let line = payload(100 * 1024)
        let bytes = Array(line.utf8)
        var lines: [String] = []
        var index = 0
        while index < bytes.count {
            let end = min(index + 16 * 1024, bytes.count)
            let tag = end == bytes.count ? "F" : "P"
            lines.append(
                "2026-08-12T09:00:01.000000001Z stderr \(tag) " + String(decoding: bytes[index..<end], as: UTF8.self))
            index = end
        }
        lines.append("2026-08-12T09:00:02Z stderr F next")
        let (records, _) = decode(lines, format: .auto)
        #expect(records.count == 2)
        #expect(records[0].content == bytes)
        #expect(!records[0].truncated)
        #expect(records[0].time == 1_786_525_201_000_000_001)
        #expect(records[1].text == "next")
    }

    /// Acceptance 2: docker json-file's 16 KiB splits (no trailing `\n`) reassemble exactly.
    @Test func dockerSplitsJoinExactly() {
        let line = payload(100 * 1024, seed: 3)
        let chars = Array(line)
        var lines: [String] = []
        var index = 0
        while index < chars.count {
            let end = min(index + 16 * 1024, chars.count)
            var piece = String(chars[index..<end])
            if end == chars.count { piece += "\n" }
            lines.append("{\"log\":\(jsonQuoted(piece)),\"stream\":\"stdout\",\"time\":\"2026-08-12T09:00:01.25Z\"}")
            index = end
        }
        lines.append("{\"log\":\"tab\\there \\u00e9\\n\",\"stream\":\"stderr\",\"time\":\"2026-08-12T09:00:02Z\"}")
        let (records, format) = decode(lines, format: .auto)
        #expect(format == .docker)
        #expect(records.count == 2)
        #expect(records[0].text == line)
        #expect(records[0].stream == .stdout)
        #expect(records[0].time == 1_786_525_201_250_000_000)
        #expect(records[1].text == "tab\there é")
        #expect(records[1].stream == .stderr)
    }

    /// Acceptance 2: a 5 MiB line is cut to `max_log_size` and flagged, never dropped.
    @Test func hugeJoinedLineIsTruncatedAndFlagged() {
        let fragment = String(repeating: "x", count: 16 * 1024)
        let fragments = 5 * 64  // 5 MiB
        var lines = (0..<fragments - 1).map { _ in "2026-08-12T09:00:01Z stderr P " + fragment }
        lines.append("2026-08-12T09:00:01Z stderr F " + fragment)
        lines.append("2026-08-12T09:00:01Z stderr F after")
        let (records, _) = decode(lines, format: .cri, maxLogSize: 1 << 20)
        #expect(records.count == 2)
        #expect(records[0].content.count == 1 << 20)
        #expect(records[0].truncated)
        #expect(records[0].originalSize == 5 << 20)
        #expect(records[1].text == "after")
        #expect(!records[1].truncated)
    }

    @Test func rawLongLineIsCapped() {
        let (records, _) = decode([String(repeating: "y", count: 5000)], format: .raw, maxLogSize: 1024)
        #expect(records.count == 1)
        #expect(records[0].content.count == 1024)
        #expect(records[0].truncated)
        #expect(records[0].originalSize == 5000)
    }

    @Test func linesNotInTheFormatAreKeptRaw() {
        let (records, _) = decode(
            ["2026-08-12T09:00:01Z stderr F ok", "panic: runtime error\r", "garbage \u{0}\u{1} bytes", ""], format: .cri
        )
        #expect(records.map(\.text) == ["ok", "panic: runtime error", "garbage \u{0}\u{1} bytes"])
        #expect(records[1].stream == .unknown)
    }

    @Test func autoDetectsRaw() {
        let (records, format) = decode(["I0915 14:58:21.046324 6 request.go:601] Waited for 1s"], format: .auto)
        #expect(format == .raw)
        #expect(records.count == 1)
    }

    @Test func flushEmitsAHalfJoinedRecord() {
        var decoder = LineDecoder(format: .cri, maxLogSize: 1024)
        var out: [String] = []
        Array("2026-08-12T09:00:01Z stderr P half".utf8).withUnsafeBytes { bytes in
            decoder.decode(bytes, startOffset: 40) { out.append(String(decoding: $0.content, as: UTF8.self)) }
        }
        #expect(out.isEmpty)
        #expect(decoder.pendingStart == 40)
        decoder.flush { out.append(String(decoding: $0.content, as: UTF8.self)) }
        #expect(out == ["half"])
        #expect(decoder.pendingStart == nil)
    }

    @Test func timestamps() {
        func parse(_ s: String) -> UInt64? {
            Array(s.utf8).withUnsafeBufferPointer { Timestamp.parseISO8601($0.baseAddress!, $0.count) }
        }
        #expect(parse("2024-05-14T16:43:42.703+0200") == 1_715_697_822_703_000_000)
        #expect(parse("2024-05-14T14:43:42.703Z") == 1_715_697_822_703_000_000)
        #expect(parse("2024-05-14T10:43:42.703-04:00") == 1_715_697_822_703_000_000)
        #expect(parse("1970-01-01T00:00:00Z") == 0)
        #expect(parse("2024-02-29T00:00:00Z") == 1_709_164_800_000_000_000)
        #expect(parse("2024-13-01T00:00:00Z") == nil)
        #expect(parse("2024-05-14T14:43:42.Z") == nil)
        #expect(parse("not a time at all!!") == nil)
    }
}
