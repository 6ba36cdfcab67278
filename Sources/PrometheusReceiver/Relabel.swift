public import FluxtelConfig

/// One `metric_relabel_configs` entry, with Prometheus semantics for the actions fluxtel supports:
/// `replace`, `keep`, `drop`, `labeldrop`, `labelkeep`. Regexes are fully anchored (RE2 style
/// `^(?:regex)$`). Relabeling is off the fast path: only configured rules make the converter
/// materialise a sample's labels as strings.
public struct RelabelRule: Sendable {
    public enum Action: String, Sendable, CaseIterable { case replace, keep, drop, labeldrop, labelkeep }

    public var action: Action
    public var sourceLabels: [String]
    public var separator: String
    public var targetLabel: String
    public var replacement: String
    public let pattern: String
    let regex: AnchoredRegex

    /// Throws when `regex` does not compile (the config loader reports it with line and column).
    public init(
        action: Action = .replace, sourceLabels: [String] = [], separator: String = ";", regex: String = "(.*)",
        targetLabel: String = "", replacement: String = "$1"
    ) throws {
        self.action = action
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.targetLabel = targetLabel
        self.replacement = replacement
        self.pattern = regex
        self.regex = try AnchoredRegex(regex)
    }

    /// Applies the rule; nil means the series is dropped.
    public func apply(_ labels: [KeyValuePair]) -> [KeyValuePair]? {
        switch action {
        case .keep, .drop:
            let matched = regex.matches(joined(labels)) != nil
            return (matched == (action == .keep)) ? labels : nil
        case .labeldrop:
            return labels.filter { regex.matches($0.key) == nil }
        case .labelkeep:
            return labels.filter { regex.matches($0.key) != nil }
        case .replace:
            guard let groups = regex.matches(joined(labels)) else { return labels }
            let target = expand(targetLabel, groups)
            let value = expand(replacement, groups)
            guard isValidLabelName(target) else { return labels }
            var result = labels.filter { $0.key != target }
            if !value.isEmpty { result.append(KeyValuePair(target, value)) }
            return result
        }
    }

    func joined(_ labels: [KeyValuePair]) -> String {
        sourceLabels.map { name in labels.first { $0.key == name }?.value ?? "" }.joined(separator: separator)
    }

    /// `$1`, `${1}`, `$name`-style references (numbers only) to capture groups.
    func expand(_ template: String, _ groups: [String]) -> String {
        var out = ""
        var chars = Array(template.unicodeScalars)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            guard c == "$" else {
                out.unicodeScalars.append(c)
                continue
            }
            var digits = ""
            if chars.first == "{" {
                let body = chars.dropFirst().prefix { $0 != "}" }
                guard chars.dropFirst(body.count + 1).first == "}" else {
                    out.unicodeScalars.append(c)
                    continue
                }
                digits = String(String.UnicodeScalarView(body))
                chars = chars.dropFirst(body.count + 2)
            } else if chars.first == "$" {
                out.append("$")
                chars = chars.dropFirst()
                continue
            } else {
                let body = chars.prefix { ("0"..."9").contains($0) }
                digits = String(String.UnicodeScalarView(body))
                chars = chars.dropFirst(body.count)
                if digits.isEmpty {
                    out.unicodeScalars.append(c)
                    continue
                }
            }
            if let index = Int(digits), index < groups.count { out += groups[index] }
        }
        return out
    }
}

func isValidLabelName(_ name: String) -> Bool {
    guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) &- 0x61 < 26 else { return false }
    return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 | 0x20) &- 0x61 < 26 || $0 &- 0x30 < 10 }
}

/// A fully anchored regular expression (Swift `Regex`, no Foundation), used only for relabeling.
struct AnchoredRegex: @unchecked Sendable {
    // Regex values are immutable once built; matching does not mutate them.
    let regex: Regex<AnyRegexOutput>

    init(_ pattern: String) throws {
        regex = try Regex("^(?:" + pattern + ")$")
    }

    /// The capture groups (0 = whole match) when the whole string matches.
    func matches(_ text: String) -> [String]? {
        guard let match = try? regex.wholeMatch(in: text) else { return nil }
        return match.output.map { $0.substring.map(String.init) ?? "" }
    }
}

extension Encoder {
    /// The labels of a series after `metric_relabel_configs` (with `__name__`), or nil when dropped.
    func relabel(_ sample: Sample, family: Family, skip: [UInt8]?) -> [KeyValuePair]? {
        var labels = [KeyValuePair("__name__", exposition.sampleName(sample))]
        let first = Int(sample.labelStart)
        for k in first..<first + Int(sample.labelCount) {
            let label = exposition.labels[k]
            let name = bytes(label.name)
            if let skip, equal(name, skip) { continue }
            labels.append(
                KeyValuePair(String(decoding: name, as: UTF8.self), String(decoding: bytes(label.value), as: UTF8.self))
            )
        }
        for label in context.targetLabels {
            let name = String(decoding: label.name, as: UTF8.self)
            if let index = labels.firstIndex(where: { $0.key == name }) {
                if context.honorLabels { continue }
                labels[index].key = "exported_" + name
            }
            labels.append(KeyValuePair(name, String(decoding: label.value, as: UTF8.self)))
        }
        for rule in context.relabel {
            guard let next = rule.apply(labels) else { return nil }
            labels = next
        }
        return labels
    }
}
