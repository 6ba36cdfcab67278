import Pipeline

#if canImport(Glibc)
import Glibc
#endif

/// The receiver's checkpoints on disk: one text file, replaced atomically (write a temporary file,
/// fsync, rename over the old one, fsync the directory), so a crash leaves the old or the new one.
///
/// ```
/// fluxtel-filelog-checkpoints 1
/// <device> <inode> <offset> <fingerprint length> <fingerprint hash, hex> <path>
/// end <number of entries>
/// ```
struct CheckpointFile {
    static let header = "fluxtel-filelog-checkpoints 1"
    let directory: String
    var path: String { directory + "/filelog.checkpoints" }

    struct CorruptError: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    static func encode(_ checkpoints: [AckLedger.Checkpoint]) -> String {
        var text = header + "\n"
        for c in checkpoints {
            let hash = String(c.fingerprint.hash, radix: 16)
            text += "\(c.key.device) \(c.key.inode) \(c.offset) \(c.fingerprint.length) \(hash) \(c.path)\n"
        }
        text += "end \(checkpoints.count)\n"
        return text
    }

    static func decode(_ text: String) throws(CorruptError) -> [AckLedger.Checkpoint] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == Substring(header) else { throw CorruptError(line: 1, reason: "unknown header") }
        guard let trailer = lines.last, trailer.hasPrefix("end "), let count = Int(trailer.dropFirst(4)),
            count == lines.count - 2
        else { throw CorruptError(line: lines.count, reason: "missing or wrong end line (file cut short?)") }
        var checkpoints: [AckLedger.Checkpoint] = []
        for (index, line) in lines.dropFirst().dropLast().enumerated() {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count == 6, let device = UInt64(fields[0]), let inode = UInt64(fields[1]),
                let offset = Int64(fields[2]), offset >= 0, let length = Int(fields[3]), length >= 0,
                let hash = UInt64(fields[4], radix: 16), !fields[5].isEmpty
            else { throw CorruptError(line: index + 2, reason: "malformed entry") }
            checkpoints.append(
                .init(
                    key: FileKey(device: device, inode: inode), offset: offset,
                    fingerprint: Fingerprint(length: length, hash: hash), path: String(fields[5])))
        }
        return checkpoints
    }

    /// Reads the checkpoints; nil when there is no file yet. Throws when the file is corrupt.
    func load() throws -> [AckLedger.Checkpoint]? {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.contents(of: path, maxBytes: 64 << 20)
        } catch  where error.errno == EFBIG {
            throw CorruptError(line: 0, reason: "larger than 64 MiB")
        }
        guard let bytes else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CorruptError(line: 0, reason: "not UTF-8")
        }
        return try Self.decode(text)
    }

    /// Replaces the checkpoint file atomically and durably.
    func store(_ checkpoints: [AckLedger.Checkpoint]) throws {
        try AtomicFile.replace(path, in: directory, with: Array(Self.encode(checkpoints).utf8))
    }
}
