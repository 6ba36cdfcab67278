import FluxtelTestSupport
import OTLPWire
import Testing

@testable import Exporters

@Suite struct ResponseBodyTests {
    @Test func partialSuccessParses() {
        let body = Fixtures.partialSuccess(rejected: 3, message: "3 spans had no trace id")
        #expect(PartialSuccess.parse(body) == PartialSuccess(rejected: 3, errorMessage: "3 spans had no trace id"))
        // Only a message (a warning on full success).
        #expect(PartialSuccess.parse(Fixtures.partialSuccess(rejected: 0, message: "slow down")) != nil)
    }

    @Test func emptyOrZeroPartialSuccessIsFullSuccess() {
        #expect(PartialSuccess.parse([]) == nil)
        #expect(PartialSuccess.parse([0x0A, 0x00]) == nil)
        #expect(PartialSuccess.parse(Fixtures.partialSuccess(rejected: 0, message: "")) == nil)
    }

    @Test func unknownFieldsAreSkipped() {
        let body =
            Fixtures.varint(2 << 3) + Fixtures.varint(99) + Fixtures.partialSuccess(rejected: 1, message: "x")
            + [0x1D, 1, 2, 3, 4]  // field 3, fixed32
        #expect(PartialSuccess.parse(body)?.rejected == 1)
    }

    @Test func statusMessage() {
        let body = Fixtures.rpcStatus(code: 3, message: "invalid resource: missing service.name")
        #expect(ResponseBody.statusMessage(body) == "invalid resource: missing service.name")
        #expect(
            ResponseBody.errorMessage(body, contentType: "application/x-protobuf")
                == "invalid resource: missing service.name")
        // Plain text body: shown as text, control characters replaced, truncated.
        let text = Array("bad request\u{01}\u{07}".utf8) + [UInt8](repeating: 0x41, count: 2000)
        let shown = ResponseBody.errorMessage(text, contentType: "text/plain")
        #expect(shown.hasPrefix("bad request.."))
        #expect(shown.utf8.count <= ResponseBody.maxLoggedBytes + 3)
    }

    @Test func hostileBodiesNeverTrap() {
        var generator = SeededRandom()  // FLUXTEL_TEST_SEED replays a failure
        let nasty: [[UInt8]] = [
            [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // huge length
            [0x0A, 0x05, 0x08],  // truncated
            [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],  // overlong varint
            [0x0F], [0x00], [0x0A, 0x02, 0x08, 0x80], [0x0A, 0x03, 0x08, 0xFF, 0x01, 0x12, 0x80],
            Array(repeating: 0x0A, count: 100),
        ]
        for body in nasty {
            _ = PartialSuccess.parse(body)
            _ = ResponseBody.errorMessage(body, contentType: nil)
        }
        for _ in 0..<5000 {
            let count = Int.random(in: 0..<48, using: &generator)
            let body = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = PartialSuccess.parse(body)
            _ = ResponseBody.errorMessage(body, contentType: nil)
        }
    }

    /// The response reader and OTLPWire's model read a response alike: what the model writes, the
    /// exporter reads back (both on `ProtoReader`).
    @Test func aResponseWrittenByTheModelReadsBack() {
        var generator = SeededRandom()  // FLUXTEL_TEST_SEED replays a failure
        for _ in 0..<200 {
            let rejected = Int64.random(in: -5...1_000_000, using: &generator)
            let message = String(repeating: "ü", count: Int.random(in: 0..<4, using: &generator))
            let body = OTLP.ExportServiceResponse(
                partialSuccess: OTLP.PartialSuccess(rejected: rejected, errorMessage: message)
            ).serializedBytes()
            let expected =
                rejected == 0 && message.isEmpty ? nil : PartialSuccess(rejected: rejected, errorMessage: message)
            #expect(PartialSuccess.parse(body) == expected)
        }
    }

    /// A backend's partial_success is read leniently: a message that is not UTF-8 is shown repaired, a
    /// field 1 of another wire type is skipped, and what was read before malformed bytes is kept.
    @Test func partialSuccessIsReadLeniently() {
        let notUTF8 = Fixtures.lengthDelimited(
            1, Fixtures.varint(1 << 3) + [2] + Fixtures.lengthDelimited(2, [0x61, 0xFF]))
        #expect(PartialSuccess.parse(notUTF8) == PartialSuccess(rejected: 2, errorMessage: "a\u{FFFD}"))
        let otherWireType = Fixtures.varint(1 << 3) + [7] + Fixtures.partialSuccess(rejected: 1, message: "")
        #expect(PartialSuccess.parse(otherWireType)?.rejected == 1)
        let thenGarbage = Fixtures.partialSuccess(rejected: 4, message: "kept") + [0x0A, 0x05, 0x08]
        #expect(PartialSuccess.parse(thenGarbage) == PartialSuccess(rejected: 4, errorMessage: "kept"))
    }

    /// A google.rpc.Status is read strictly: another field, malformed bytes or a message that is not
    /// UTF-8 mean the body is not one.
    @Test func anythingButAStatusIsNotAStatus() {
        let status = Fixtures.rpcStatus(code: 3, message: "bad")
        #expect(ResponseBody.statusMessage(status + Fixtures.lengthDelimited(3, [0x0A, 0x00])) == "bad")
        #expect(ResponseBody.statusMessage(status + Fixtures.lengthDelimited(4, [])) == nil)
        #expect(ResponseBody.statusMessage(status + [0x12, 0x05, 0x61]) == nil)
        #expect(ResponseBody.statusMessage(Fixtures.lengthDelimited(2, [0x61, 0xFF])) == nil)
        #expect(ResponseBody.statusMessage(Fixtures.varint(1 << 3) + [3]) == nil, "no message")
    }
}
