import OTLPWire

/// `Export*ServiceResponse.partial_success = 1` →
/// `Export*PartialSuccess { int64 rejected_<items> = 1; string error_message = 2; }`
/// (same numbers for traces, logs and metrics; checked in opentelemetry-proto
/// `opentelemetry/proto/collector/{trace,logs,metrics}/v1/*_service.proto` at 1af43249).
struct PartialSuccess: Equatable {
    var rejected: Int64
    var errorMessage: String

    /// nil when the body holds no (or an empty) `partial_success`, or does not parse. Read with
    /// `OTLPWire`'s `ProtoReader`, leniently: unknown fields and wire types are skipped, the message need
    /// not be UTF-8, and what was read before malformed bytes is kept.
    static func parse(_ body: [UInt8]) -> PartialSuccess? {
        var outer = ProtoReader(body)
        var result = PartialSuccess(rejected: 0, errorMessage: "")
        var found = false
        do {
            while let key = try outer.nextField() {
                guard key.number == 1, key.wireType == .lengthDelimited else {
                    try outer.skip(key)
                    continue
                }
                found = true
                var inner = try outer.nested(key)
                while let innerKey = try inner.nextField() {
                    switch (innerKey.number, innerKey.wireType) {
                    case (1, .varint): result.rejected = Int64(bitPattern: try inner.readVarint())
                    case (2, .lengthDelimited):
                        result.errorMessage = String(decoding: body[try inner.readLengthDelimited()], as: UTF8.self)
                    default: try inner.skip(innerKey)
                    }
                }
            }
        } catch {
            // malformed: keep what was read
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

    /// `google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; }`: its
    /// message, nil when the body is not such a Status (another field, malformed, not UTF-8).
    static func statusMessage(_ body: [UInt8]) -> String? {
        var reader = ProtoReader(body)
        var message: String?
        do {
            while let key = try reader.nextField() {
                switch (key.number, key.wireType) {
                case (1, .varint), (3, .lengthDelimited): try reader.skip(key)
                case (2, .lengthDelimited):
                    guard let decoded = String(validating: body[try reader.readLengthDelimited()], as: UTF8.self)
                    else { return nil }
                    message = decoded
                default: return nil  // not a Status
                }
            }
        } catch {
            return nil
        }
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
