import OTLPWire

/// A schema-less protobuf pretty-printer (like `protoc --decode_raw`): field numbers and wire types,
/// length-delimited fields shown as text when they are printable UTF-8, as nested messages when they
/// parse as one, else as hex. Never traps; depth and output are bounded.
enum ProtobufDump {
    static let maxDepth = 24
    static let maxBytesShown = 256

    static func render(_ bytes: [UInt8], indent: String = "") -> String {
        var out = ""
        if !dump(bytes, 0..<bytes.count, depth: 0, indent: indent, into: &out) {
            out += indent + "<not a protobuf message: \(bytes.count) bytes>\n"
        }
        return out
    }

    private enum Field {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(Range<Int>)
    }

    /// Splits `range` of `bytes` into fields (read with `OTLPWire`'s `ProtoReader`), or nil if it is not
    /// a well-formed message.
    private static func fields(_ bytes: [UInt8], _ range: Range<Int>) -> [(UInt32, Field)]? {
        var reader = ProtoReader(bytes, range: range)
        var result: [(UInt32, Field)] = []
        do {
            while let key = try reader.nextField() {
                switch key.wireType {
                case .varint: result.append((key.number, .varint(try reader.readVarint())))
                case .fixed64: result.append((key.number, .fixed64(try reader.readFixed64())))
                case .lengthDelimited: result.append((key.number, .bytes(try reader.readLengthDelimited())))
                case .fixed32: result.append((key.number, .fixed32(try reader.readFixed32())))
                case .startGroup, .endGroup: return nil
                }
            }
        } catch {
            return nil
        }
        return result
    }

    @discardableResult
    private static func dump(
        _ bytes: [UInt8], _ range: Range<Int>, depth: Int, indent: String, into out: inout String
    ) -> Bool {
        guard let fields = fields(bytes, range) else { return false }
        let pad = indent + String(repeating: "  ", count: depth)
        for (number, field) in fields {
            switch field {
            case .varint(let v):
                out += "\(pad)\(number): \(v)\n"
            case .fixed64(let v):
                out += "\(pad)\(number): 0x\(hex(v, width: 16)) (fixed64 \(v), double \(Double(bitPattern: v)))\n"
            case .fixed32(let v):
                out += "\(pad)\(number): 0x\(hex(UInt64(v), width: 8)) (fixed32)\n"
            case .bytes(let inner):
                let slice = bytes[inner]
                if let text = printableText(slice) {
                    out += "\(pad)\(number): \"\(escape(text))\"\n"
                } else if depth < maxDepth, !slice.isEmpty, let _ = Self.fields(bytes, inner) {
                    out += "\(pad)\(number) {\n"
                    dump(bytes, inner, depth: depth + 1, indent: indent, into: &out)
                    out += "\(pad)}\n"
                } else {
                    let shown = slice.prefix(maxBytesShown).map { hex(UInt64($0), width: 2) }.joined()
                    out +=
                        "\(pad)\(number): 0x\(shown)\(slice.count > maxBytesShown ? "…" : "") (\(slice.count) bytes)\n"
                }
            }
        }
        return true
    }

    /// Text if valid UTF-8 without control characters (tab/newline/CR allowed, but not first: a
    /// message whose first field is 1, length-delimited, starts with `\n`).
    private static func printableText(_ bytes: ArraySlice<UInt8>) -> String? {
        guard let first = bytes.first else { return "" }
        guard first >= 0x20, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        for scalar in text.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            if scalar != "\t" && scalar != "\n" && scalar != "\r" { return nil }
        }
        return text
    }

    private static func escape(_ text: String) -> String {
        var out = ""
        for ch in text.prefix(4096) {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.append(ch)
            }
        }
        return text.count > 4096 ? out + "…" : out
    }

    private static func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
