// Typed values as the protobuf JSON mapping writes them (https://protobuf.dev/programming-guides/json/),
// with OTLP's exceptions (hex trace and span ids). `null` is the field's default everywhere.

extension JSONReader {
    // MARK: strings, bools

    mutating func string() throws(OTLPJSONError) -> String {
        if try consumeNull() { return "" }
        let s = try withString("a string") { (p) throws(OTLPJSONError) -> String in String(decoding: p, as: UTF8.self) }
        try charge(s.utf8.count)
        return s
    }

    mutating func bool() throws(OTLPJSONError) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        case UInt8(ascii: "n"):
            try literal("null")
            return false
        default: throw unexpected("true or false")
        }
    }

    // MARK: integers (a number, or a string holding one; exponents allowed if the value is integral)

    /// The exact integer a number or numeric string stands for, as sign and magnitude.
    private mutating func integer() throws(OTLPJSONError) -> (negative: Bool, magnitude: UInt64, at: Int)? {
        guard let c = peek() else { throw unexpected("a string or number") }
        let at = pos
        let parsed: IntegerText
        if c == UInt8(ascii: "\"") {
            parsed = try withString("a string or number") { (p) throws(OTLPJSONError) -> IntegerText in parseInteger(p)
            }
        } else if c == UInt8(ascii: "-") || isDigit(c) {
            let r = try numberToken()
            parsed = parseInteger(UnsafeBufferPointer(start: base + r.lowerBound, count: r.count))
        } else if c == UInt8(ascii: "n") {
            try literal("null")
            return nil
        } else {
            throw unexpected("a string or number")
        }
        switch parsed {
        case .value(let negative, let magnitude): return (negative, magnitude, at)
        case .notInteger: throw error("not an integer", at: at)
        case .outOfRange: throw error("integer out of range", at: at)
        case .invalid: throw error("not a number", at: at)
        }
    }

    mutating func uint64() throws(OTLPJSONError) -> UInt64 {
        guard let v = try integer() else { return 0 }
        if v.negative && v.magnitude != 0 { throw error("negative value for an unsigned field", at: v.at) }
        return v.magnitude
    }

    mutating func int64() throws(OTLPJSONError) -> Int64 {
        guard let v = try integer() else { return 0 }
        if v.negative {
            guard v.magnitude <= UInt64(Int64.max) + 1 else { throw error("integer out of range for int64", at: v.at) }
            return Int64(truncatingIfNeeded: 0 &- v.magnitude)
        }
        guard v.magnitude <= UInt64(Int64.max) else { throw error("integer out of range for int64", at: v.at) }
        return Int64(v.magnitude)
    }

    mutating func uint32() throws(OTLPJSONError) -> UInt32 {
        guard let v = try integer() else { return 0 }
        if v.negative && v.magnitude != 0 { throw error("negative value for an unsigned field", at: v.at) }
        guard v.magnitude <= UInt64(UInt32.max) else { throw error("integer out of range for uint32", at: v.at) }
        return UInt32(v.magnitude)
    }

    mutating func int32() throws(OTLPJSONError) -> Int32 {
        guard let v = try integer() else { return 0 }
        if v.negative {
            guard v.magnitude <= 1 << 31 else { throw error("integer out of range for int32", at: v.at) }
            return Int32(truncatingIfNeeded: 0 &- Int64(v.magnitude))
        }
        guard v.magnitude <= UInt64(Int32.max) else { throw error("integer out of range for int32", at: v.at) }
        return Int32(v.magnitude)
    }

    /// An enum: its number, or the name of one of its values (`names[i]` is the name of value `i`).
    mutating func enumValue(_ names: [StaticString], _ type: StaticString) throws(OTLPJSONError) -> Int32 {
        guard peek() == UInt8(ascii: "\"") else { return try int32() }
        let at = pos
        let fallback = base
        let found = try withString("an enum name or number") { (p) throws(OTLPJSONError) -> Int? in
            let key = JSONKey(start: p.baseAddress ?? fallback, count: p.count)
            if let i = names.firstIndex(where: { key.matches($0) }) { return i }
            // Protobuf's JSON parsers also take the number as a string.
            if case .value = parseInteger(p) { return -1 }
            return nil
        }
        if let found {
            if found >= 0 { return Int32(found) }
            pos = at
            return try int32()
        }
        throw error("unknown \(type) value", at: at)
    }

    // MARK: doubles

    /// A double: a number, `"NaN"`, `"Infinity"`, `"-Infinity"`, or a numeric string.
    mutating func double() throws(OTLPJSONError) -> Double {
        try optionalDouble() ?? 0
    }

    mutating func optionalDouble() throws(OTLPJSONError) -> Double? {
        guard let c = peek() else { throw unexpected("a number") }
        let at = pos
        let value: Double?
        if c == UInt8(ascii: "-") || isDigit(c) {
            let r = try numberToken()
            value = parseDouble(UnsafeBufferPointer(start: base + r.lowerBound, count: r.count))
        } else if c == UInt8(ascii: "\"") {
            let fallback = base
            value = try withString("a number") { (p) throws(OTLPJSONError) -> Double? in
                let key = JSONKey(start: p.baseAddress ?? fallback, count: p.count)
                if key.matches("NaN") { return .nan }
                if key.matches("Infinity") { return .infinity }
                if key.matches("-Infinity") { return -.infinity }
                guard let d = parseDouble(p), d.isFinite else {
                    throw jsonError("not a number (nor \"NaN\", \"Infinity\", \"-Infinity\")", at: at)
                }
                return d
            }
        } else if c == UInt8(ascii: "n") {
            try literal("null")
            return nil
        } else {
            throw unexpected("a number")
        }
        guard let value else { throw error("invalid number", at: at) }
        if value.isInfinite && c != UInt8(ascii: "\"") { throw error("number out of range for a double", at: at) }
        return value
    }

    // MARK: bytes

    /// Trace and span ids: hex (either case), `byteCount` bytes, or empty.
    mutating func hexID(byteCount: Int) throws(OTLPJSONError) -> [UInt8] {
        if try consumeNull() { return [] }
        try charge(byteCount)
        let at = pos
        return try withString("a hex string") { (p) throws(OTLPJSONError) -> [UInt8] in
            if p.isEmpty { return [] }
            guard p.count == byteCount * 2 else {
                throw jsonError(
                    "expected \(byteCount * 2) hex digits (\(byteCount) bytes), found \(p.count) characters", at: at)
            }
            var out = [UInt8](repeating: 0, count: byteCount)
            for i in 0..<byteCount {
                guard let hi = hexDigit(p[2 * i]), let lo = hexDigit(p[2 * i + 1]) else {
                    throw jsonError("invalid hex digit in an id", at: at + 1 + 2 * i)
                }
                out[i] = hi << 4 | lo
            }
            return out
        }
    }

    /// `bytes` fields other than ids: base64, standard or URL-safe alphabet, padding optional.
    mutating func base64() throws(OTLPJSONError) -> [UInt8] {
        if try consumeNull() { return [] }
        let at = pos
        let out = try withString("a base64 string") { (p) throws(OTLPJSONError) -> [UInt8] in
            var n = p.count
            while n > 0 && p[n - 1] == UInt8(ascii: "=") { n -= 1 }
            if p.count - n > 2 || (p.count != n && p.count % 4 != 0) || n % 4 == 1 {
                throw jsonError("invalid base64 length or padding", at: at)
            }
            var out: [UInt8] = []
            out.reserveCapacity(n * 3 / 4)
            var acc: UInt32 = 0
            var bits = 0
            for i in 0..<n {
                let v: UInt32
                switch p[i] {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(p[i] - UInt8(ascii: "A"))
                case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(p[i] - UInt8(ascii: "a")) + 26
                case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(p[i] - UInt8(ascii: "0")) + 52
                case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
                case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
                default: throw jsonError("invalid base64 character", at: at + 1 + i)
                }
                acc = acc << 6 | v
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                }
            }
            return out
        }
        try charge(out.count)
        return out
    }

    // MARK: repeated scalars

    mutating func strings() throws(OTLPJSONError) -> [String] {
        try repeated { (r) throws(OTLPJSONError) in try r.string() }
    }

    mutating func uint64s() throws(OTLPJSONError) -> [UInt64] {
        try repeated { (r) throws(OTLPJSONError) in try r.uint64() }
    }

    mutating func doubles() throws(OTLPJSONError) -> [Double] {
        try repeated { (r) throws(OTLPJSONError) in try r.double() }
    }

    /// A repeated scalar field: null (empty) or an array without nulls, each element read by `element`
    /// and charged its size against the memory budget.
    @inline(__always)
    private mutating func repeated<Element>(
        _ element: (inout JSONReader) throws(OTLPJSONError) -> Element
    ) throws(OTLPJSONError) -> [Element] {
        if try consumeNull() { return [] }
        var out: [Element] = []
        try array { (r, _) throws(OTLPJSONError) in
            guard !(try r.consumeNull()) else { throw r.error("null is not allowed in a repeated field") }
            try r.charge(MemoryLayout<Element>.stride)
            out.append(try element(&r))
        }
        return out
    }
}

