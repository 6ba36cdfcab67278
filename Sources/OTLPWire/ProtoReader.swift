/// A malformed protobuf input: where (byte offset from the start of the buffer) and why.
public struct ProtoDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The input ends inside a tag, varint, fixed-width value or length-delimited payload.
        case truncated
        /// A varint longer than 10 bytes (or a 10th byte carrying more than 1 bit).
        case varintTooLong
        /// A length prefix that points past the end of the enclosing message.
        case lengthPastEnd(declared: UInt64, available: Int)
        /// A wire type that does not match the schema of a known field.
        case wrongWireType(field: UInt32, expected: WireType, actual: WireType)
        /// Wire types 6 and 7 do not exist.
        case invalidWireType(UInt8)
        /// Wire types 3 and 4 (groups) are deprecated and not accepted.
        case groupsNotSupported
        /// Field number 0 is reserved; numbers above 2^29-1 do not exist.
        case invalidFieldNumber(UInt64)
        /// Messages nested deeper than the reader's limit.
        case tooDeep(limit: Int)
        /// A `string` field that is not valid UTF-8 (proto3 requires it).
        case invalidUTF8(field: UInt32)
        /// A packed repeated fixed-width field whose length is not a multiple of the element size.
        case badPackedLength(field: UInt32, length: Int)
        /// Anything else, described in words.
        case invalid(String)

        public var description: String {
            switch self {
            case .truncated: "truncated input"
            case .varintTooLong: "varint longer than 10 bytes"
            case .lengthPastEnd(let d, let a): "length \(d) exceeds the \(a) bytes remaining"
            case .wrongWireType(let f, let e, let a): "field \(f) has wire type \(a), expected \(e)"
            case .invalidWireType(let w): "invalid wire type \(w)"
            case .groupsNotSupported: "group wire types (3, 4) are not supported"
            case .invalidFieldNumber(let n): "invalid field number \(n)"
            case .tooDeep(let l): "messages nested deeper than \(l) levels"
            case .invalidUTF8(let f): "field \(f) is not valid UTF-8"
            case .badPackedLength(let f, let l): "packed field \(f) has length \(l), not a multiple of its element size"
            case .invalid(let s): s
            }
        }
    }

    /// Byte offset, from the start of the decoded buffer, where the problem was found.
    public var offset: Int
    public var reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "malformed protobuf at byte \(offset): \(reason)" }
}

/// Tag of a field just read: its number, wire type and where the tag started.
public struct ProtoFieldKey: Sendable, Hashable {
    public var number: UInt32
    public var wireType: WireType
    /// Offset of the tag's first byte.
    public var offset: Int
}

/// A bounds-checked, depth-limited protobuf reader over a byte array.
///
/// The reader never traps on malformed input and never allocates in proportion to a declared
/// length: lengths are checked against the bytes actually present before anything is sliced.
/// Offsets in errors are relative to the start of `buffer`.
public struct ProtoReader: Sendable {
    public static let defaultMaxDepth = 64

    /// The whole buffer (shared, copy-on-write); this reader looks at `position..<end`.
    public let buffer: [UInt8]
    public private(set) var position: Int
    public let end: Int
    /// Nesting level of this reader (0 for the outermost message).
    public let depth: Int
    public let maxDepth: Int

    public init(_ buffer: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth) {
        self.init(buffer, range: 0..<buffer.count, depth: 0, maxDepth: maxDepth)
    }

    /// A reader over `range` of `buffer` (clamped to the buffer).
    public init(_ buffer: [UInt8], range: Range<Int>, depth: Int = 0, maxDepth: Int = ProtoReader.defaultMaxDepth) {
        self.buffer = buffer
        let lo = max(0, min(range.lowerBound, buffer.count))
        let hi = max(lo, min(range.upperBound, buffer.count))
        self.position = lo
        self.end = hi
        self.depth = depth
        self.maxDepth = maxDepth
    }

    public var isAtEnd: Bool { position >= end }
    public var remaining: Int { end - position }

    func fail(_ reason: ProtoDecodingError.Reason, at offset: Int? = nil) -> ProtoDecodingError {
        ProtoDecodingError(offset: offset ?? position, reason: reason)
    }

    // MARK: primitives

    /// Reads a varint (at most 10 bytes; the 10th may only carry the top bit).

