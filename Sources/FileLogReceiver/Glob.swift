#if canImport(Glibc)
import Glibc
#endif

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

/// Identity of a file: device and inode (the same for every path or symlink that leads to it).
struct FileKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    var device: UInt64
    var inode: UInt64
    static func < (a: FileKey, b: FileKey) -> Bool { (a.device, a.inode) < (b.device, b.inode) }
    var description: String { "\(device):\(inode)" }
}

/// A file the include globs found.
struct FoundFile {
    var path: String
    var key: FileKey
    var size: Int64
}

/// Expands include globs by walking directories (pruning by component where there is no `**`),
/// drops excluded paths and rotated `.gz` files, and keeps one path per file (symlinks resolve to the
/// same device and inode).
struct FileFinder {
    let include: [Glob]
    let exclude: [Glob]
    static let maxDepth = 16

    func find() -> [FoundFile] {
        var found: [FoundFile] = []
        var seen = Set<FileKey>()
        for glob in include {
            let (directory, rest) = glob.base
            walk(directory, rest: rest[...], glob: glob, depth: 0) { path, st in
                if path.hasSuffix(".gz") || exclude.contains(where: { $0.matches(path) }) { return }
                let key = FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                if seen.insert(key).inserted { found.append(FoundFile(path: path, key: key, size: Int64(st.st_size))) }
            }
        }
        return found
    }

    private func walk(
        _ directory: String, rest: ArraySlice<String>, glob: Glob, depth: Int, _ visit: (String, stat) -> Void
    ) {
        guard depth < Self.maxDepth, let component = rest.first, let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        let componentGlob = Glob(component)
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        names.sort()
        for name in names {
            let path = directory == "/" ? "/" + name : directory == "." ? name : directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            let isDirectory = st.st_mode & S_IFMT == S_IFDIR
            let isFile = st.st_mode & S_IFMT == S_IFREG
            if glob.hasDoubleStar {
                if isFile && glob.matches(path) { visit(path, st) }
                if isDirectory { walk(path, rest: rest, glob: glob, depth: depth + 1, visit) }  // no pruning under **
                continue
            }
            guard componentGlob.matches(name) else { continue }
            if rest.count == 1 {
                if isFile { visit(path, st) }
            } else if isDirectory {
                walk(path, rest: rest.dropFirst(), glob: glob, depth: depth + 1, visit)
            }
        }
    }
}
