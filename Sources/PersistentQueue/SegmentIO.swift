#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on a segment file or the queue directory, with its errno.
struct SegmentIOError: Error, CustomStringConvertible {
    var operation: String
    var path: String
    var errno: Int32

    var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }

    /// Out of space or over a file size limit: the queue applies its full policy and recovers later.
    var isNoSpace: Bool { errno == ENOSPC || errno == EFBIG || errno == EDQUOT }
}

/// The few POSIX calls the disk queue makes, each reporting errno. No buffering: records go to the
/// kernel with one `pwritev` each.
enum SegmentIO {
    static func makeDirectories(_ path: String) throws(SegmentIOError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o755) != 0 && errno != EEXIST {
                throw SegmentIOError(operation: "mkdir", path: partial, errno: errno)
            }
        }
    }

    static func openDirectory(_ path: String) throws(SegmentIOError) -> Int32 {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SegmentIOError(operation: "open", path: path, errno: errno) }
        return fd
    }

    static func openSegment(_ path: String, create: Bool) throws(SegmentIOError) -> Int32 {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0)
        let fd = open(path, flags, 0o644)
        if fd < 0 { throw SegmentIOError(operation: "open", path: path, errno: errno) }
        return fd
    }

    /// Names in `directory` (without `.` and `..`).
    static func list(_ directory: String) throws(SegmentIOError) -> [String] {
        guard let dir = opendir(directory) else {
            throw SegmentIOError(operation: "opendir", path: directory, errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func size(_ fd: Int32, path: String) throws(SegmentIOError) -> Int64 {
        var st = stat()
        if fstat(fd, &st) != 0 { throw SegmentIOError(operation: "fstat", path: path, errno: errno) }
        return Int64(st.st_size)
    }

    /// Writes `prefix` then `body` at `offset` in one `pwritev`; a short write is an error (the caller truncates).
    static func append(
        _ fd: Int32, prefix: [UInt8], body: [UInt8], at offset: Int64, path: String
    ) throws(SegmentIOError) {
        let total = prefix.count + body.count
        let written: Int = prefix.withUnsafeBytes { p in
            body.withUnsafeBytes { b in
                var iov = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: p.baseAddress), iov_len: p.count),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count),
                ]
                return pwritev(fd, &iov, body.isEmpty ? 1 : 2, off_t(offset))
            }
        }
        if written < 0 { throw SegmentIOError(operation: "write", path: path, errno: errno) }
        // A short write means the next byte would have failed (RLIMIT_FSIZE, a full disk): say so.
        if written != total { throw SegmentIOError(operation: "write", path: path, errno: EFBIG) }
    }

    /// Reads exactly `count` bytes at `offset` into `buffer` (appending); false at end of file.
    static func read(
        _ fd: Int32, count: Int, at offset: Int64, into buffer: inout [UInt8], path: String
    ) throws(SegmentIOError) -> Bool {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + start + done, count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                buffer.removeLast(count)
                throw SegmentIOError(operation: "read", path: path, errno: errno)
            }
            if n == 0 {
                buffer.removeLast(count)
                return false
            }
            done += n
        }
        return true
    }

    static func truncate(_ fd: Int32, to size: Int64, path: String) throws(SegmentIOError) {
        if ftruncate(fd, off_t(size)) != 0 { throw SegmentIOError(operation: "ftruncate", path: path, errno: errno) }
    }

    static func sync(_ fd: Int32, path: String) throws(SegmentIOError) {
        if fsync(fd) != 0 { throw SegmentIOError(operation: "fsync", path: path, errno: errno) }
    }

    static func remove(_ path: String) { _ = unlink(path) }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }
}