func jsonError(_ reason: String, at offset: Int) -> OTLPJSONError {
    OTLPJSONError(offset: offset, reason: reason)
}

// MARK: number text

enum IntegerText {
    case value(negative: Bool, magnitude: UInt64)
    case notInteger
    case outOfRange
    case invalid
}

/// The parts of a number in RFC 8259 syntax; nil if `p` is not one.
private func scanNumber(
    _ p: UnsafeBufferPointer<UInt8>
) -> (
    negative: Bool, int: Range<Int>, frac: Range<Int>, exponent: Int
)? {
    var i = 0
    let n = p.count
    let negative = i < n && p[i] == UInt8(ascii: "-")
    if negative { i += 1 }
    let intStart = i
    guard i < n, isDigit(p[i]) else { return nil }
    if p[i] == UInt8(ascii: "0") {
        i += 1
    } else {
        while i < n && isDigit(p[i]) { i += 1 }
    }
    let int = intStart..<i
    var frac = i..<i
    if i < n && p[i] == UInt8(ascii: ".") {
        i += 1
        let s = i
        while i < n && isDigit(p[i]) { i += 1 }
        guard i > s else { return nil }
        frac = s..<i
    }
    var exponent = 0
    if i < n && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
        i += 1
        var expNegative = false
        if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) {
            expNegative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        let s = i
        while i < n && isDigit(p[i]) {
            // Saturate: far beyond any digit count a bounded input can have.
            if exponent < 1_000_000_000 { exponent = exponent * 10 + Int(p[i] - UInt8(ascii: "0")) }
            i += 1
        }
        guard i > s else { return nil }
        if expNegative { exponent = -exponent }
    }
    guard i == n else { return nil }
    return (negative, int, frac, exponent)
}

