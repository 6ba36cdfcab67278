/// A problem with one scalar value; the loader adds file, line and column.
struct ValueError: Error, Sendable, Equatable {
    var message: String
    var code: ConfigError.Code = .invalidValue
    init(_ message: String, code: ConfigError.Code = .invalidValue) {
        self.message = message
        self.code = code
    }
}

/// How to read one kind of scalar: what it should look like (for "expected …" messages) and the parser.
struct ValueKind<T> {
    var expected: String
    var parse: (String) throws(ValueError) -> T
}

/// `'fast'`, or `an empty value`: how a bad scalar is quoted back in messages.
func quoted(_ text: String) -> String { text.isEmpty ? "an empty value" : "'\(text)'" }

// MARK: - environment expansion

/// Expands `${env:NAME}` and `${env:NAME:-default}` anywhere in a scalar; `$$` is a literal `$`, and a
/// `$` followed by anything else is kept as is (`^gotk_.*$` needs no escaping).
/// `:-` takes the default when the variable is unset or empty, like the shell.
func expandEnvironment(_ text: String, environment: [String: String]) throws(ValueError) -> String {
    guard text.utf8.contains(UInt8(ascii: "$")) else { return text }
    var result = ""
    var rest = Substring(text)
    while let dollar = rest.firstIndex(of: "$") {
        result += rest[..<dollar]
        let afterDollar = rest.index(after: dollar)
        if afterDollar < rest.endIndex, rest[afterDollar] == "$" {
            result += "$"
            rest = rest[rest.index(after: afterDollar)...]
            continue
        }
        guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
            result += "$"
            rest = rest[afterDollar...]
            continue
        }
        let bodyStart = rest.index(after: afterDollar)
        guard let close = rest[bodyStart...].firstIndex(of: "}") else {
            throw ValueError(
                "unterminated '${' in \(quoted(text)); write ${env:NAME} or ${env:NAME:-default}, or $$ for a literal $",
                code: .environment)
        }
        let body = rest[bodyStart..<close]
        guard body.hasPrefix("env:") else {
            throw ValueError(
                "unsupported expansion '${\(body)}'; write ${env:NAME} or ${env:NAME:-default}, or $$ for a literal $",
                code: .environment)
        }
        let reference = body.dropFirst(4)
        let name: Substring
        let fallback: Substring?
        if let separator = reference.firstRange(of: ":-") {
            name = reference[..<separator.lowerBound]
            fallback = reference[separator.upperBound...]
        } else {
            name = reference
            fallback = nil
        }
        guard isEnvironmentName(name) else {
            throw ValueError(
                "invalid environment variable name '\(name)' in '${\(body)}' (letters, digits and _, not starting with a digit)",
                code: .environment)
        }
        let value = environment[String(name)]
        if let fallback {
            result += (value?.isEmpty ?? true) ? String(fallback) : value!
        } else if let value {
            result += value
        } else {
            throw ValueError(
                "environment variable \(name) is not set and has no default (write ${env:\(name):-value})",
                code: .environment)
        }
        rest = rest[rest.index(after: close)...]
    }
    result += rest
    return result
}

private func isEnvironmentName(_ name: Substring) -> Bool {
    guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
    return name.utf8.allSatisfy { byte in
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }
}

// MARK: - numbers with units

/// A run of digits with an optional fraction, then a unit; `1m30s` is several such runs.
private func numberAndUnit(
    _ text: Substring
) -> (
    whole: Int64, fraction: Int64, fractionDigits: Int, unit: Substring, rest: Substring
)? {
    var index = text.startIndex
    var whole: Int64 = 0
    var digits = 0
    while index < text.endIndex, let digit = text[index].wholeNumberValue, text[index].isASCII {
        let (times, overflow1) = whole.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times.addingReportingOverflow(Int64(digit))
        guard !overflow1, !overflow2 else { return nil }
        whole = sum
        digits += 1
        index = text.index(after: index)
    }
    var fraction: Int64 = 0
    var fractionDigits = 0
    if index < text.endIndex, text[index] == "." {
        index = text.index(after: index)
        while index < text.endIndex, let digit = text[index].wholeNumberValue, text[index].isASCII {
            if fractionDigits < 9 {
                fraction = fraction * 10 + Int64(digit)
                fractionDigits += 1
            }
            index = text.index(after: index)
        }
        guard fractionDigits > 0 else { return nil }
    }
    guard digits > 0 || fractionDigits > 0 else { return nil }
    var unitEnd = index
    while unitEnd < text.endIndex, text[unitEnd].isLetter || text[unitEnd] == "µ" {
        unitEnd = text.index(after: unitEnd)
    }
    return (whole, fraction, fractionDigits, text[index..<unitEnd], text[unitEnd...])
}

