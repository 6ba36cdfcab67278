/// Protobuf wire types. Groups (3 and 4) are deprecated and rejected by `ProtoReader`.
public enum WireType: UInt8, Sendable, Hashable, CustomStringConvertible {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    public var description: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "fixed64"
        case .lengthDelimited: "length-delimited"
        case .startGroup: "start-group"
        case .endGroup: "end-group"
        case .fixed32: "fixed32"
        }
    }
}

/// Number of bytes the varint encoding of `value` takes (1...10).
@inlinable
public func protoVarintSize(_ value: UInt64) -> Int {
    // 1 + floor(bitWidth-1 / 7), with 0 taking one byte.
    let bits = 64 - (value | 1).leadingZeroBitCount
    return (bits + 6) / 7
}

/// Appends protobuf wire format to a growable byte buffer.
///
/// Field writers follow proto3 semantics: a scalar equal to its default (0, false, empty) is
/// omitted. Writers named `...Always` (and the raw `write...` functions) write unconditionally,
/// for oneof members and fields with explicit presence.
///
/// Nested messages: `beginMessage(field:)` writes the tag and reserves one byte for the length;
/// `endMessage(_:)` patches it in, shifting the body right in the rare case the length needs
/// more than one byte (bodies of 128 bytes or more). That keeps small messages (attributes,
/// any-values) free of any copying and costs one `memmove` per large message.
///
/// The writer owns its buffer directly (no copy-on-write checks on every byte), which is why it
/// is `~Copyable`: use it as a local `var`, pass it `inout`, and take the result with `bytes`
/// (a copy) or `finish()` (consumes the writer).
public struct ProtoWriter: ~Copyable, @unchecked Sendable {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var capacity: Int
    @usableFromInline var used: Int

