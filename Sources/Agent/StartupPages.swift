import Kubernetes

#if canImport(Glibc)
import Glibc
#endif

/// Unmaps the pages of code and read-only data that start-up faulted in: once the configuration is
/// loaded, once the agent is built (`fluxtel`'s `run`), once it is ready and at each of `settleTimes`
/// after that (`ReadinessService`). Each release drops what the step before it ran, so the peak RSS
/// never holds the loader's, the configuration parser's, the receivers' bootstrap and the first
/// scrapes' and exports' set-up pages all at once.
///
/// The kernel maps a binary's code in whole page-cache folios (megabytes on a disk that reads ahead
/// 8 MB), and every page mapped once stays in the process's RSS: the loader, the Swift runtime's
/// start-up, the configuration parser, the YAML library and the bootstrap of each receiver run once
/// and then sit in RSS for the agent's whole life. `MADV_DONTNEED` on a read-only private file mapping
/// only removes its page-table entries: the pages stay in the page cache, and code that runs again
/// faults its folio back in (a minor fault, no disk read). So after this the idle RSS is what the
/// idle agent actually runs, not everything it ever ran. Figures: README "Footprint".
///
/// Only mappings that can never hold data of their own are touched: file-backed, private, not writable,
/// and without a single anonymous (copy-on-write) page, which rules out the relocated read-only data
/// (RELRO) whose pages the loader wrote before protecting them. `FLUXTEL_KEEP_STARTUP_PAGES=1` turns it off.
public enum StartupPages {
    /// How long after readiness the pages are released again, in order: at 2 s the first scrapes and
    /// exports have set up their connections (a scrape workload's peak RSS was reached before the
    /// release 5 s after readiness, when only that one followed it), at 5 s what came later.
    public static let settleTimes: [Duration] = [.seconds(2), .seconds(5)]

    /// Parses `/proc/self/smaps` and releases the eligible mappings; returns the bytes they had mapped.
    @discardableResult
    public static func release() -> Int {
        #if canImport(Glibc)
        if let value = getenv("FLUXTEL_KEEP_STARTUP_PAGES"), value.pointee == CChar(UInt8(ascii: "1")) { return 0 }
        guard let smaps = readSmallFile("/proc/self/smaps", limit: 8 << 20) else { return 0 }
        var released = 0
        for mapping in SmapsReader.mappings(smaps) where mapping.isReleasable {
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(start, mapping.end - mapping.start, MADV_DONTNEED) == 0 { released += mapping.rssKB * 1024 }
        }
        return released
        #else
        return 0
        #endif
    }
}

/// One mapping of `/proc/PID/smaps`: its header line and the fields `StartupPages` decides on.
struct SmapsMapping: Equatable {
    var start = 0
    var end = 0
    /// `r`, `w`, `x`, `p`/`s`, as in the header.
    var permissions: [UInt8] = []
    var inode = 0
    var rssKB = 0
    var anonymousKB = 0

    /// File-backed, readable, private, never writable, and no page of it copied on write.
    var isReleasable: Bool {
        permissions.count == 4 && permissions[0] == UInt8(ascii: "r") && permissions[1] == UInt8(ascii: "-")
            && permissions[3] == UInt8(ascii: "p") && inode != 0 && anonymousKB == 0 && rssKB > 0
    }
}

/// Reads `/proc/PID/smaps` bytes: a header line per mapping (`start-end perms offset dev inode path`),
/// then `Name: value kB` lines.
enum SmapsReader {
    static func mappings(_ bytes: [UInt8]) -> [SmapsMapping] {
        var result: [SmapsMapping] = []
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let line = bytes[lineStart..<lineEnd]
            if let header = header(line) {
                result.append(header)
            } else if !result.isEmpty {
                if let kb = field(line, "Rss:") {
                    result[result.count - 1].rssKB = kb
                } else if let kb = field(line, "Anonymous:") {
                    result[result.count - 1].anonymousKB = kb
                }
            }
            lineStart = lineEnd + 1
        }
        return result
    }

    /// `start-end perms offset dev inode [path]`, or nil for a field line.
    static func header(_ line: ArraySlice<UInt8>) -> SmapsMapping? {
        let words = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
        guard words.count >= 5, let dash = words[0].firstIndex(of: UInt8(ascii: "-")),
            let start = number(words[0][..<dash], radix: 16),
            let end = number(words[0][(dash + 1)...], radix: 16), end > start,
            let inode = number(words[4], radix: 10)
        else { return nil }
        return SmapsMapping(start: start, end: end, permissions: Array(words[1]), inode: inode)
    }

    /// The number of a `Name:   value kB` line whose name is `name`.
    static func field(_ line: ArraySlice<UInt8>, _ name: StaticString) -> Int? {
        let prefix = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        guard line.count > prefix.count, line.prefix(prefix.count).elementsEqual(prefix) else { return nil }
        let digits = line.dropFirst(prefix.count).drop { $0 == UInt8(ascii: " ") }.prefix {
            $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")
        }
        return number(digits, radix: 10)
    }

    static func number(_ digits: ArraySlice<UInt8>, radix: Int) -> Int? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value = 0
        for byte in digits {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = Int(byte - UInt8(ascii: "a")) + 10
            default: return nil
            }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: radix)
            // The vsyscall page sits above Int.max: not a mapping of ours anyway.
            guard !overflow, shifted <= Int.max - digit else { return nil }
            value = shifted + digit
        }
        return value
    }
}
