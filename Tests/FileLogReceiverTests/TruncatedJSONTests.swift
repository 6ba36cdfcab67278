import OTLPWire
import Testing

@testable import FileLogReceiver

/// A Flux JSON line longer than `max_log_size` is cut and flagged; it keeps Flux's meaning: zap writes
/// `level`, `ts` and `msg` first, and those (and every other member before the cut) are recovered from
/// the prefix that was kept (issue 16, point 6).
@Suite struct TruncatedJSONTests {
    static let head =
        #"{"level":"error","ts":"2026-08-12T09:22:31.090Z","msg":"Reconciliation failed","controller":"kustomization","Kustomization":{"name":"apps","namespace":"flux-system"},"#

    func encodeCut(_ content: String) throws -> OTLP.LogRecord {
        let resource = try encodeChunk([Array(content.utf8)], truncated: true)
        return try #require(resource.scopeLogs.first?.logRecords.first)
    }

    @Test func severityTimeAndMessageSurviveTheCut() throws {
        let record = try encodeCut(Self.head + #""error":"apply failed: "# + String(repeating: "x", count: 200))
        #expect(record.severityNumber == .error)
        #expect(record.severityText == "error")
        #expect(record.timeUnixNano == 1_786_526_551_090_000_000)
        #expect(record.body == .string("Reconciliation failed"))
        #expect(record.attribute("controller") == .string("kustomization"))
        #expect(
            record.attribute("Kustomization") == .kvlist([.init("name", "apps"), .init("namespace", "flux-system")]))
        #expect(record.attribute("exception.message") == nil, "the member cut in half is not kept")
        #expect(record.attribute("fluxtel.log.truncated") == .bool(true))
    }

    @Test func cutInsideTheMessageKeepsTheTextAsBody() throws {
        let text =
            #"{"level":"info","ts":"2026-08-12T09:22:31.090Z","msg":"server-side apply completed "#
            + String(repeating: "y", count: 100)
        let record = try encodeCut(text)
        #expect(record.severityNumber == .info)
        #expect(record.timeUnixNano == 1_786_526_551_090_000_000)
        #expect(record.body == .string(text))
        #expect(record.attribute("fluxtel.log.truncated") == .bool(true))
    }

    @Test func cutInsideTheFirstMemberIsRawText() throws {
        let text = #"{"level":"inf"#
        let record = try encodeCut(text)
        #expect(record.body == .string(text))
        #expect(record.severityNumber.rawValue == 0)
    }

    /// The same bytes, not cut, are not JSON: raw text as before.
    @Test func anUncutBrokenObjectIsStillRawText() throws {
        let text = Self.head + #""error":"x"#
        let record = try encode(text)
        #expect(record.body == .string(text))
        #expect(record.severityNumber.rawValue == 0)
    }
}
