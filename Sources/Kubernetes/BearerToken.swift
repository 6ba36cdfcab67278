#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The service-account token, read from its file for every request: kubelet rotates projected tokens
/// in place (about every hour), and a read of a few hundred bytes per request is cheaper than noticing.
struct BearerToken {
    let path: String

    /// The token, whitespace trimmed; nil without a path, or when the file is unreadable or empty.
    func read() -> String? {
        guard !path.isEmpty, let bytes = readSmallFile(path) else { return nil }
        var view = bytes[...]
        while let first = view.first, first == 0x20 || first == 0x0A || first == 0x0D || first == 0x09 {
            view = view.dropFirst()
        }
        while let last = view.last, last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 {
            view = view.dropLast()
        }
        return view.isEmpty ? nil : String(decoding: view, as: UTF8.self)
    }
}

/// Reads a small file without Foundation; nil when it cannot be opened.
public func readSmallFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}
