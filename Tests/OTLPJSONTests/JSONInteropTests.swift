import FluxtelTestSupport
import Foundation
import OTLPJSON
import OTLPWire
import Testing

/// Interop with the official OpenTelemetry protobuf classes (Python, pinned in
/// Tests/Interop/requirements.txt): protobuf's own `MessageToJson` of the "every field" golden
/// requests (ids turned into hex, as OTLP/JSON requires) must decode to exactly the official
/// protobuf bytes. The interpreter comes from `FLUXTEL_PYTHON`, else `<package root>/.venv/bin/python3`;
/// without one these tests fail (they never skip):
///
///     python3 -m venv .venv && .venv/bin/pip install -r Tests/Interop/requirements.txt
enum Interop {
    static func run(_ args: [String]) throws -> (status: Int32, output: String) { try GoldenScript.run(args) }
    static func tempFile(_ name: String) -> String { GoldenScript.tempFile(name) }
    static func write(_ bytes: [UInt8], to path: String) throws { try GoldenScript.write(bytes, to: path) }
    static func read(_ path: String) throws -> [UInt8] { try GoldenScript.read(path) }

    /// The official protobuf encoding of golden `kind`.
    static func officialBytes(_ kind: String) throws -> [UInt8] {
        let path = tempFile("official-\(kind).bin")
        let (status, output) = try run(["encode", kind, path])
        try #require(status == 0, "python encode failed: \(output)")
        return try read(path)
    }

    /// The golden `kind` as OTLP/JSON written by protobuf's json_format.
    static func officialJSON(_ kind: String, _ flags: [String]) throws -> [UInt8] {
        let path = tempFile("official-\(kind)\(flags.joined()).json")
        let (status, output) = try run(["json", kind, path] + flags)
        try #require(status == 0, "python json failed: \(output)")
        return try read(path)
    }
}

@Suite("OTLP/JSON interop with the official opentelemetry-proto Python classes", .serialized)
struct JSONInteropTests {
    static let requests: [(String, Signal)] = [
        ("trace-request", .traces), ("logs-request", .logs), ("metrics-request", .metrics),
    ]
    /// lowerCamelCase / proto names × enum names / numbers.
    static let spellings: [[String]] = [[], ["--snake"], ["--enum-ints"], ["--snake", "--enum-ints"]]

    @Test("MessageToJson of the every-field requests decodes to the official protobuf bytes", arguments: requests)
    func officialJSONDecodesToOfficialBytes(kind: String, signal: Signal) throws {
        let official = try Interop.officialBytes(kind)
        for flags in Self.spellings {
            let json = try Interop.officialJSON(kind, flags)
            let ours = try OTLPJSON.decodeRequest(signal: signal, json: json)
            #expect(ours == official, "\(kind) \(flags): \(ours.count) bytes, official \(official.count)")
            // And it is what the protobuf path sees: a valid body with the same items.
            #expect(
                try OTLPWalker.countItems(signal: signal, body: ours)
                    == OTLPWalker.countItems(signal: signal, body: official))
        }
    }

    @Test(
        "our JSON responses parse with protobuf's json_format to the golden responses",
        arguments: [
            (
                "trace-response", Signal.traces,
                OTLP.PartialSuccess(rejected: 3, errorMessage: "3 spans rejected: invalid trace_id")
            ),
            ("logs-response", .logs, OTLP.PartialSuccess(rejected: -1, errorMessage: "ü")),
            ("metrics-response", .metrics, OTLP.PartialSuccess()),
        ])
    func responsesParseWithJSONFormat(kind: String, signal: Signal, partial: OTLP.PartialSuccess) throws {
        let path = Interop.tempFile("ours-\(kind).json")
        try Interop.write(
            OTLPJSON.encodeResponse(OTLP.ExportServiceResponse(partialSuccess: partial), signal: signal), to: path)
        let (status, output) = try Interop.run(["check-json", kind, path])
        #expect(status == 0, "\(kind): \(output)")
    }
}
