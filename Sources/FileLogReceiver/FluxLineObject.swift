#if canImport(Glibc)
import Glibc
#endif

/// Answers the trace id of a Flux log line from the object it names: `kind`, `namespace`, `name`, the
/// `revision` the line names (nil: none) and its `msg` (nil: none or escaped), as raw UTF-8 from the line.
/// nil leaves the line without one. The agent passes `FluxCorrelation.line` (issue 18) when the Flux object
/// source runs; it also learns reconcile durations from the message.
public typealias FluxTraceLookup =
    @Sendable (
        _ kind: UnsafeRawBufferPointer, _ namespace: UnsafeRawBufferPointer, _ name: UnsafeRawBufferPointer,
        _ revision: UnsafeRawBufferPointer?, _ message: UnsafeRawBufferPointer?
    ) -> [UInt8]?

/// Where a controller's JSON line names its Flux object (FLUX.md §2): the reconciler keys `controllerKind`
/// (legacy and event-recorder lines: `reconciler kind`), `namespace`, `name`, the call-site `revision`, and `msg`.
/// Only top-level, unescaped string values count. Positions into the line: nothing is allocated.
struct FluxLineObject {
    var kind: Range<Int>?
    var namespace: Range<Int>?
    var name: Range<Int>?
    var revision: Range<Int>?
    var message: Range<Int>?

    mutating func reset() { self = FluxLineObject() }

    /// Notes the member whose key is at `key` (`count` bytes) when it names the object; `scanner` stands at
    /// its value (a copy: the caller's position is not moved).
    @inline(__always)
    mutating func note(key: UnsafePointer<UInt8>, count: Int, scanner: JSONScanner) {
        switch count {
        case 3 where Self.equal(key, count, "msg"): message = Self.string(scanner)
        case 4 where Self.equal(key, count, "name"): name = Self.string(scanner)
        case 8 where Self.equal(key, count, "revision"): revision = Self.string(scanner)
        case 9 where Self.equal(key, count, "namespace"): namespace = Self.string(scanner)
        case 14 where Self.equal(key, count, "controllerKind"): kind = Self.string(scanner)
        case 15 where Self.equal(key, count, "reconciler kind"): kind = kind ?? Self.string(scanner)
        default: break
        }
    }

    /// The trace id `lookup` gives for the noted object; nil when the line names no complete object.
    func traceID(_ base: UnsafePointer<UInt8>, lookup: FluxTraceLookup) -> [UInt8]? {
        guard let kind, let namespace, let name else { return nil }
        func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
        }
        return lookup(bytes(kind), bytes(namespace), bytes(name), revision.map(bytes), message.map(bytes))
    }

    private static func string(_ scanner: JSONScanner) -> Range<Int>? {
        var s = scanner
        guard s.peek == UInt8(ascii: "\""), let value = s.scanString(), !value.escaped, value.count > 0 else {
            return nil
        }
        return value.start..<(value.start + value.count)
    }

    @inline(__always)
    private static func equal(_ p: UnsafePointer<UInt8>, _ n: Int, _ literal: StaticString) -> Bool {
        memcmp(p, literal.utf8Start, n) == 0
    }
}
