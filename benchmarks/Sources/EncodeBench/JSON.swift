// A tiny JSON reader for the fixtures (keeps object key order and tells ints, doubles and bools
// apart, which Foundation's JSONSerialization does not). Only used while setting up, never timed.

enum JSON: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.double(let x), .double(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var array: [JSON]? { if case .array(let a) = self { return a } else { return nil } }

    static func parse(_ text: String) -> JSON {
        var p = Parser(bytes: Array(text.utf8))
        let v = p.value()
        p.ws()
        precondition(p.i == p.bytes.count, "trailing data in JSON at \(p.i)")
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func ws() {
            while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
        }

        mutating func expect(_ c: UInt8) {
            ws()
            precondition(i < bytes.count && bytes[i] == c, "expected \(UnicodeScalar(c)) at \(i)")
            i += 1
        }

        mutating func value() -> JSON {
            ws()
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(String, JSON)] = []
                ws()
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    ws()
                    let k = string()
                    expect(UInt8(ascii: ":"))
                    members.append((k, value()))
                    ws()
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    expect(UInt8(ascii: "}"))
                    return .object(members)
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSON] = []
                ws()
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    items.append(value())
                    ws()
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    expect(UInt8(ascii: "]"))
                    return .array(items)
                }
            case UInt8(ascii: "\""): return .string(string())
            case UInt8(ascii: "t"): i += 4; return .bool(true)
            case UInt8(ascii: "f"): i += 5; return .bool(false)
            case UInt8(ascii: "n"): i += 4; return .null
            default:
                let start = i
                var isDouble = false
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) {
                    if bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                        isDouble = true
                    }
                    i += 1
                }
                let s = String(decoding: bytes[start..<i], as: UTF8.self)
                return isDouble ? .double(Double(s)!) : .int(Int64(s)!)
            }
        }

        mutating func string() -> String {
            precondition(bytes[i] == UInt8(ascii: "\""))
            i += 1
            var out: [UInt8] = []
            while bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") {
                    i += 1
                    switch bytes[i] {
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        let hex = String(decoding: bytes[(i + 1)...(i + 4)], as: UTF8.self)
                        i += 4
                        let scalar = Unicode.Scalar(UInt32(hex, radix: 16)!) ?? "\u{FFFD}"
                        out.append(contentsOf: Array(String(scalar).utf8))
                    default: out.append(bytes[i])
                    }
                    i += 1
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            i += 1
            return String(decoding: out, as: UTF8.self)
        }
    }
}
