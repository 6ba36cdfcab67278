/// A cursor over JSON bytes: whitespace, strings (with escape decoding), and skipping values.
/// Never traps: every read is bounds-checked and failures return `nil`/`false`.
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let end: Int
    var i: Int

    init(_ base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
        self.i = 0
    }

    /// A string's raw bytes between the quotes, and what decoding it needs.
    struct RawString {
        var start: Int
        var count: Int
        /// Contains a backslash escape.
        var escaped: Bool
        /// Every byte is below 0x80 (so it is valid UTF-8 as is).
        var ascii: Bool
    }

    @inline(__always) var atEnd: Bool { i >= end }
    @inline(__always) var peek: UInt8 { i < end ? base[i] : 0 }

    @inline(__always) mutating func skipWhitespace() {
        while i < end {
            let c = base[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { return }
        }
    }

    @inline(__always) mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if i < end && base[i] == byte {
            i += 1
            return true
        }
        return false
    }

    /// Scans a string starting at the opening quote (after whitespace); leaves `i` after the closing quote.
    mutating func scanString() -> RawString? {
        skipWhitespace()
        guard i < end, base[i] == UInt8(ascii: "\"") else { return nil }
        i += 1
        let start = i
        var escaped = false
        var high: UInt64 = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        let tops: UInt64 = 0x8080_8080_8080_8080
        while true {
            // Eight bytes at a time up to the next `"` or `\\` (a zero byte of w ^ pattern; the lowest
            // flagged byte is exact): most of a Flux line is plain ASCII inside strings.
            while i &+ 8 <= end {
                let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
                let q = w ^ 0x2222_2222_2222_2222
                let b = w ^ 0x5C5C_5C5C_5C5C_5C5C
                let special = ((q &- ones) & ~q | (b &- ones) & ~b) & tops
                if special == 0 {
                    high |= w
                    i &+= 8
                    continue
                }
                let k = special.trailingZeroBitCount >> 3
                high |= w & ((1 << (UInt64(k) << 3)) &- 1)
                i &+= k
                break
            }
            guard i < end else { return nil }
            let c = base[i]
            if c == UInt8(ascii: "\"") {
                let raw = RawString(start: start, count: i - start, escaped: escaped, ascii: high & tops == 0)
                i += 1
                return raw
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                i += 2
                continue
            }
            high |= UInt64(c)
            i += 1
        }
    }

    /// Skips any JSON value (bounded nesting); false when malformed.
    mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        skipWhitespace()
        guard i < end else { return false }
        switch base[i] {
        case UInt8(ascii: "\""):
            return scanString() != nil
        case UInt8(ascii: "{"):
            i += 1
            if consume(UInt8(ascii: "}")) { return true }
            repeat {
                guard scanString() != nil, consume(UInt8(ascii: ":")), skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            i += 1
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue(depth: depth + 1) else { return false }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        default:
            return scanScalar() != nil
        }
    }

    /// A bare scalar: number, `true`, `false`, `null`; returns its byte range.
    mutating func scanScalar() -> Range<Int>? {
        skipWhitespace()
        let start = i
        while i < end {
            let c = base[i]
            if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0A
                || c == 0x0D || c == 0x09
            {
                break
            }
            i += 1
        }
        return i > start ? start..<i : nil
    }

    /// Decodes the escapes of `raw` into `out` (replacing its contents). Invalid escapes and lone
    /// surrogates become U+FFFD; the result may still hold invalid UTF-8 from the input bytes.
    func unescape(_ raw: RawString, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var j = raw.start
        let stop = raw.start + raw.count
        while j < stop {
            let c = base[j]
            if c != UInt8(ascii: "\\") {
                out.append(c)
                j += 1
                continue
            }
            j += 1
            guard j < stop else { break }
            let e = base[j]
            j += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard let unit = hex4(j, stop) else {
                    appendScalar(0xFFFD, &out)
                    continue
                }
                j += 4
                if unit >= 0xD800 && unit < 0xDC00 {
                    if j + 6 <= stop, base[j] == UInt8(ascii: "\\"), base[j + 1] == UInt8(ascii: "u"),
                        let low = hex4(j + 2, stop), low >= 0xDC00 && low < 0xE000
                    {
                        j += 6
                        appendScalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), &out)
                    } else {
                        appendScalar(0xFFFD, &out)
                    }
                } else if unit >= 0xDC00 && unit < 0xE000 {
                    appendScalar(0xFFFD, &out)
                } else {
                    appendScalar(unit, &out)
                }
            default: out.append(e)  // \" \\ \/ and, tolerantly, anything else
            }
        }
    }

    private func hex4(_ at: Int, _ stop: Int) -> UInt32? {
        guard at + 4 <= stop else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = base[at + k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}

@inline(__always)
func appendScalar(_ v: UInt32, _ out: inout [UInt8]) {
    switch v {
    case 0..<0x80: out.append(UInt8(v))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | (v >> 6)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | (v >> 12)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    default:
        out.append(UInt8(0xF0 | (v >> 18)))
        out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (v & 0x3F)))
    }
}

/// Whether every byte is ASCII (8 bytes at a time).
@inline(__always)
func isASCII(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
        if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
        i += 8
    }
    while i < n {
        if p[i] >= 0x80 { return false }
        i += 1
    }
    return true
}

/// Whether the bytes are valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
func isValidUTF8(_ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    var i = 0
    while i < n {
        let c = p[i]
        if c < 0x80 {
            i += 1
            continue
        }
        var need = 0
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0:
            need = 2
            lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: need = 2
        case 0xED:
            need = 2
            hi = 0x9F
        case 0xF0:
            need = 3
            lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4:
            need = 3
            hi = 0x8F
        default: return false
        }
        guard i + need < n else { return false }
        let b1 = p[i + 1]
        guard b1 >= lo && b1 <= hi else { return false }
        var k = 2
        while k <= need {
            guard p[i + k] & 0xC0 == 0x80 else { return false }
            k += 1
        }
        i += need + 1
    }
    return true
}

/// Appends `bytes` to a protobuf string payload, as valid UTF-8: invalid sequences become U+FFFD.
@inline(__always)
func withValidUTF8<R>(_ p: UnsafePointer<UInt8>, _ n: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if isASCII(p, n) || isValidUTF8(p, n) {
        return body(UnsafeRawBufferPointer(start: p, count: n))
    }
    var repaired = String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    return repaired.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}
