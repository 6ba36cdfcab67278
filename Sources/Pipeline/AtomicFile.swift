#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A small state file replaced atomically (write a temporary file, fsync, rename over the old one,
/// fsync the directory), so a crash leaves the old or the new one, never half of each. Used by the
/// file-log checkpoints and the Prometheus receiver's series start times.
public enum AtomicFile {
    /// Replaces `path` (in `directory`, created if missing) with `bytes`.
    public static func replace(_ path: String, in directory: String, with bytes: [UInt8]) throws(FileIOError) {
        var partial = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") {
            partial += "/" + component
            _ = mkdir(partial, 0o755)  // mkdir -p; failures show up in open() below
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: temporary, errno: errno) }
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            var written = 0
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += n
            }
            return true
        }
        let synced = ok && fsync(fd) == 0
        let saved = errno
        close(fd)
        guard synced else { throw FileIOError(operation: "write", path: temporary, errno: saved) }
        guard rename(temporary, path) == 0 else { throw FileIOError(operation: "rename", path: path, errno: errno) }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// The whole file; nil when it does not exist. Throws when it cannot be read or is larger than `maxBytes`.
    public static func contents(of path: String, maxBytes: Int) throws(FileIOError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw FileIOError(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > maxBytes { throw FileIOError(operation: "read", path: path, errno: EFBIG) }
        }
        return bytes
    }

    /// Removes the file if it exists.
    public static func remove(_ path: String) { _ = unlink(path) }
}

/// A failed system call on a state file, with the path and the system's words for the error.
public struct FileIOError: Error, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32
    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}