/// The exact integer value of a number text, which may have a fraction or exponent if the value is integral
/// (`1e3`, `5.0`), as protobuf's JSON parsers accept.
func parseInteger(_ p: UnsafeBufferPointer<UInt8>) -> IntegerText {
    guard let (negative, int, frac, exponent) = scanNumber(p) else { return .invalid }
    // The digits of int and frac as one sequence d[0..<total], value = d * 10^(exponent - frac.count).
    let total = int.count + frac.count
    func digit(_ k: Int) -> UInt8 {
        p[k < int.count ? int.lowerBound + k : frac.lowerBound + k - int.count] - UInt8(ascii: "0")
    }
    var first = 0
    while first < total && digit(first) == 0 { first += 1 }
    if first == total { return .value(negative: negative, magnitude: 0) }
    var last = total - 1
    while digit(last) == 0 { last -= 1 }
    let scale = exponent - frac.count + (total - 1 - last)
    if scale < 0 { return .notInteger }
    if last - first + 1 + scale > 20 { return .outOfRange }
    var v: UInt64 = 0
    for k in first...last {
        let (m, o1) = v.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(UInt64(digit(k)))
        if o1 || o2 { return .outOfRange }
        v = a
    }
    for _ in 0..<scale {
        let (m, o) = v.multipliedReportingOverflow(by: 10)
        if o { return .outOfRange }
        v = m
    }
    return .value(negative: negative, magnitude: v)
}

private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22,
]

/// A number text as a double, correctly rounded; nil if not RFC 8259 number syntax.
func parseDouble(_ p: UnsafeBufferPointer<UInt8>) -> Double? {
    guard let (negative, int, frac, exponent) = scanNumber(p) else { return nil }
    // Fast path (Clinger): at most 15 significant digits and a power of ten that is exact.
    if int.count + frac.count <= 15 {
        var m: UInt64 = 0
        for k in int { m = m * 10 + UInt64(p[k] - UInt8(ascii: "0")) }
        for k in frac { m = m * 10 + UInt64(p[k] - UInt8(ascii: "0")) }
        let e = exponent - frac.count
        if m == 0 { return negative ? -0.0 : 0.0 }
        if e >= -22 && e <= 22 {
            var d = Double(m)
            d = e >= 0 ? d * exactPowersOfTen[e] : d / exactPowersOfTen[-e]
            return negative ? -d : d
        }
    }
    // The standard library's conversion (strtod underneath) rounds correctly.
    return Double(String(decoding: p, as: UTF8.self))
}
