/// Just enough protobuf reading to understand an OTLP/HTTP response: a bounds-checked scanner over
/// top-level fields that never traps, whatever the bytes.
struct ProtoFieldScanner {
    enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed64
        case fixed32
    }

    private let bytes: ArraySlice<UInt8>
    private var index: Int
    /// Set when the input ended mid-field or used an invalid wire type.
    private(set) var malformed = false

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    mutating func readVarint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.endIndex, shift < 64 {
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    /// The next field, or nil at the end (or on malformed input, with `malformed` set).
    mutating func next() -> (field: UInt64, value: Value)? {
        guard index < bytes.endIndex else { return nil }
        guard let key = readVarint() else {
            malformed = true
            return nil
        }
        let field = key >> 3
        guard field > 0 else {
            malformed = true
            return nil
        }
        switch key & 7 {
        case 0:
            guard let v = readVarint() else {
                malformed = true
                return nil
            }
            return (field, .varint(v))
        case 1:
            guard bytes.endIndex - index >= 8 else {
                malformed = true
                return nil
            }
            index += 8
            return (field, .fixed64)
        case 2:
            guard let length = readVarint(), length <= UInt64(bytes.endIndex - index) else {
                malformed = true
                return nil
            }
            let start = index
            index += Int(length)
            return (field, .bytes(bytes[start..<index]))
        case 5:
            guard bytes.endIndex - index >= 4 else {
                malformed = true
                return nil
            }
            index += 4
            return (field, .fixed32)
        default:
            malformed = true
            return nil
        }
    }
}

/// `Export*ServiceResponse.partial_success = 1` →
/// `Export*PartialSuccess { int64 rejected_<items> = 1; string error_message = 2; }`
/// (same numbers for traces, logs and metrics; checked in opentelemetry-proto
/// `opentelemetry/proto/collector/{trace,logs,metrics}/v1/*_service.proto` at 1af43249).
struct PartialSuccess: Equatable {
    var rejected: Int64
    var errorMessage: String

    /// nil when the body holds no (or an empty) `partial_success`, or does not parse.
    static func parse(_ body: [UInt8]) -> PartialSuccess? {
        var outer = ProtoFieldScanner(body[...])
        var result = PartialSuccess(rejected: 0, errorMessage: "")
        var found = false
        while let (field, value) = outer.next() {
            guard field == 1, case .bytes(let inner) = value else { continue }
            found = true
            var scanner = ProtoFieldScanner(inner)
            while let (innerField, innerValue) = scanner.next() {
                switch (innerField, innerValue) {
                case (1, .varint(let v)): result.rejected = Int64(bitPattern: v)
                case (2, .bytes(let text)): result.errorMessage = String(decoding: text, as: UTF8.self)
                default: break
                }
            }
        }
        guard found, result.rejected != 0 || !result.errorMessage.isEmpty else { return nil }
        return result
    }
}

enum ResponseBody {
    /// The longest message we log from a response body.
    static let maxLoggedBytes = 512

    /// The most useful text in an error response: `google.rpc.Status.message` (field 2) when the
    /// body is that protobuf, else the body itself as printable text; truncated either way.
    static func errorMessage(_ body: [UInt8], contentType: String?) -> String {
        if body.isEmpty { return "" }
        let isJSONOrText =
            contentType.map { $0.lowercased().contains("json") || $0.lowercased().hasPrefix("text/") }
            ?? false
        if !isJSONOrText, let status = statusMessage(body) { return printable(Array(status.utf8)) }
        // Never log raw protobuf (or any binary): say what it is instead.
        let isProtobuf = contentType.map { $0.lowercased().contains("protobuf") } ?? false
        if !isJSONOrText && (isProtobuf || !looksLikeText(body)) {
            return
                "\(body.count) bytes of \(isProtobuf ? "protobuf" : "binary data") without a google.rpc.Status message"
        }
        return printable(body)
    }

    /// Valid UTF-8 without control characters other than tab, CR and LF (in the part that would be logged).
    static func looksLikeText(_ body: [UInt8]) -> Bool {
        let head = body.prefix(maxLoggedBytes)
        guard String(validating: head, as: UTF8.self) != nil || head.count == maxLoggedBytes else { return false }
        return !head.contains { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D || $0 == 0x7F }
    }

    /// `google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }`.
    static func statusMessage(_ body: [UInt8]) -> String? {
        var scanner = ProtoFieldScanner(body[...])
        var message: String?
        while let (field, value) = scanner.next() {
            switch (field, value) {
            case (1, .varint): break
            case (2, .bytes(let text)):
                guard let decoded = String(validating: text, as: UTF8.self) else { return nil }
                message = decoded
            case (3, .bytes): break
            default: return nil  // not a Status
            }
        }
        guard !scanner.malformed else { return nil }
        return message
    }

    /// Printable characters only (control characters become `.`), at most ``maxLoggedBytes``.
    static func printable(_ bytes: [UInt8]) -> String {
        var text = String(decoding: bytes.prefix(maxLoggedBytes), as: UTF8.self)
        text = String(
            text.unicodeScalars.map { scalar -> Character in
                scalar.properties.generalCategory == .control || scalar == "\u{FFFD}" ? "." : Character(scalar)
            })
        if bytes.count > maxLoggedBytes { text += "…" }
        return text
    }
}