/// `value * unit + fraction * unit / 10^digits`, nil on overflow.
private func scaled(_ whole: Int64, _ fraction: Int64, _ fractionDigits: Int, by unit: Int64) -> Int64? {
    let (wholePart, overflow1) = whole.multipliedReportingOverflow(by: unit)
    guard !overflow1 else { return nil }
    var divisor: Int64 = 1
    for _ in 0..<fractionDigits { divisor *= 10 }
    // fraction < 10^9 and unit ≤ 3.6e12 could overflow; divide first when needed.
    let (fractionPart, overflow2) = fraction.multipliedReportingOverflow(by: unit)
    let part = overflow2 ? (unit / divisor) * fraction : fractionPart / divisor
    let (total, overflow3) = wholePart.addingReportingOverflow(part)
    return overflow3 ? nil : total
}

private let durationUnits: [Substring: Int64] = [
    "ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
    "m": 60_000_000_000, "h": 3_600_000_000_000,
]

/// Go-style durations: `250ms`, `30s`, `5m`, `1h`, `1m30s`, `1.5s`, `100us`, `10ns`; `0` alone is zero.
func parseDuration(_ text: String) -> Duration? {
    let trimmed = text.trimmingSpaces
    if trimmed == "0" { return .zero }
    var rest = Substring(trimmed)
    guard !rest.isEmpty else { return nil }
    var total: Int64 = 0
    while !rest.isEmpty {
        guard let part = numberAndUnit(rest), let unit = durationUnits[part.unit],
            let nanoseconds = scaled(part.whole, part.fraction, part.fractionDigits, by: unit)
        else { return nil }
        let (sum, overflow) = total.addingReportingOverflow(nanoseconds)
        guard !overflow else { return nil }
        total = sum
        rest = part.rest
    }
    return .nanoseconds(total)
}

private let sizeUnits: [String: Int64] = [
    "": 1, "b": 1,
    "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
    "k": 1_000, "m": 1_000_000, "g": 1_000_000_000, "t": 1_000_000_000_000,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40,
]

/// Byte sizes: `512KiB`, `16MiB`, `1GiB` (binary), `500KB`, `10MB`, `1GB` (decimal), `1048576` (bytes).
/// Units are case-insensitive; a space between number and unit is allowed; fractions round down.
func parseSize(_ text: String) -> Int? {
    let compact = text.filter { $0 != " " && $0 != "\t" }
    guard let part = numberAndUnit(Substring(compact)), part.rest.isEmpty,
        let unit = sizeUnits[String(part.unit).lowercased()],
        let bytes = scaled(part.whole, part.fraction, part.fractionDigits, by: unit)
    else { return nil }
    return Int(exactly: bytes)
}

/// `30s`, `1m30s`, `250ms`: the shortest exact rendering, for messages.
func formatDuration(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    if nanoseconds == 0 { return "0s" }
    for (unit, size) in [
        ("h", Int64(3_600_000_000_000)), ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000),
    ]
    where nanoseconds % size == 0 {
        return "\(nanoseconds / size)\(unit)"
    }
    return "\(nanoseconds)ns"
}

/// `4MiB`, `512KiB`, `1000`: the shortest exact binary rendering, for messages.
func formatSize(_ bytes: Int) -> String {
    for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes != 0 && bytes % size == 0 {
        return "\(bytes / size)\(unit)"
    }
    return "\(bytes)"
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}

// MARK: - kinds of values

extension ValueKind where T == String {
    static var string: Self { Self(expected: "a string") { text throws(ValueError) in text } }

