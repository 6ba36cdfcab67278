import OTLPWire

/// OTLP/JSON → protobuf request bytes, and google.rpc.Status as JSON.
enum JSONRequestDecoder {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String { "OTLP/JSON is not supported yet" }
    }

    static func decode(signal: Signal, json: [UInt8]) throws -> [UInt8] {
        throw Unsupported()
    }
}

enum RPCStatusJSON {
    static func encode(code: Int, message: String) -> [UInt8] {
        var out = Array("{\"code\":\(code),\"message\":\"".utf8)
        for byte in message.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0..<0x20: out += Array(String(format: byte).utf8)
            default: out.append(byte)
            }
        }
        out += Array("\"}".utf8)
        return out
    }

    private static func String(format byte: UInt8) -> Swift.String {
        let hex = Array("0123456789abcdef")
        return "\\u00" + Swift.String(hex[Int(byte >> 4)]) + Swift.String(hex[Int(byte & 0xF)])
    }
}
