import Compression
import FluxtelConfig
import NIOHTTP1
import OTLPWire
import Pipeline

/// The receiver's admission policy, decided from values alone (no channel, no socket): which signal a
/// path takes, whether a request head is let in (method, authorisation, content type and encoding,
/// declared length), when a body grows past the limit, and what the sender is told when the pipeline
/// pushes back (429 while the queue is full, 503 while it shuts down, both with `Retry-After`).
struct Admission: Sendable {
    /// `max_request_body`: largest body accepted, on the wire and inflated.
    let maxRequestBody: Int
    /// `traces_paths`: paths that take traces besides `/v1/traces`.
    let extraTracesPaths: [String]
    let authorization: Authorization
    /// `Retry-After` seconds sent with 429/503.
    let retryAfterSeconds: Int

    init(_ configuration: OTLPReceiverConfiguration, retryAfterSeconds: Int = 1) {
        self.maxRequestBody = configuration.maxRequestBody
        self.extraTracesPaths = configuration.tracesPaths
        self.authorization = Authorization(configuration)
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A request let in: what its body holds and how it is answered.
    struct Request: Sendable {
        var head: HTTPRequestHead
        var signal: Signal
        var encoding: PayloadEncoding
        var compression: CompressionFormat?
    }

    func signal(forPath path: Substring) -> Signal? {
        switch path {
        case "/v1/traces": return .traces
        case "/v1/logs": return .logs
        case "/v1/metrics": return .metrics
        default: return extraTracesPaths.contains(where: { $0 == path }) ? .traces : nil
        }
    }

    /// The signal a refusal is counted under: the path's, else traces.
    func signalGuess(_ head: HTTPRequestHead) -> Signal { signal(forPath: Self.path(of: head)) ?? .traces }

    static func path(of head: HTTPRequestHead) -> Substring {
        let uri = head.uri[...]
        guard let query = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else { return uri }
        return uri[..<query]
    }

    /// Whether `value` starts with `prefix` (lower-case ASCII), ignoring ASCII case; without a lower-cased copy.
    static func hasPrefix(_ value: String, ignoringCase prefix: StaticString) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            prefix.withUTF8Buffer { wanted in
                guard bytes.count >= wanted.count else { return false }
                for index in 0..<wanted.count {
                    let byte = bytes[index]
                    guard (byte &- 0x41 < 26 ? byte | 0x20 : byte) == wanted[index] else { return false }
                }
                return true
            }
        }
    }

    /// Decides from the head alone whether to read the body. Checked in this order: path (404), method
    /// (405), authorisation (401), content type (415), content encoding (415), declared length (413).
    func admit(_ head: HTTPRequestHead) throws(Refusal) -> Request {
        let path = Self.path(of: head)
        let contentType = head.headers.first(name: "content-type") ?? ""
        let encoding: PayloadEncoding? =
            if Self.hasPrefix(contentType, ignoringCase: "application/x-protobuf")
                || Self.hasPrefix(contentType, ignoringCase: "application/protobuf")
            {
                .protobuf
            } else if Self.hasPrefix(contentType, ignoringCase: "application/json") {
                .json
            } else {
                nil
            }
        let replyEncoding = encoding ?? .protobuf
        guard let signal = signal(forPath: path) else {
            let paths = (["/v1/traces", "/v1/logs", "/v1/metrics"] + extraTracesPaths).joined(separator: ", ")
            throw Refusal(
                reason: "not_found",
                response: .error(
                    .notFound, grpcCode: 5, "no OTLP endpoint at \(path); POST to one of: \(paths)",
                    encoding: replyEncoding))
        }
        guard head.method == .POST else {
            var response = IngestResponse.error(
                .methodNotAllowed, grpcCode: 12, "OTLP/HTTP takes POST", encoding: replyEncoding)
            response.extraHeaders = [("Allow", "POST")]
            throw Refusal(reason: "method_not_allowed", response: response)
        }
        if authorization.isRequired, !authorization.admits(head.headers.first(name: "authorization")) {
            var response = IngestResponse.error(
                .unauthorized, grpcCode: 16, "missing or wrong Authorization header", encoding: replyEncoding)
            response.extraHeaders = [("WWW-Authenticate", authorization.challenge)]
            throw Refusal(reason: "unauthorized", response: response)
        }
        guard let encoding else {
            throw Refusal(
                reason: "unsupported_media_type",
                response: .error(
                    .unsupportedMediaType, grpcCode: 3,
                    "unsupported Content-Type '\(contentType.lowercased())': use application/x-protobuf or application/json"
                ))
        }
        let compression: CompressionFormat?
        switch head.headers.first(name: "content-encoding")?.lowercased() ?? "" {
        case "", "identity": compression = nil
        case "gzip", "x-gzip": compression = .gzip
        case "deflate": compression = .deflate
        case let other:
            throw Refusal(
                reason: "unsupported_encoding",
                response: .error(
                    .unsupportedMediaType, grpcCode: 3,
                    "unsupported Content-Encoding '\(other)': use gzip, deflate or identity",
                    encoding: encoding))
        }
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxRequestBody {
            throw Refusal(
                reason: "too_large",
                response: .error(
                    .payloadTooLarge, grpcCode: 3,
                    "request body of \(length) bytes exceeds max_request_body (\(maxRequestBody) bytes)",
                    encoding: encoding, close: true))
        }
        return Request(head: head, signal: signal, encoding: encoding, compression: compression)
    }

    /// 413 once `received` bytes of body (so far) exceed the limit; the connection is closed after it.
    func checkBody(received: Int, _ request: Request) throws(Refusal) {
        guard received > maxRequestBody else { return }
        throw Refusal(
            reason: "too_large",
            response: .error(
                .payloadTooLarge, grpcCode: 3, "request body exceeds max_request_body (\(maxRequestBody) bytes)",
                encoding: request.encoding, close: true))
    }

    /// The fewest bytes a body of `received` bytes decodes to: a protobuf body decodes to at least its
    /// compressed size less gzip's framing and stored-block overhead (JSON shrinks, so 1 byte). A
    /// request refused before decoding because not even that fits counts the request, not its items.
    static func leastDecodedBytes(received: Int, encoding: PayloadEncoding) -> Int {
        encoding == .protobuf ? max(1, received - received / 8192 - 64) : 1
    }

    /// What the sender is told when the pipeline did not take the request: nil when it did, 429 while
    /// the queue is full (the sender keeps the request and retries), 503 while it shuts down.
    func backpressure(_ result: OfferResult, encoding: PayloadEncoding, items: Int) -> Refusal? {
        switch result {
        case .accepted:
            return nil
        case .full:
            return queueFull(encoding: encoding, items: items)
        case .closed:
            var response = IngestResponse.error(
                .serviceUnavailable, grpcCode: 14, "fluxtel is shutting down; retry later", encoding: encoding)
            response.extraHeaders = [("Retry-After", "\(retryAfterSeconds)")]
            return Refusal(reason: "shutting_down", response: response, items: items)
        }
    }

    /// 429 with `Retry-After`: the sender keeps the request and retries.
    func queueFull(encoding: PayloadEncoding, items: Int) -> Refusal {
        var response = IngestResponse.error(
            .tooManyRequests, grpcCode: 8, "fluxtel's export queue is full; retry later", encoding: encoding)
        response.extraHeaders = [("Retry-After", "\(retryAfterSeconds)")]
        return Refusal(reason: "queue_full", response: response, items: items)
    }
}
