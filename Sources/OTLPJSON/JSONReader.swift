// A strict (RFC 8259), bounded, pull-style JSON reader over UTF-8 bytes. It never builds a
// document tree: decoders ask for the value they expect next (object members, array elements,
// strings, numbers) and the reader checks the syntax as it goes. Every failure is an
// `OTLPJSONError` with the byte offset; object members and array elements add their key or index
// to the error's path on the way out, so the happy path pays nothing for paths.

/// The name of an object member, valid only while its value is being decoded.
struct JSONKey {
    let start: UnsafePointer<UInt8>
    let count: Int

    @inline(__always)
    func matches(_ name: StaticString) -> Bool {
        guard name.utf8CodeUnitCount == count else { return false }
        let p = name.utf8Start
        var i = 0
        while i < count {
            if p[i] != start[i] { return false }
            i += 1
        }
        return true
    }

    /// True if the key is the lowerCamelCase JSON name or the original proto field name.
    @inline(__always)
    func matches(_ jsonName: StaticString, _ protoName: StaticString) -> Bool {
        matches(jsonName) || matches(protoName)
    }

    var string: String { String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self) }
}

struct JSONReader {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos = 0
    var depth = 0
    let maxDepth: Int
    /// Remaining allowance for the decoded model (an estimate in bytes): bounds the memory that
    /// small JSON values (`{}`, `0`) expanding into large model values could take.
    var budget: Int
    let budgetLimit: Int
    /// Reused buffer for strings with escapes.
    var scratch: [UInt8] = []

    init(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int, budget: Int) {
        // An empty buffer may have a nil base address: point at a static byte instead.
        base = buffer.baseAddress ?? UnsafePointer(JSONReader.emptyByte)
        end = buffer.count
        self.maxDepth = maxDepth
        self.budget = budget
        self.budgetLimit = budget
    }

    private nonisolated(unsafe) static let emptyByte: UnsafeMutablePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()

    // MARK: errors

    func error(_ reason: String, at offset: Int? = nil) -> OTLPJSONError {
        OTLPJSONError(offset: offset ?? pos, reason: reason)
    }

    /// The error for an unexpected byte (or the end of input) where `expected` should be.
    func unexpected(_ expected: String) -> OTLPJSONError {
        guard pos < end else { return error("unexpected end of input, expected \(expected)") }
        let c = base[pos]
        let found: String
        switch c {
        case UInt8(ascii: "{"): found = "an object"
        case UInt8(ascii: "["): found = "an array"
        case UInt8(ascii: "\""): found = "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "a boolean"
        case UInt8(ascii: "n"): found = "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): found = "a number"
        case 0x21...0x7E: found = "'\(Character(Unicode.Scalar(c)))'"
        default: found = "byte 0x\(String(c, radix: 16))"
        }
        return error("expected \(expected), found \(found)")
    }

    @inline(__always)
    mutating func charge(_ bytes: Int) throws(OTLPJSONError) {
        budget -= bytes
        if budget < 0 {
            throw error("request too large once decoded (more than \(budgetLimit) bytes of model)")
        }
    }