    /// A string that must not be empty.
    static func nonEmptyString(_ what: String) -> Self {
        Self(expected: what) { text throws(ValueError) in
            guard !text.isEmpty else { throw ValueError("expected \(what), got an empty value") }
            return text
        }
    }

    /// `http://host[:port][/path]` or `https://…`; the empty string when `allowEmpty`.
    static func url(allowEmpty: Bool) -> Self {
        checked("an http or https URL", allowEmpty: allowEmpty, validateURL)
    }

    /// An OTLP/HTTP base URL (`exporters.otlp_http.endpoint`): a URL the exporter appends `/v1/traces`,
    /// `/v1/logs` and `/v1/metrics` to, so one that already ends in such a path is refused (every batch
    /// would go to `…/v1/traces/v1/traces` and get a 404).
    static func otlpBaseURL(allowEmpty: Bool) -> Self {
        checked("an http or https URL", allowEmpty: allowEmpty) { text throws(ValueError) in
            try validateURL(text)
            var path = text.prefix { $0 != "?" && $0 != "#" }
            while path.hasSuffix("/") { path = path.dropLast() }
            for signal in ["traces", "logs", "metrics"] where path.hasSuffix("/v1/" + signal) {
                throw ValueError(
                    "endpoint '\(text)' already ends in /v1/\(signal); the exporter appends /v1/traces, /v1/logs and "
                        + "/v1/metrics to it: drop the suffix, or set \(signal)_endpoint to send only \(signal) to this URL"
                )
            }
        }
    }

    /// `host:port` to listen on (`0.0.0.0:4318`, `[::]:4318`, `localhost:0`); empty when `allowEmpty`.
    static func listenAddress(allowEmpty: Bool) -> Self {
        checked("a listen address host:port", allowEmpty: allowEmpty, validateListenAddress)
    }

    /// The text as it is once `validate` accepts it; the empty string is accepted as it is when `allowEmpty`.
    private static func checked(
        _ expected: String, allowEmpty: Bool, _ validate: @escaping (String) throws(ValueError) -> Void
    ) -> Self {
        Self(expected: expected) { text throws(ValueError) in
            if text.isEmpty, allowEmpty { return text }
            try validate(text)
            return text
        }
    }

    /// One of a fixed set of words (`log_level`).
    static func oneOf(_ allowed: [String]) -> Self {
        Self(expected: "one of \(allowed.joined(separator: ", "))") { text throws(ValueError) in
            guard allowed.contains(text) else {
                throw ValueError("expected one of \(allowed.joined(separator: ", ")), got \(quoted(text))")
            }
            return text
        }
    }
}

extension ValueKind where T: RawRepresentable<String>, T: CaseIterable {
    /// An enum by its raw value, with every allowed value in the message.
    static var word: Self {
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        return Self(expected: "one of \(allowed)") { text throws(ValueError) in
            guard let value = T(rawValue: text) else {
                throw ValueError("expected one of \(allowed), got \(quoted(text))")
            }
            return value
        }
    }
}

extension ValueKind where T == Duration {
    static let example = "a duration like 250ms, 30s, 5m"

    /// A duration, at least `minimum` (positive by default).
    static func duration(minimum: Duration = .nanoseconds(1)) -> Self {
        Self(expected: example) { text throws(ValueError) in
            guard let duration = parseDuration(text) else {
                throw ValueError("expected \(example), got \(quoted(text))")
            }
            guard duration >= minimum else {
                let bound =
                    minimum == .nanoseconds(1)
                    ? "a positive duration" : "a duration of at least \(formatDuration(minimum))"
                throw ValueError("expected \(bound), got \(quoted(text))")
            }
            return duration
        }
    }
}

extension ValueKind where T == Int {
    /// A byte size within `range`.
    static func size(_ range: ClosedRange<Int> = 1...Int.max) -> Self {
        let example = "a size like 512KiB, 16MiB, 1GiB or a number of bytes"
        return Self(expected: example) { text throws(ValueError) in
            guard let bytes = parseSize(text) else { throw ValueError("expected \(example), got \(quoted(text))") }
            guard range.contains(bytes) else {
                throw ValueError("expected a size \(describe(range, formatSize)), got \(quoted(text))")
            }
            return bytes
        }
    }

