import FluxtelTestSupport
import Foundation
import OTLPWire
import Testing

/// Interop with the official OpenTelemetry protobuf classes (Python, pinned in
/// Tests/Interop/requirements.txt). The interpreter comes from `FLUXTEL_PYTHON`, else
/// `<package root>/.venv/bin/python3`; without one these tests fail (they never skip):
///
///     python3 -m venv .venv && .venv/bin/pip install -r Tests/Interop/requirements.txt
enum Interop {
    static func run(_ args: [String]) throws -> (status: Int32, output: String) { try GoldenScript.run(args) }
    static func tempFile(_ name: String) -> String { GoldenScript.tempFile(name) }
    static func write(_ bytes: [UInt8], to path: String) throws { try GoldenScript.write(bytes, to: path) }
    static func read(_ path: String) throws -> [UInt8] { try GoldenScript.read(path) }
}

@Suite("Interop with the official opentelemetry-proto Python classes", .serialized)
struct InteropTests {
    @Test("our encoding parses with the official classes, field for field", arguments: Golden.kinds)
    func officialDecoderReadsOurBytes(kind: String) throws {
        let path = Interop.tempFile("ours-\(kind).bin")
        try Interop.write(Golden.encode(kind), to: path)
        let (status, output) = try Interop.run(["check", kind, path])
        #expect(status == 0, "official decoder disagrees for \(kind):\n\(output)")
        // We write fields in field-number order like the official runtime: identical bytes.
        #expect(output.contains("identical-bytes"), "\(kind): \(output)")
    }

    @Test("the official encoding decodes with our reader to the same values", arguments: Golden.kinds)
    func ourDecoderReadsOfficialBytes(kind: String) throws {
        let path = Interop.tempFile("official-\(kind).bin")
        let (status, output) = try Interop.run(["encode", kind, path])
        try #require(status == 0, "python encode failed: \(output)")
        let bytes = try Interop.read(path)
        #expect(try Golden.decodesToGolden(kind, bytes), "decoded \(kind) differs from the Swift golden value")
        #expect(bytes == Golden.encode(kind), "\(kind): re-encoding differs from the official bytes")
    }

    @Test("item counts of the official encodings")
    func countsOfOfficialEncodings() throws {
        for (kind, signal, expected) in [
            ("trace-request", Signal.traces, 4), ("logs-request", .logs, 5),
            ("metrics-request", .metrics, 6 + 6 + 1 + 4 + 3 + 2 + 1),
        ] {
            let path = Interop.tempFile("count-\(kind).bin")
            let (status, output) = try Interop.run(["encode", kind, path])
            try #require(status == 0, "python encode failed: \(output)")
            #expect(try OTLPWalker.countItems(signal: signal, body: Interop.read(path)) == expected, "\(kind)")
        }
    }

    @Test("split parts of a large official request parse with the official classes, same spans in order")
    func splitInterop() throws {
        let orig = Interop.tempFile("big.bin")
        let (status, output) = try Interop.run(["big-traces", orig])
        try #require(status == 0, "python big-traces failed: \(output)")
        let body = try Interop.read(orig)
        let total = try OTLPWalker.countItems(signal: .traces, body: body)
        #expect(total == 3 * 401 + 1)
        for (maxBytes, maxItems) in [(64 * 1024, Int.max), (16 * 1024, 100), (1 << 30, 7)] {
            let parts = try OTLPWalker.split(signal: .traces, body: body, maxBytes: maxBytes, maxItems: maxItems)
            #expect(parts.count > 1)
            #expect(parts.reduce(0) { $0 + $1.items } == total)
            var paths: [String] = []
            for (i, part) in parts.enumerated() {
                #expect(part.items <= maxItems)
                #expect(part.bytes.count <= maxBytes || part.items == 1, "part \(i) has \(part.bytes.count) bytes")
                #expect(try OTLPWalker.countItems(signal: .traces, body: part.bytes) == part.items)
                let p = Interop.tempFile("part-\(maxBytes)-\(i).bin")
                try Interop.write(part.bytes, to: p)
                paths.append(p)
            }
            let (s, out) = try Interop.run(["check-split", orig] + paths)
            #expect(s == 0, "\(out)")
        }
    }
}
