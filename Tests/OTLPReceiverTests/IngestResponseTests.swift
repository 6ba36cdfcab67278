import NIOHTTP1
import Testing

@testable import OTLPReceiver

/// The headers a response is written with: built once for the two success responses, built from the
/// fields for every other one, and rebuilt when a field of a copy changes.
@Suite struct IngestResponseTests {
    @Test func successResponsesCarryTheirContentTypeAndLength() {
        let protobuf = IngestResponse.success(.protobuf).headers
        #expect(protobuf["Content-Type"] == ["application/x-protobuf"])
        #expect(protobuf["Content-Length"] == ["0"])
        let json = IngestResponse.success(.json).headers
        #expect(json["Content-Type"] == ["application/json"])
        #expect(json["Content-Length"] == ["2"])
        #expect(json["Connection"].isEmpty)
    }

    @Test func aChangedCopyOfASuccessResponseGetsItsOwnHeaders() {
        var response = IngestResponse.success(.protobuf)
        response.extraHeaders = [("Retry-After", "1")]
        response.close = true
        response.body = [1, 2, 3]
        let headers = response.headers
        #expect(headers["Retry-After"] == ["1"])
        #expect(headers["Connection"] == ["close"])
        #expect(headers["Content-Length"] == ["3"])
        #expect(IngestResponse.success(.protobuf).headers["Retry-After"].isEmpty)
    }

    @Test func anErrorResponseListsItsHeadersInOrder() {
        var response = IngestResponse.error(.tooManyRequests, grpcCode: 8, "full", encoding: .json, close: true)
        response.extraHeaders = [("Retry-After", "1")]
        #expect(response.headers.map(\.name) == ["Content-Type", "Content-Length", "Retry-After", "Connection"])
        #expect(response.headers["Content-Length"] == ["\(response.body.count)"])
    }
}