    // MARK: structure

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    /// The next non-whitespace byte, not consumed; nil at the end of input.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return pos < end ? base[pos] : nil
    }

    /// Consumes `null` if it comes next.
    @inline(__always)
    mutating func consumeNull() throws(OTLPJSONError) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func literal(_ word: StaticString) throws(OTLPJSONError) {
        let n = word.utf8CodeUnitCount
        let p = word.utf8Start
        let start = pos
        var i = 0
        while i < n {
            guard pos + i < end, base[pos + i] == p[i] else {
                throw error(pos + i < end ? "invalid literal" : "unexpected end of input in a literal", at: start)
            }
            i += 1
        }
        pos += n
    }

    /// After the whole value: only whitespace may follow.
    mutating func finish() throws(OTLPJSONError) {
        skipWhitespace()
        if pos < end { throw error("unexpected data after the JSON value") }
    }

    @inline(__always)
    private mutating func enter() throws(OTLPJSONError) {
        depth += 1
        if depth > maxDepth { throw error("nested deeper than \(maxDepth) levels") }
    }

    /// Reads an object, calling `member` with each key; `member` must consume the value.
    /// Duplicate keys reach `member` again (decoders assign, so the last one wins).
    @inline(__always)
    mutating func object(
        _ what: String = "an object", _ member: (inout JSONReader, JSONKey) throws(OTLPJSONError) -> Void
    ) throws(OTLPJSONError) {
        if try enterContainer(UInt8(ascii: "{"), UInt8(ascii: "}"), what) { return }
        repeat {
            guard peek() == UInt8(ascii: "\"") else { throw unexpected("a string key") }
            try objectMember(member)
        } while try nextInContainer(UInt8(ascii: "}"), "',' or '}'")
    }

    private mutating func objectMember(
        _ member: (inout JSONReader, JSONKey) throws(OTLPJSONError) -> Void
    ) throws(OTLPJSONError) {
        let keyStart = pos
        let key: JSONKey
        var storage: UnsafeMutablePointer<UInt8>?
        defer { storage?.deallocate() }
        if let raw = try simpleString() {
            key = JSONKey(start: base + raw.lowerBound, count: raw.count)
        } else {
            // Rare: escapes in a key. Decode into storage of its own (the value may use `scratch`).
            pos = keyStart
            try escapedString()
            let n = scratch.count
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
            storage = copy
            for i in 0..<n { copy[i] = scratch[i] }
            key = JSONKey(start: copy, count: n)
        }
        try colon()
        do { try member(&self, key) } catch {
            var e = error
            e.prependKey(key.string)
            throw e
        }
    }

    @inline(__always)
    private mutating func colon() throws(OTLPJSONError) {
        guard peek() == UInt8(ascii: ":") else { throw unexpected("':'") }
        pos += 1
    }

    /// Reads an array, calling `element` with each index; `element` must consume the value.
    @inline(__always)
    mutating func array(
        _ what: String = "an array", _ element: (inout JSONReader, Int) throws(OTLPJSONError) -> Void
    ) throws(OTLPJSONError) {
        if try enterContainer(UInt8(ascii: "["), UInt8(ascii: "]"), what) { return }
        var index = 0
        repeat {
            do { try element(&self, index) } catch {
                var e = error
                e.prependIndex(index)
                throw e
            }
            index += 1
        } while try nextInContainer(UInt8(ascii: "]"), "',' or ']'")
    }

    /// At `open` (else `what` was expected): enters the object or array; true when `close` follows at once
    /// (it was empty, and has been left).
    @inline(__always)
    private mutating func enterContainer(_ open: UInt8, _ close: UInt8, _ what: String) throws(OTLPJSONError) -> Bool {
        guard peek() == open else { throw unexpected(what) }
        try enter()
        pos += 1
        guard peek() == close else { return false }
        pos += 1
        depth -= 1
        return true
    }

    /// After a member or element: true at `,` (another follows), false at `close` (the object or array
    /// has been left); else `expected` was.
    @inline(__always)
    private mutating func nextInContainer(_ close: UInt8, _ expected: String) throws(OTLPJSONError) -> Bool {
        guard let c = peek() else { throw unexpected(expected) }
        pos += 1
        if c == UInt8(ascii: ",") { return true }
        if c == close {
            depth -= 1
            return false
        }
        pos -= 1
        throw unexpected(expected)
    }

    /// Skips any JSON value, checking its syntax (unknown fields must still be valid JSON).
    mutating func skipValue() throws(OTLPJSONError) {
        guard let c = peek() else { throw unexpected("a JSON value") }
        switch c {
        case UInt8(ascii: "{"):
            try object { r, _ throws(OTLPJSONError) in try r.skipValue() }
        case UInt8(ascii: "["):
            try array { r, _ throws(OTLPJSONError) in try r.skipValue() }
        case UInt8(ascii: "\""):
            if try simpleString() == nil { try escapedString() }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try numberToken()
        default: throw unexpected("a JSON value")
        }
    }

    // MARK: strings

    /// At a `"`: if the string has no escapes, consumes it (validating UTF-8) and returns the range
    /// of its content. Otherwise leaves `pos` somewhere inside and returns nil; the caller rewinds
    /// and calls `escapedString()`.
    @inline(__always)
    mutating func simpleString() throws(OTLPJSONError) -> Range<Int>? {
        let start = pos + 1
        var i = start
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: "\"") {
                pos = i + 1
                return start..<i
            }
            if c == UInt8(ascii: "\\") { return nil }
            if c < 0x20 {
                throw error("control character 0x\(String(c, radix: 16)) in a string (must be escaped)", at: i)
            }
            if c < 0x80 {
                i += 1
            } else {
                i += try utf8Sequence(at: i)
            }
        }
        throw error("unterminated string", at: pos)
    }

    /// At a `"`: decodes the string (escapes resolved) into `scratch`.
    mutating func escapedString() throws(OTLPJSONError) {
        let open = pos
        scratch.removeAll(keepingCapacity: true)
        var i = pos + 1
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: "\"") {
                pos = i + 1
                return
            }
            if c < 0x20 {
                throw error("control character 0x\(String(c, radix: 16)) in a string (must be escaped)", at: i)
            }
            if c < 0x80 && c != UInt8(ascii: "\\") {
                scratch.append(c)
                i += 1
                continue
            }
            if c >= 0x80 {
                let n = try utf8Sequence(at: i)
                for k in 0..<n { scratch.append(base[i + k]) }
                i += n
                continue
            }
            // Escape sequence.
            guard i + 1 < end else { break }
            let e = base[i + 1]
            if let byte = Self.unescaped(e) {
                scratch.append(byte)
                i += 2
                continue
            }
            switch e {
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: i + 2)
                var next = i + 6
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard next + 1 < end, base[next] == UInt8(ascii: "\\"), base[next + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired high surrogate \\u\(String(scalar, radix: 16, uppercase: true))", at: i)
                    }
                    let low = try hex4(at: next + 2)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw error("high surrogate not followed by a low surrogate", at: next)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    next += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error("unpaired low surrogate \\u\(String(scalar, radix: 16, uppercase: true))", at: i)
                }
                appendUTF8(scalar)
                i = next
            default:
                throw error("invalid escape sequence in a string", at: i)
            }
        }
        throw error("unterminated string", at: open)
    }

    /// The byte a one-character escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) stands for; nil otherwise.
    @inline(__always)
    private static func unescaped(_ e: UInt8) -> UInt8? {
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): e
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    private func hex4(at i: Int) throws(OTLPJSONError) -> UInt32 {
        guard i + 4 <= end else { throw error("truncated \\u escape", at: i - 2) }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = hexDigit(base[i + k]) else { throw error("invalid \\u escape", at: i - 2) }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    private mutating func appendUTF8(_ s: UInt32) {
        if s < 0x80 {
            scratch.append(UInt8(s))
        } else if s < 0x800 {
            scratch.append(UInt8(0xC0 | s >> 6))
            scratch.append(UInt8(0x80 | s & 0x3F))
        } else if s < 0x10000 {
            scratch.append(UInt8(0xE0 | s >> 12))
            scratch.append(UInt8(0x80 | (s >> 6) & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        } else {
            scratch.append(UInt8(0xF0 | s >> 18))
            scratch.append(UInt8(0x80 | (s >> 12) & 0x3F))
            scratch.append(UInt8(0x80 | (s >> 6) & 0x3F))
            scratch.append(UInt8(0x80 | s & 0x3F))
        }
    }

    /// Length of the well-formed UTF-8 sequence starting at `i` (a byte >= 0x80).
    @inline(__always)
    private func utf8Sequence(at i: Int) throws(OTLPJSONError) -> Int {
        let b0 = base[i]
        let n: Int
        if b0 >= 0xC2 && b0 < 0xE0 {
            n = 2
        } else if b0 >= 0xE0 && b0 < 0xF0 {
            n = 3
        } else if b0 >= 0xF0 && b0 < 0xF5 {
            n = 4
        } else {
            throw error("invalid UTF-8", at: i)
        }
        guard i + n <= end else { throw error("invalid UTF-8 (truncated sequence)", at: i) }
        for k in 1..<n where base[i + k] & 0xC0 != 0x80 { throw error("invalid UTF-8", at: i) }
        let b1 = base[i + 1]
        if (b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0) || (b0 == 0xF0 && b1 < 0x90)
            || (b0 == 0xF4 && b1 >= 0x90)
        {
            throw error("invalid UTF-8", at: i)
        }
        return n
    }

    /// Calls `body` with the UTF-8 content of the string that comes next.
    @inline(__always)
    mutating func withString<R>(
        _ what: String, _ body: (UnsafeBufferPointer<UInt8>) throws(OTLPJSONError) -> R
    ) throws(OTLPJSONError) -> R {
        guard peek() == UInt8(ascii: "\"") else { throw unexpected(what) }
        let open = pos
        if let raw = try simpleString() {
            return try body(UnsafeBufferPointer(start: base + raw.lowerBound, count: raw.count))
        }
        pos = open
        try escapedString()
        let copy = scratch  // `body` must not see `scratch` change under it
        return try copy.withUnsafeBufferPointer { (p) throws(OTLPJSONError) -> R in try body(p) }
    }

    // MARK: numbers

    /// Consumes a number (RFC 8259 grammar) and returns its byte range.
    mutating func numberToken() throws(OTLPJSONError) -> Range<Int> {
        let start = pos
        var i = pos
        if i < end && base[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, isDigit(base[i]) else { throw error("invalid number", at: start) }
        if base[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < end && isDigit(base[i]) { i += 1 }
        }
        if i < end && base[i] == UInt8(ascii: ".") {
            i += 1
            guard i < end, isDigit(base[i]) else { throw error("invalid number (digits must follow '.')", at: start) }
            while i < end && isDigit(base[i]) { i += 1 }
        }
        if i < end && (base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E")) {
            i += 1
            if i < end && (base[i] == UInt8(ascii: "+") || base[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < end, isDigit(base[i]) else {
                throw error("invalid number (digits must follow the exponent)", at: start)
            }
            while i < end && isDigit(base[i]) { i += 1 }
        }
        pos = i
        return start..<i
    }
}

@inline(__always)
func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

@inline(__always)
func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}
