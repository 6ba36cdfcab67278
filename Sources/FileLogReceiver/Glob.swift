/// A path glob: `*` and `?` match within one path component, `**` across components (`a/**/b`
/// also matches `a/b`), `[abc]`, `[a-z]` and `[!a]` match one character of a class.
struct Glob: Sendable, Hashable {
    let pattern: String
    private let bytes: [UInt8]

    init(_ pattern: String) {
        self.pattern = pattern
        self.bytes = Array(pattern.utf8)
    }

    var hasDoubleStar: Bool { pattern.contains("**") }

    /// The leading directory without any wildcard (where a walk starts), and the remaining components.
    var base: (directory: String, rest: [String]) {
        let components = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var fixed: [String] = []
        var index = 0
        while index < components.count - 1, !Glob.isWild(components[index]) {
            fixed.append(components[index])
            index += 1
        }
        let prefix = pattern.hasPrefix("/") ? "/" : ""
        let directory = fixed.isEmpty ? (prefix.isEmpty ? "." : "/") : prefix + fixed.joined(separator: "/")
        return (directory, Array(components[index...]))
    }

    static func isWild(_ s: String) -> Bool {
        s.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    func matches(_ path: String) -> Bool {
        let s = Array(path.utf8)
        return Glob.match(bytes, 0, s, 0)
    }

    static func match(_ p: [UInt8], _ startP: Int, _ s: [UInt8], _ startS: Int) -> Bool {
        var pi = startP
        var si = startS
        while pi < p.count {
            let c = p[pi]
            if c == UInt8(ascii: "*") {
                if pi + 1 < p.count && p[pi + 1] == UInt8(ascii: "*") {
                    let next = pi + 2
                    if next < p.count && p[next] == UInt8(ascii: "/") && match(p, next + 1, s, si) { return true }
                    var k = si
                    while k <= s.count {
                        if match(p, next, s, k) { return true }
                        k += 1
                    }
                    return false
                }
                var k = si
                while k <= s.count {
                    if match(p, pi + 1, s, k) { return true }
                    if k < s.count && s[k] == UInt8(ascii: "/") { break }
                    k += 1
                }
                return false
            }
            guard si < s.count else { return false }
            if c == UInt8(ascii: "?") {
                if s[si] == UInt8(ascii: "/") { return false }
            } else if c == UInt8(ascii: "["), let (matched, next) = matchClass(p, pi, s[si]) {
                if !matched { return false }
                pi = next
                si += 1
                continue
            } else if c != s[si] {
                return false
            }
            pi += 1
            si += 1
        }
        return si == s.count
    }

    /// Matches one byte against the class starting at `p[at] == "["`; nil when the class is unterminated.
    private static func matchClass(_ p: [UInt8], _ at: Int, _ byte: UInt8) -> (Bool, Int)? {
        var i = at + 1
        var negate = false
        if i < p.count && (p[i] == UInt8(ascii: "!") || p[i] == UInt8(ascii: "^")) {
            negate = true
            i += 1
        }
        var matched = false
        var first = true
        while i < p.count && (first || p[i] != UInt8(ascii: "]")) {
            first = false
            let low = p[i]
            if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") && p[i + 2] != UInt8(ascii: "]") {
                if byte >= low && byte <= p[i + 2] { matched = true }
                i += 3
            } else {
                if byte == low { matched = true }
                i += 1
            }
        }
        guard i < p.count else { return nil }
        return (matched != negate && byte != UInt8(ascii: "/"), i + 1)
    }
}
