/// `include_metrics` / `exclude_metrics`: globs (`*`, `?`) over metric family names. A family is kept
/// when it matches an include glob (or there are none) and no exclude glob. Decided once per family
/// name and cached by the scrape loop, never per sample.
public struct MetricFilter: Sendable {
    let include: [[UInt8]]
    let exclude: [[UInt8]]

    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include.map { Array($0.utf8) }
        self.exclude = exclude.map { Array($0.utf8) }
    }

    public func includes(_ name: String) -> Bool { includes(Array(name.utf8)) }

    public func includes(_ name: [UInt8]) -> Bool {
        if !include.isEmpty, !include.contains(where: { globMatch($0, name) }) { return false }
        return !exclude.contains(where: { globMatch($0, name) })
    }
}

/// Glob match with `*` (any run) and `?` (one byte), iterative with single backtrack point.
func globMatch(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
    var p = 0
    var t = 0
    var starP = -1
    var starT = 0
    while t < text.count {
        if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
            p += 1
            t += 1
        } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
            starP = p
            starT = t
            p += 1
        } else if starP >= 0 {
            p = starP + 1
            starT += 1
            t = starT
        } else {
            return false
        }
    }
    while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
    return p == pattern.count
}