    public init(reservingCapacity capacity: Int = 256) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
        used = 0
    }

    /// Continue writing after existing bytes (e.g. a batch buffer being appended to).
    public init(appendingTo bytes: [UInt8]) {
        self.init(reservingCapacity: bytes.count * 2)
        bytes.withUnsafeBufferPointer { writeRawBytes(UnsafeRawBufferPointer($0)) }
    }

    deinit { base.deallocate() }

    /// Number of bytes written so far.
    @inlinable public var count: Int { used }

    /// A copy of the bytes written so far.
    public var bytes: [UInt8] {
        Array(UnsafeBufferPointer(start: base, count: used))
    }

    /// The bytes written, consuming the writer.
    public consuming func finish() -> [UInt8] { bytes }

    /// Read access to the bytes written so far, without copying.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: used))
    }

    /// Clears the buffer but keeps its capacity, for reuse across messages.
    @inlinable public mutating func removeAll() { used = 0 }

    /// Drops everything after the first `count` bytes (e.g. to undo a partly written message).
    public mutating func truncate(to count: Int) {
        precondition(count >= 0 && count <= used, "truncate(to:) beyond the written bytes")
        used = count
    }

    /// Cuts the bytes `range` out, moving what follows down (e.g. a field of a message that is still open:
    /// its length is patched from `count` when it ends).
    public mutating func remove(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= used, "remove(_:) beyond the written bytes")
        let tail = used - range.upperBound
        if tail > 0 {
            UnsafeMutableRawPointer(base + range.lowerBound).copyMemory(from: base + range.upperBound, byteCount: tail)
        }
        used -= range.count
    }

    /// Makes room for at least `n` more bytes.
    @inlinable @inline(__always)
    public mutating func reserve(_ n: Int) {
        if _slowPath(capacity - used < n) { grow(n) }
    }

    @usableFromInline
    mutating func grow(_ n: Int) {
        let newCapacity = Swift.max(capacity * 2, used + n)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: used)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    // MARK: raw primitives

    @inlinable @inline(__always)
    mutating func appendByteUnchecked(_ b: UInt8) {
        base[used] = b
        used += 1
    }

    @inlinable @inline(__always)
    mutating func appendVarintUnchecked(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            base[used] = UInt8(truncatingIfNeeded: v) | 0x80
            used += 1
            v &>>= 7
        }
        base[used] = UInt8(truncatingIfNeeded: v)
        used += 1
    }

    @inlinable
    public mutating func writeByte(_ b: UInt8) {
        reserve(1)
        appendByteUnchecked(b)
    }

    @inlinable
    public mutating func writeVarint(_ value: UInt64) {
        reserve(10)
        appendVarintUnchecked(value)
    }

    @inlinable
    public mutating func writeTag(_ field: UInt32, _ wireType: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    @inlinable
    public mutating func writeFixed32(_ value: UInt32) {
        reserve(4)
        UnsafeMutableRawPointer(base + used).storeBytes(of: value.littleEndian, as: UInt32.self)
        used += 4
    }

    @inlinable
    public mutating func writeFixed64(_ value: UInt64) {
        reserve(8)
        UnsafeMutableRawPointer(base + used).storeBytes(of: value.littleEndian, as: UInt64.self)
        used += 8
    }

    @inlinable
    public mutating func writeRawBytes(_ raw: UnsafeRawBufferPointer) {
        guard let src = raw.baseAddress, raw.count > 0 else { return }
        reserve(raw.count)
        UnsafeMutableRawPointer(base + used).copyMemory(from: src, byteCount: raw.count)
        used += raw.count
    }

    @inlinable
    public mutating func writeRawBytes(_ raw: some Collection<UInt8>) {
        let done: Void? = raw.withContiguousStorageIfAvailable { writeRawBytes(UnsafeRawBufferPointer($0)) }
        if done == nil {
            reserve(raw.count)
            for b in raw { appendByteUnchecked(b) }
        }
    }

    @inlinable
    public mutating func writeRawString(_ value: String) {
        var s = value
        s.withUTF8 { writeRawBytes(UnsafeRawBufferPointer($0)) }
    }

    /// Tag + length + payload in one step.
    @inlinable
    mutating func writeLengthDelimited(_ field: UInt32, _ payload: UnsafeBufferPointer<UInt8>) {
        let n = payload.count
        reserve(n + 15)
        appendVarintUnchecked(UInt64(field) << 3 | 2)
        appendVarintUnchecked(UInt64(n))
        if n > 0 {
            (base + used).update(from: payload.baseAddress!, count: n)
            used += n
        }
    }

    // MARK: length-delimited payloads (written unconditionally)

    @inlinable
    public mutating func writeStringAlways(_ field: UInt32, _ value: String) {
        var s = value
        s.withUTF8 { writeLengthDelimited(field, $0) }
    }

    @inlinable
    public mutating func writeBytesAlways(_ field: UInt32, _ value: some Collection<UInt8>) {
        let done: Void? = value.withContiguousStorageIfAvailable { writeLengthDelimited(field, $0) }
        if done == nil {
            writeTag(field, .lengthDelimited)
            writeVarint(UInt64(value.count))
            writeRawBytes(value)
        }
    }

    // MARK: proto3 scalar fields (omitted when default)

    @inlinable
    public mutating func uint64(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, .varint)
        writeVarint(value)
    }

    @inlinable
    public mutating func uint32(_ field: UInt32, _ value: UInt32) {
        uint64(field, UInt64(value))
    }

    /// `int64`: negative values take 10 bytes (two's complement), as protobuf specifies.
    @inlinable
    public mutating func int64(_ field: UInt32, _ value: Int64) {
        uint64(field, UInt64(bitPattern: value))
    }

    /// `int32` and enums: negative values are sign-extended to 64 bits (10 bytes).
    @inlinable
    public mutating func int32(_ field: UInt32, _ value: Int32) {
        uint64(field, UInt64(bitPattern: Int64(value)))
    }

    @inlinable
    public mutating func bool(_ field: UInt32, _ value: Bool) {
        guard value else { return }
        writeTag(field, .varint)
        writeByte(1)
    }

    @inlinable
    public mutating func sint32(_ field: UInt32, _ value: Int32) {
        uint64(field, UInt64(ProtoWriter.zigzag32(value)))
    }

    @inlinable
    public mutating func sint64(_ field: UInt32, _ value: Int64) {
        uint64(field, ProtoWriter.zigzag64(value))
    }

    @inlinable
    public mutating func fixed32(_ field: UInt32, _ value: UInt32) {
        guard value != 0 else { return }
        writeTag(field, .fixed32)
        writeFixed32(value)
    }

    @inlinable
    public mutating func fixed64(_ field: UInt32, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, .fixed64)
        writeFixed64(value)
    }

    @inlinable
    public mutating func sfixed64(_ field: UInt32, _ value: Int64) {
        fixed64(field, UInt64(bitPattern: value))
    }

    /// `double` without presence: omitted only when the bit pattern is zero (+0.0), like the
    /// official runtimes (so -0.0 is written).
    @inlinable
    public mutating func double(_ field: UInt32, _ value: Double) {
        fixed64(field, value.bitPattern)
    }

    /// `optional double` / oneof double: written whenever set, even if 0.
    @inlinable
    public mutating func doubleAlways(_ field: UInt32, _ value: Double) {
        writeTag(field, .fixed64)
        writeFixed64(value.bitPattern)
    }

    @inlinable
    public mutating func sfixed64Always(_ field: UInt32, _ value: Int64) {
        writeTag(field, .fixed64)
        writeFixed64(UInt64(bitPattern: value))
    }

    @inlinable
    public mutating func string(_ field: UInt32, _ value: String) {
        guard !value.isEmpty else { return }
        writeStringAlways(field, value)
    }

    @inlinable
    public mutating func bytes(_ field: UInt32, _ value: some Collection<UInt8>) {
        guard !value.isEmpty else { return }
        writeBytesAlways(field, value)
    }

    // MARK: packed repeated (omitted when empty)

    @inlinable
    public mutating func packedFixed64(_ field: UInt32, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(values.count * 8))
        reserve(values.count * 8)
        for v in values { writeFixed64(v) }
    }

    @inlinable
    public mutating func packedDouble(_ field: UInt32, _ values: [Double]) {
        guard !values.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(values.count * 8))
        for v in values { writeFixed64(v.bitPattern) }
    }

    @inlinable
    public mutating func packedVarint(_ field: UInt32, _ values: [UInt64]) {
        guard !values.isEmpty else { return }
        var size = 0
        for v in values { size += protoVarintSize(v) }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(size))
        for v in values { writeVarint(v) }
    }

    // MARK: nested messages

    /// Opaque marker returned by `beginMessage`, to pass to `endMessage`.
    public struct MessageMark: Sendable {
        @usableFromInline let bodyStart: Int
        @inlinable init(bodyStart: Int) { self.bodyStart = bodyStart }
    }

    /// Writes the tag of a length-delimited field and reserves one byte for its length.
    @inlinable
    public mutating func beginMessage(_ field: UInt32) -> MessageMark {
        reserve(6)
        appendVarintUnchecked(UInt64(field) << 3 | 2)
        appendByteUnchecked(0)
        return MessageMark(bodyStart: used)
    }

    /// Patches in the length of the message started by `mark`.
    @inlinable
    public mutating func endMessage(_ mark: MessageMark) {
        let length = used - mark.bodyStart
        if _fastPath(length < 0x80) {
            base[mark.bodyStart - 1] = UInt8(truncatingIfNeeded: length)
        } else {
            patchLongLength(mark.bodyStart, length)
        }
    }

    @usableFromInline
    mutating func patchLongLength(_ bodyStart: Int, _ length: Int) {
        let extra = protoVarintSize(UInt64(length)) - 1
        reserve(extra)
        // Shift the body right by `extra` bytes (overlapping: memmove semantics).
        UnsafeMutableRawPointer(base + bodyStart + extra).copyMemory(from: base + bodyStart, byteCount: length)
        used += extra
        var v = UInt64(length)
        var p = bodyStart - 1
        while v >= 0x80 {
            base[p] = UInt8(truncatingIfNeeded: v) | 0x80
            v &>>= 7
            p += 1
        }
        base[p] = UInt8(truncatingIfNeeded: v)
    }

    /// Writes a nested message field (always, even if the body is empty: presence).
    @inlinable
    public mutating func message(_ field: UInt32, _ body: (inout ProtoWriter) throws -> Void) rethrows {
        let mark = beginMessage(field)
        try body(&self)
        endMessage(mark)
    }

    /// Writes a nested message field from a model value (always: presence).
    @inlinable
    public mutating func message(_ field: UInt32, _ value: some ProtoEncodable) {
        let mark = beginMessage(field)
        value.encode(into: &self)
        endMessage(mark)
    }

    /// Writes each element as a repeated message field.
    @inlinable
    public mutating func messages<M: ProtoEncodable>(_ field: UInt32, _ values: [M]) {
        for v in values { message(field, v) }
    }

    // MARK: zigzag

    @inlinable
    public static func zigzag32(_ v: Int32) -> UInt32 {
        UInt32(bitPattern: (v &<< 1) ^ (v >> 31))
    }

    @inlinable
    public static func zigzag64(_ v: Int64) -> UInt64 {
        UInt64(bitPattern: (v &<< 1) ^ (v >> 63))
    }

    @inlinable
    public static func unzigzag32(_ v: UInt32) -> Int32 {
        Int32(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    @inlinable
    public static func unzigzag64(_ v: UInt64) -> Int64 {
        Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
}

/// A value that encodes itself as the body of a protobuf message.
public protocol ProtoEncodable {
    /// Appends the message body (its fields, without tag or length) to `writer`.
    func encode(into writer: inout ProtoWriter)
}

extension ProtoEncodable {
    /// The message body in protobuf wire format.
    public func serializedBytes() -> [UInt8] {
        var w = ProtoWriter(reservingCapacity: 256)
        encode(into: &w)
        return w.finish()
    }
}
