import OTLPJSON
import OTLPWire

/// OTLP/JSON → protobuf request bytes (the same bytes the protobuf path forwards).
enum JSONRequestDecoder {
    static func decode(signal: Signal, json: [UInt8]) throws -> [UInt8] {
        do {
            return try OTLPJSON.decodeRequest(signal: signal, json: json)
        } catch {
            throw error
        }
    }
}

/// `google.rpc.Status` as JSON for error replies to JSON requests.
enum RPCStatusJSON {
    static func encode(code: Int, message: String) -> [UInt8] {
        OTLPJSON.encodeStatus(code: code, message: message)
    }
}