    /// A decimal integer within `range`.
    static func integer(_ range: ClosedRange<Int>) -> Self {
        Self(expected: "an integer") { text throws(ValueError) in
            guard let value = Int(text.trimmingSpaces) else {
                throw ValueError("expected an integer \(describe(range, { "\($0)" })), got \(quoted(text))")
            }
            guard range.contains(value) else {
                throw ValueError("expected an integer \(describe(range, { "\($0)" })), got \(quoted(text))")
            }
            return value
        }
    }
}

private func describe(_ range: ClosedRange<Int>, _ format: (Int) -> String) -> String {
    range.upperBound == Int.max
        ? "of at least \(format(range.lowerBound))" : "from \(format(range.lowerBound)) to \(format(range.upperBound))"
}

extension ValueKind where T == Double {
    static func number(atLeast minimum: Double) -> Self {
        Self(expected: "a number") { text throws(ValueError) in
            guard let value = Double(text.trimmingSpaces), value.isFinite, value >= minimum else {
                throw ValueError("expected a number of at least \(minimum), got \(quoted(text))")
            }
            return value
        }
    }
}

extension ValueKind where T == Bool {
    static var bool: Self {
        Self(expected: "true or false") { text throws(ValueError) in
            switch text.trimmingSpaces {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: throw ValueError("expected true or false, got \(quoted(text))")
            }
        }
    }
}

// MARK: - URLs and addresses

private func validateURL(_ url: String) throws(ValueError) {
    func invalid(_ why: String) -> ValueError { ValueError("invalid URL '\(url)': \(why)") }
    guard !url.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else {
        throw invalid("contains whitespace")
    }
    guard let separator = url.firstRange(of: "://") else {
        throw invalid("expected http://host[:port][/path] or https://host[:port][/path]")
    }
    let scheme = url[..<separator.lowerBound].lowercased()
    guard scheme == "http" || scheme == "https" else { throw invalid("scheme must be http or https") }
    let afterScheme = url[separator.upperBound...]
    var authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
    let (host, port) = try splitHostPort(authority, requirePort: false, invalid: invalid)
    guard !host.isEmpty else { throw invalid("missing host") }
    if let port, !(1...65535).contains(port) { throw invalid("port must be from 1 to 65535") }
}

private func validateListenAddress(_ address: String) throws(ValueError) {
    func invalid(_ why: String) -> ValueError {
        ValueError("invalid listen address '\(address)': \(why)")
    }
    let (host, port) = try splitHostPort(Substring(address), requirePort: true, invalid: invalid)
    guard !host.isEmpty else { throw invalid("missing host; expected host:port like 0.0.0.0:4318") }
    guard let port, (0...65535).contains(port) else { throw invalid("port must be from 0 to 65535") }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`. The port is nil when absent; a non-numeric port is an error.
private func splitHostPort(
    _ authority: Substring, requirePort: Bool, invalid: (String) -> ValueError
) throws(ValueError) -> (host: Substring, port: Int?) {
    let expected = "expected host:port like 0.0.0.0:4318"
    var host: Substring
    var portText: Substring?
    if authority.hasPrefix("[") {
        guard let close = authority.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
        host = authority[authority.index(after: authority.startIndex)..<close]
        let after = authority[authority.index(after: close)...]
        if after.hasPrefix(":") {
            portText = after.dropFirst()
        } else if !after.isEmpty {
            throw invalid(expected)
        }
    } else if let colon = authority.lastIndex(of: ":") {
        host = authority[..<colon]
        portText = authority[authority.index(after: colon)...]
        guard !host.contains(":") else { throw invalid("IPv6 addresses must be in brackets, like [::1]:4318") }
    } else {
        host = authority
    }
    if host.contains(where: {
        !($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" || $0 == ":" || $0 == "%")
    }) {
        throw invalid("invalid host '\(host)'")
    }
    guard let portText else {
        if requirePort { throw invalid("missing port; \(expected)") }
        return (host, nil)
    }
    guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText) else {
        throw invalid("invalid port '\(portText)'")
    }
    return (host, port)
}
