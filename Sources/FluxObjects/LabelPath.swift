public import OTLPJSON

/// A kube-state-metrics `labelsFromPath` path, compiled: each step is a map key, a list index (`"0"`;
/// negative counts from the end) or a selector `"[type=Ready]"` (the first list element whose field
/// `type` is the string `Ready`), as kube-state-metrics v2.20 `compilePath` reads them.
public struct LabelPath: Sendable, Hashable {
    enum Step: Sendable, Hashable {
        case key(String)
        case select(field: String, value: String)
    }

    let steps: [Step]

    public init(_ segments: [String]) {
        steps = segments.map { segment in
            if segment.hasPrefix("["), segment.hasSuffix("]"), let equals = segment.firstIndex(of: "=") {
                let field = segment[segment.index(after: segment.startIndex)..<equals]
                let value = segment[segment.index(after: equals)..<segment.index(before: segment.endIndex)]
                return .select(field: String(field), value: String(value))
            }
            return .key(segment)
        }
    }

    /// The value at the path; nil when any step finds nothing.
    public func value(in root: JSONValue) -> JSONValue? {
        var current = root
        for step in steps {
            switch (step, current) {
            case (.key(let key), .object(let members)):
                guard let next = members[key] else { return nil }
                current = next
            case (.key(let key), .array(let items)):
                guard var index = Int(key) else { return nil }
                if index < 0 { index += items.count }
                guard items.indices.contains(index) else { return nil }
                current = items[index]
            case (.select(let field, let value), .array(let items)):
                guard let match = items.first(where: { $0[field]?.string == value }) else { return nil }
                current = match
            default:
                return nil
            }
        }
        return current
    }

    /// The label value at the path as kube-state-metrics writes it (Go's `%v`); nil (no label) when the
    /// path finds nothing or null.
    public func label(in root: JSONValue) -> String? {
        guard let value = value(in: root) else { return nil }
        return Self.format(value)
    }

    /// Go's `fmt.Sprintf("%v", v)` for the scalars of decoded JSON: strings as they are, `true`/`false`,
    /// numbers as float64 `%v` (`%g` with the shortest digits: `30`, `1.5`, `1e+06`). Lists and maps get no label.
    static func format(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return formatNumber(n)
        case .null, .array, .object: return nil
        }
    }

    static func formatNumber(_ n: Double) -> String {
        guard n.isFinite else { return n.isNaN ? "NaN" : (n < 0 ? "-Inf" : "+Inf") }
        // Integral and within Int64 (a fuzzer found 1e20 trapping the conversion). Larger integral values
        // take Go's exponent form, which Swift's shortest description writes the same way (`1e+20`).
        if n == n.rounded(), abs(n) < 9.2e18 {
            // Integral. Go's shortest `%g` uses an exponent from 1e+06 on (strconv: "if precision was the
            // shortest possible, use precision 6 for this decision").
            let digits = String(Int64(abs(n)))
            let significant = digits.reversed().drop(while: { $0 == "0" }).count
            let exponent = digits.count - 1
            if exponent < 6 { return n < 0 ? "-" + digits : digits }
            var mantissa = String(digits.prefix(significant))
            if mantissa.count > 1 { mantissa.insert(".", at: mantissa.index(after: mantissa.startIndex)) }
            let exp = exponent < 10 ? "0\(exponent)" : "\(exponent)"
            return (n < 0 ? "-" : "") + mantissa + "e+" + exp
        }
        return "\(n)"
    }
}
