import OTLPWire
import Synchronization
import Testing

@testable import FileLogReceiver

/// Issue 18, part 1: the encoder asks the lookup for the trace id of the Flux object a line names and sets
/// `trace_id`; lines about no object, or an untraced one, stay as they were.
@Suite struct FluxTraceIDTests {
    /// Answers for Kustomization flux-system/apps only; remembers the revisions it was asked for.
    final class Lookup: Sendable {
        let asked = Mutex<[String?]>([])
        var lookup: FluxTraceLookup {
            { kind, namespace, name, revision, _ in
                let text = { (b: UnsafeRawBufferPointer) in String(decoding: b, as: UTF8.self) }
                self.asked.withLock { $0.append(revision.map(text)) }
                guard text(kind) == "Kustomization", text(namespace) == "flux-system", text(name) == "apps" else {
                    return nil
                }
                return Array(revision.map(text).map { Array($0.utf8.prefix(16)) } ?? Array(repeating: 7, count: 16))
            }
        }
    }

    static func encode(_ line: String, lookup: FluxTraceLookup?) throws -> OTLP.LogRecord {
        var builder = LogChunkBuilder(path: "/var/log/x.log", resolvedPath: "/var/log/x.log")
        var encoder = LogRecordEncoder()
        encoder.traceLookup = lookup
        builder.open(reservingCapacity: 1024)
        let content = Array(line.utf8)
        content.withUnsafeBytes { bytes in
            let record = DecodedRecord(
                content: bytes, stream: .stderr, time: 1, truncated: false, originalSize: content.count + 1)
            builder.withWriter { w, attributes in
                encoder.append(record, fileAttributes: attributes, observedNow: 42, into: &w)
            }
        }
        let finished = builder.finish()
        let chunk = try #require(finished)
        let request = try OTLP.ExportLogsServiceRequest(decoding: chunk.bytes)
        return try #require(request.resourceLogs.first?.scopeLogs.first?.logRecords.first)
    }

    static let finished =
        #"{"level":"info","ts":"2026-08-12T09:14:22.206Z","msg":"Reconciliation finished in 16.803347112s, next run in 10m0s","controller":"kustomization","controllerGroup":"kustomize.toolkit.fluxcd.io","controllerKind":"Kustomization","Kustomization":{"name":"apps","namespace":"flux-system"},"namespace":"flux-system","name":"apps","reconcileID":"ab142586-41d3-44d6-9360-c43ac52e186d","revision":"main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"}"#

    @Test func theRevisionNamedInTheLineIsAskedFor() throws {
        let lookup = Lookup()
        let record = try Self.encode(Self.finished, lookup: lookup.lookup)
        #expect(record.traceID == Array("main@sha1:129d97".utf8))
        #expect(lookup.asked.withLock { $0 } == ["main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"])
        // Everything else is as without a lookup.
        var plain = try Self.encode(Self.finished, lookup: nil)
        #expect(plain.traceID.isEmpty)
        plain.traceID = record.traceID
        #expect(plain == record)
    }

    @Test func aLineWithoutRevisionAsksWithout() throws {
        let lookup = Lookup()
        let record = try Self.encode(
            #"{"level":"info","ts":"2026-08-12T09:14:06.000Z","msg":"Dependencies do not meet ready condition","controllerKind":"Kustomization","namespace":"flux-system","name":"apps"}"#,
            lookup: lookup.lookup)
        #expect(record.traceID == Array(repeating: 7, count: 16))
        #expect(lookup.asked.withLock { $0 } == [nil])
    }

    /// Event-recorder lines name the kind as `reconciler kind`.
    @Test func legacyReconcilerKind() throws {
        let record = try Self.encode(
            #"{"level":"error","ts":"2026-08-12T09:17:10.441Z","msg":"dry-run failed","name":"apps","namespace":"flux-system","reconciler kind":"Kustomization","error":"ReconciliationFailed"}"#,
            lookup: Lookup().lookup)
        #expect(record.traceID == Array(repeating: 7, count: 16))
    }

    @Test func untracedAndObjectlessLinesAreUnchanged() throws {
        let lookup = Lookup()
        for line in [
            #"{"level":"info","ts":"2026-08-12T09:00:02.131Z","msg":"Starting workers","controller":"kustomization","controllerKind":"Kustomization","worker count":4}"#,
            #"{"level":"info","msg":"x","controllerKind":"Kustomization","namespace":"flux-system","name":"infra"}"#,
            "I0915 14:58:21.046324 6 request.go:601] Waited for 1.0s",
        ] {
            let traced = try Self.encode(line, lookup: lookup.lookup)
            #expect(traced == (try Self.encode(line, lookup: nil)))
            #expect(traced.traceID.isEmpty)
        }
        // Only the line that names a whole object asked.
        #expect(lookup.asked.withLock { $0.count } == 1)
    }
}
