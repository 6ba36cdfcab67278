import Compression
import OTLPWire
import Testing

@testable import OTLPReceiver

/// Request bodies to pipeline bytes, without a socket.
@Suite struct RequestDecoderTests {
    static let spans = OTLP.ExportTraceServiceRequest(resourceSpans: [
        OTLP.ResourceSpans(scopeSpans: [
            OTLP.ScopeSpans(spans: (0..<3).map { _ in OTLP.Span() })
        ])
    ]).serializedBytes()

    static func decode(
        _ body: [UInt8], encoding: PayloadEncoding = .protobuf, compression: CompressionFormat? = nil,
        maxRequestBody: Int = 1 << 20
    ) -> Result<RequestDecoder.Decoded, Refusal> {
        Result { () throws(Refusal) in
            try RequestDecoder.decode(
                body, signal: .traces, encoding: encoding, compression: compression, maxRequestBody: maxRequestBody)
        }
    }

    @Test func aProtobufRequestIsForwardedAsIsWithItsItemsCounted() throws {
        let decoded = try Self.decode(Self.spans).get()
        #expect(decoded.bytes == Self.spans)
        #expect(decoded.items == 3)
        let inflated = try Self.decode(Gzip.compress(Self.spans), compression: .gzip).get()
        #expect(inflated.bytes == Self.spans)
    }

    @Test func anEmptyProtobufBodyIsAValidEmptyRequestButAnEmptyJSONBodyIsNot() throws {
        #expect(try Self.decode([]).get().items == 0)
        guard case .failure(let refusal) = Self.decode([], encoding: .json) else {
            Issue.record("an empty JSON body was accepted")
            return
        }
        #expect(refusal.reason == "malformed")
        #expect(refusal.response.status == .badRequest)
    }

    @Test func aJSONRequestBecomesProtobuf() throws {
        let json = Array(#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a"},{"name":"b"}]}]}]}"#.utf8)
        let decoded = try Self.decode(json, encoding: .json).get()
        #expect(decoded.items == 2)
        #expect(try OTLP.ExportTraceServiceRequest(decoding: decoded.bytes).resourceSpans.count == 1)
    }

    @Test(arguments: [
        ([UInt8]([0xFF, 0xFF, 0xFF]), nil as CompressionFormat?, "malformed"),
        ([0x1F, 0x8B, 0x00], .gzip, "malformed"),
        (Gzip.compress([UInt8](repeating: 0, count: 4096)), .gzip, "too_large"),
    ])
    func badBodiesAreRefused(body: [UInt8], compression: CompressionFormat?, reason: String) {
        guard case .failure(let refusal) = Self.decode(body, compression: compression, maxRequestBody: 1024) else {
            Issue.record("accepted")
            return
        }
        #expect(refusal.reason == reason)
        #expect(refusal.response.status == (reason == "too_large" ? .payloadTooLarge : .badRequest))
        #expect(refusal.items == 0)
    }
}
