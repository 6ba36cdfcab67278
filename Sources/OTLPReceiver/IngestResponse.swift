import NIOHTTP1
import OTLPJSON
import OTLPWire

/// The body encodings OTLP/HTTP allows.
enum PayloadEncoding: Sendable {
    case protobuf
    case json

    var contentType: String {
        switch self {
        case .protobuf: "application/x-protobuf"
        case .json: "application/json"
        }
    }
}

/// An HTTP response the handler writes.
struct IngestResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var extraHeaders: [(String, String)] = []
    var close = false

    /// 200 with an empty `Export*ServiceResponse` (no partial success: everything was accepted).
    static func success(_ encoding: PayloadEncoding) -> Self {
        IngestResponse(status: .ok, contentType: encoding.contentType, body: encoding == .json ? Array("{}".utf8) : [])
    }

    /// 4xx/5xx with a `google.rpc.Status { code = 1; message = 2 }` body in the request's encoding.
    static func error(
        _ status: HTTPResponseStatus, grpcCode: Int, _ message: String, encoding: PayloadEncoding = .protobuf,
        close: Bool = false
    ) -> Self {
        let body: [UInt8]
        switch encoding {
        case .protobuf:
            var writer = ProtoWriter()
            writer.int32(1, Int32(grpcCode))
            writer.string(2, message)
            body = writer.bytes
        case .json:
            body = OTLPJSON.encodeStatus(code: grpcCode, message: message)
        }
        return IngestResponse(status: status, contentType: encoding.contentType, body: body, close: close)
    }
}

/// A refusal: the response plus the reason label counted in `/metrics`.
struct Refusal: Error {
    var reason: String
    var response: IngestResponse
    /// Items the request held, counted as refused (0 when nobody decoded them).
    var items = 0
}
