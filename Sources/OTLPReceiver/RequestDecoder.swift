import Compression
import OTLPJSON
import OTLPWire

/// A request body to the protobuf bytes the pipeline takes: inflated (bounded by `max_request_body`),
/// OTLP/JSON turned into protobuf, walked to validate it and count its items. Pure: bytes in, bytes or a
/// refusal (400, 413) out.
enum RequestDecoder {
    struct Decoded {
        var bytes: [UInt8]
        /// Spans, log records or data points; 0 for a valid request with nothing to forward.
        var items: Int
    }

    static func decode(
        _ body: [UInt8], signal: Signal, encoding: PayloadEncoding, compression: CompressionFormat?,
        maxRequestBody: Int
    ) throws(Refusal) -> Decoded {
        var bytes = body
        if let compression {
            do {
                bytes = try Gzip.decompress(bytes, maxOutputBytes: maxRequestBody, format: compression)
            } catch {
                if error.code == .tooLarge {
                    throw Refusal(
                        reason: "too_large",
                        response: .error(
                            .payloadTooLarge, grpcCode: 3,
                            "inflated body exceeds max_request_body (\(maxRequestBody) bytes)", encoding: encoding))
                }
                throw Refusal(
                    reason: "malformed",
                    response: .error(
                        .badRequest, grpcCode: 3, "invalid \(compression) body: \(error.message)", encoding: encoding))
            }
        }
        if bytes.isEmpty && encoding == .protobuf {
            // A protobuf message with no fields set: a valid, empty request (the spec and the Collector
            // answer 200 with an empty response).
            return Decoded(bytes: [], items: 0)
        }
        if bytes.isEmpty {
            throw Refusal(
                reason: "malformed",
                response: .error(
                    .badRequest, grpcCode: 3, "empty request body: send an Export\(signal.messageStem)ServiceRequest",
                    encoding: encoding))
        }
        if encoding == .json {
            do {
                bytes = try OTLPJSON.decodeRequest(signal: signal, json: bytes)
            } catch {
                throw Refusal(
                    reason: "malformed",
                    response: .error(
                        .badRequest, grpcCode: 3,
                        "malformed OTLP/JSON Export\(signal.messageStem)ServiceRequest: \(error)",
                        encoding: encoding))
            }
        }
        do {
            return Decoded(bytes: bytes, items: try OTLPWalker.countItems(signal: signal, body: bytes))
        } catch {
            throw Refusal(
                reason: "malformed",
                response: .error(
                    .badRequest, grpcCode: 3, "malformed Export\(signal.messageStem)ServiceRequest: \(error)",
                    encoding: encoding))
        }
    }
}

extension Signal {
    /// `Trace`, `Logs`, `Metrics` as in `ExportTraceServiceRequest`.
    var messageStem: String {
        switch self {
        case .traces: "Trace"
        case .logs: "Logs"
        case .metrics: "Metrics"
        }
    }
}
