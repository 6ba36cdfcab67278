#if canImport(Glibc)
import Glibc
#endif

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