    public mutating func readVarint() throws(ProtoDecodingError) -> UInt64 {
        let start = position
        // Fast path: one byte.
        if position < end {
            let b = buffer[position]
            if b < 0x80 {
                position += 1
                return UInt64(b)
            }
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var p = position
        while true {
            guard p < end else { throw fail(.truncated, at: start) }
            let b = buffer[p]
            p += 1
            if shift == 63 {
                guard b <= 1 else { throw fail(.varintTooLong, at: start) }
                result |= UInt64(b) << 63
                break
            }
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        position = p
        return result
    }

    public mutating func readFixed32() throws(ProtoDecodingError) -> UInt32 {
        guard end - position >= 4 else { throw fail(.truncated) }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(buffer[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    public mutating func readFixed64() throws(ProtoDecodingError) -> UInt64 {
        guard end - position >= 8 else { throw fail(.truncated) }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(buffer[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    /// Reads a length prefix and returns the payload's range, checked against `end`.

    public mutating func readLengthDelimited() throws(ProtoDecodingError) -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw fail(.lengthPastEnd(declared: length, available: end - position), at: start)
        }
        let lo = position
        position += Int(length)
        return lo..<position
    }

    /// Reads the next tag, or returns nil at the end of this message.

    public mutating func nextField() throws(ProtoDecodingError) -> ProtoFieldKey? {
        guard position < end else { return nil }
        let start = position
        let tag = try readVarint()
        let number = tag >> 3
        guard number != 0, number <= 0x1FFF_FFFF else { throw fail(.invalidFieldNumber(number), at: start) }
        let wt = UInt8(tag & 7)
        guard let wireType = WireType(rawValue: wt) else { throw fail(.invalidWireType(wt), at: start) }
        if wireType == .startGroup || wireType == .endGroup { throw fail(.groupsNotSupported, at: start) }
        return ProtoFieldKey(number: UInt32(number), wireType: wireType, offset: start)
    }

    /// Skips the value of a field (unknown fields).

    public mutating func skip(_ key: ProtoFieldKey) throws(ProtoDecodingError) {
        switch key.wireType {
        case .varint: _ = try readVarint()
        case .fixed64:
            guard end - position >= 8 else { throw fail(.truncated) }
            position += 8
        case .fixed32:
            guard end - position >= 4 else { throw fail(.truncated) }
            position += 4
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup: throw fail(.groupsNotSupported, at: key.offset)
        }
    }

    // MARK: typed field values (check the wire type against the schema)

    public func expect(_ key: ProtoFieldKey, _ wireType: WireType) throws(ProtoDecodingError) {
        guard key.wireType == wireType else {
            throw fail(.wrongWireType(field: key.number, expected: wireType, actual: key.wireType), at: key.offset)
        }
    }

    public mutating func uint64(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> UInt64 {
        try expect(key, .varint)
        return try readVarint()
    }

    public mutating func uint32(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> UInt32 {
        UInt32(truncatingIfNeeded: try uint64(key))
    }

    public mutating func int64(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try uint64(key))
    }

    /// `int32` and enums (truncating, as the official runtimes do).

    public mutating func int32(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Int32 {
        Int32(truncatingIfNeeded: try uint64(key))
    }

    public mutating func bool(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Bool {
        try uint64(key) != 0
    }

    public mutating func sint32(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Int32 {
        ProtoWriter.unzigzag32(UInt32(truncatingIfNeeded: try uint64(key)))
    }

    public mutating func sint64(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Int64 {
        ProtoWriter.unzigzag64(try uint64(key))
    }

    public mutating func fixed32(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> UInt32 {
        try expect(key, .fixed32)
        return try readFixed32()
    }

    public mutating func fixed64(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> UInt64 {
        try expect(key, .fixed64)
        return try readFixed64()
    }

    public mutating func sfixed64(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try fixed64(key))
    }

    public mutating func double(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Double {
        Double(bitPattern: try fixed64(key))
    }

    /// Payload range of a length-delimited field.

    public mutating func lengthDelimited(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> Range<Int> {
        try expect(key, .lengthDelimited)
        return try readLengthDelimited()
    }

    public mutating func bytes(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> [UInt8] {
        Array(buffer[try lengthDelimited(key)])
    }

    /// A `string` field, validated as UTF-8.
    public mutating func string(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> String {
        let range = try lengthDelimited(key)
        if range.isEmpty { return "" }
        let s: String? = buffer.withUnsafeBufferPointer { buf in
            let slice = UnsafeBufferPointer(rebasing: buf[range])
            guard validateUTF8(slice) else { return nil }
            return String(decoding: slice, as: UTF8.self)
        }
        guard let s else { throw fail(.invalidUTF8(field: key.number), at: key.offset) }
        return s
    }

    /// A reader for an embedded message, one level deeper.
    public mutating func nested(_ key: ProtoFieldKey) throws(ProtoDecodingError) -> ProtoReader {
        let range = try lengthDelimited(key)
        return try child(range, at: key.offset)
    }

    /// A reader over `range` (already bounds-checked), one level deeper.
    public func child(_ range: Range<Int>, at offset: Int) throws(ProtoDecodingError) -> ProtoReader {
        guard depth + 1 <= maxDepth else { throw fail(.tooDeep(limit: maxDepth), at: offset) }
        return ProtoReader(buffer, range: range, depth: depth + 1, maxDepth: maxDepth)
    }

    /// Decodes an embedded message of a model type.
    public mutating func message<M: ProtoDecodable>(
        _ key: ProtoFieldKey, as: M.Type = M.self
    ) throws(ProtoDecodingError) -> M {
        var sub = try nested(key)
        return try M(from: &sub)
    }

    /// Decodes a singular embedded message, merging into a previous occurrence if any.
    public mutating func mergeMessage<M: ProtoDecodable>(
        _ key: ProtoFieldKey, into existing: M?
    ) throws(ProtoDecodingError) -> M {
        var sub = try nested(key)
        var value = existing ?? M()
        try value.merge(from: &sub)
        return value
    }

    // MARK: repeated scalars (packed or not: both are accepted, as the spec demands)

    public mutating func appendFixed64(_ key: ProtoFieldKey, to values: inout [UInt64]) throws(ProtoDecodingError) {
        switch key.wireType {
        case .fixed64:
            values.append(try readFixed64())
        case .lengthDelimited:
            let range = try readLengthDelimited()
            guard range.count % 8 == 0 else {
                throw fail(.badPackedLength(field: key.number, length: range.count), at: key.offset)
            }
            values.reserveCapacity(values.count + range.count / 8)
            var p = range.lowerBound
            while p < range.upperBound {
                var v: UInt64 = 0
                for i in 0..<8 { v |= UInt64(buffer[p + i]) << (8 * UInt64(i)) }
                values.append(v)
                p += 8
            }
        default:
            throw fail(
                .wrongWireType(field: key.number, expected: .lengthDelimited, actual: key.wireType), at: key.offset)
        }
    }

    public mutating func appendDouble(_ key: ProtoFieldKey, to values: inout [Double]) throws(ProtoDecodingError) {
        var raw: [UInt64] = []
        try appendFixed64(key, to: &raw)
        values.append(contentsOf: raw.lazy.map { Double(bitPattern: $0) })
    }

    public mutating func appendVarint(_ key: ProtoFieldKey, to values: inout [UInt64]) throws(ProtoDecodingError) {
        switch key.wireType {
        case .varint:
            values.append(try readVarint())
        case .lengthDelimited:
            let range = try readLengthDelimited()
            var sub = ProtoReader(buffer, range: range, depth: depth, maxDepth: maxDepth)
            while !sub.isAtEnd { values.append(try sub.readVarint()) }
        default:
            throw fail(
                .wrongWireType(field: key.number, expected: .lengthDelimited, actual: key.wireType), at: key.offset)
        }
    }

    public mutating func appendString(_ key: ProtoFieldKey, to values: inout [String]) throws(ProtoDecodingError) {
        values.append(try string(key))
    }
}

/// A model value that decodes itself from the body of a protobuf message.
public protocol ProtoDecodable {
    /// The default value (all fields unset).
    init()
    /// Reads fields until `reader` is at its end, merging them into `self` with protobuf
    /// semantics (scalars: last wins; repeated: appended; messages: merged). Unknown fields are skipped.
    mutating func merge(from reader: inout ProtoReader) throws(ProtoDecodingError)
}

extension ProtoDecodable {
    /// Decodes a message body read by `reader`.
    public init(from reader: inout ProtoReader) throws(ProtoDecodingError) {
        self.init()
        try merge(from: &reader)
    }

    /// Decodes a message body (e.g. a whole `Export*ServiceRequest`).
    public init(decoding bytes: [UInt8], maxDepth: Int = ProtoReader.defaultMaxDepth) throws(ProtoDecodingError) {
        var r = ProtoReader(bytes, maxDepth: maxDepth)
        try self.init(from: &r)
    }
}

/// A model value that can both encode and decode itself.
public typealias ProtoMessage = ProtoEncodable & ProtoDecodable

// MARK: UTF-8 validation (no Foundation)

/// True if `bytes` is well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF). ASCII (what OTLP's
/// names, ids and most values are) is checked eight bytes at a time.
public func validateUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let raw = UnsafeRawPointer(base)
    var i = 0
    let n = bytes.count
    while i < n {
        if i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
            continue
        }
        let b0 = bytes[i]
        if b0 < 0x80 {
            i += 1
            continue
        }
        if b0 < 0xC2 { return false }
        if b0 < 0xE0 {
            guard i + 1 < n, bytes[i + 1] & 0xC0 == 0x80 else { return false }
            i += 2
        } else if b0 < 0xF0 {
            guard i + 2 < n else { return false }
            let b1 = bytes[i + 1]
            let b2 = bytes[i + 2]
            guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return false }
            if b0 == 0xE0 && b1 < 0xA0 { return false }  // overlong
            if b0 == 0xED && b1 >= 0xA0 { return false }  // surrogates
            i += 3
        } else if b0 < 0xF5 {
            guard i + 3 < n else { return false }
            let b1 = bytes[i + 1]
            let b2 = bytes[i + 2]
            let b3 = bytes[i + 3]
            guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return false }
            if b0 == 0xF0 && b1 < 0x90 { return false }  // overlong
            if b0 == 0xF4 && b1 >= 0x90 { return false }  // > U+10FFFF
            i += 4
        } else {
            return false
        }
    }
    return true
}
