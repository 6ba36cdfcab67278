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
    var status: HTTPResponseStatus { didSet { builtHeaders = nil } }
    var contentType: String { didSet { builtHeaders = nil } }
    var body: [UInt8] { didSet { builtHeaders = nil } }
    var extraHeaders: [(String, String)] = [] { didSet { builtHeaders = nil } }
    var close = false { didSet { builtHeaders = nil } }
    /// `headers` built once, for the success responses every accepted request is answered with; dropped
    /// when a field changes.
    private var builtHeaders: HTTPHeaders?

    init(status: HTTPResponseStatus, contentType: String, body: [UInt8], close: Bool = false) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.close = close
    }

    /// 200 with an empty `Export*ServiceResponse` (no partial success: everything was accepted).
    static func success(_ encoding: PayloadEncoding) -> Self {
        encoding == .json ? successJSON : successProtobuf
    }

    private static let successProtobuf = withBuiltHeaders(
        IngestResponse(status: .ok, contentType: PayloadEncoding.protobuf.contentType, body: []))
    private static let successJSON = withBuiltHeaders(
        IngestResponse(status: .ok, contentType: PayloadEncoding.json.contentType, body: Array("{}".utf8)))

    private static func withBuiltHeaders(_ response: IngestResponse) -> IngestResponse {
        var response = response
        response.builtHeaders = response.headers
        return response
    }

    /// `Content-Type`, `Content-Length`, the extra headers and `Connection: close` when `close`.
    var headers: HTTPHeaders {
        if let builtHeaders { return builtHeaders }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        for (name, value) in extraHeaders { headers.add(name: name, value: value) }
        if close { headers.add(name: "Connection", value: "close") }
        return headers
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
