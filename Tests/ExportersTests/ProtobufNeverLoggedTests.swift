import Testing

@testable import Exporters

/// A backend's error body is logged as its message, or as text; raw protobuf or other binary bytes are
/// never logged, only described (issue 16, point 4).
@Suite struct ProtobufNeverLoggedTests {
    @Test func protobufThatIsNotAStatusIsDescribedNotLogged() {
        // An ExportTraceServiceResponse with partial_success { rejected_spans: 3 }: protobuf, not a Status.
        let body: [UInt8] = [0x0A, 0x02, 0x08, 0x03]
        #expect(
            ResponseBody.errorMessage(body, contentType: "application/x-protobuf")
                == "4 bytes of protobuf without a google.rpc.Status message")
        let binary: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0xFF, 0x00, 0x01]
        #expect(
            ResponseBody.errorMessage(binary, contentType: nil)
                == "7 bytes of binary data without a google.rpc.Status message")
    }

    @Test func textWithoutAContentTypeIsStillShown() {
        #expect(
            ResponseBody.errorMessage(Array("<html>502 Bad Gateway</html>\n".utf8), contentType: nil)
                == "<html>502 Bad Gateway</html>.")
    }
}
