import FluxtelConfig
import FluxtelTestSupport
import OTLPWire
import Pipeline
import SelfTelemetry
import Synchronization
import Testing

@testable import Exporters

@Suite struct DebugExporterTests {
    final class Output: Sendable {
        let storage = Mutex<[[UInt8]]>([])
        var writes: [String] { storage.withLock { $0.map { String(decoding: $0, as: UTF8.self) } } }
        func write(_ bytes: [UInt8]) { storage.withLock { $0.append(bytes) } }
    }

    @Test func basicWritesOneLinePerBatch() async {
        let output = Output()
        let metrics = AgentMetrics()
        let exporter = DebugExporter(configuration: .init(verbosity: .basic), metrics: metrics, output: output.write)
        let body = Fixtures.body()
        #expect(await exporter.export(ExportBatch(signal: .traces, body: body, itemCount: 12, id: 1)) == .exported)
        #expect(await exporter.export(ExportBatch(signal: .metrics, body: [], itemCount: 0, id: 2)) == .exported)
        #expect(output.writes == ["signal=traces items=12 bytes=\(body.count)\n", "signal=metrics items=0 bytes=0\n"])
        #expect(metrics.exported(.traces) == 12)
        #expect(exporter.name == "debug")
    }

    @Test func detailedDumpsTheProtobuf() async {
        let output = Output()
        let exporter = DebugExporter(configuration: .init(verbosity: .detailed), output: output.write)
        // ResourceSpans { resource { attributes { key "service.name" value { string_value "flux" } } }
        //                 scope_spans { spans { trace_id <16 bytes> name "reconcile" start_time_unix_nano fixed64 } } }
        let attribute =
            Fixtures.lengthDelimited(1, Array("service.name".utf8))
            + Fixtures.lengthDelimited(2, Fixtures.lengthDelimited(1, Array("flux".utf8)))
        let resource = Fixtures.lengthDelimited(1, Fixtures.lengthDelimited(1, attribute))
        let span =
            Fixtures.lengthDelimited(1, [UInt8](repeating: 0xAB, count: 16))
            + Fixtures.lengthDelimited(5, Array("reconcile".utf8)) + [0x39] + [UInt8](repeating: 0, count: 8)
        let scopeSpans = Fixtures.lengthDelimited(2, Fixtures.lengthDelimited(2, span))
        let body = Fixtures.lengthDelimited(1, resource + scopeSpans)
        _ = await exporter.export(ExportBatch(signal: .traces, body: body, itemCount: 1, id: 1))
        let text = output.writes.joined()
        #expect(output.writes.count == 1)  // one write: line-atomic
        #expect(text.hasPrefix("signal=traces items=1 bytes=\(body.count)\n"))
        #expect(text.contains("\"service.name\""))
        #expect(text.contains("\"flux\""))
        #expect(text.contains("5: \"reconcile\""))
        #expect(text.contains("0xabababababababababababababababab (16 bytes)"))
        #expect(text.contains("7: 0x0000000000000000 (fixed64"))
    }
}

@Suite struct ProtobufDumpTests {
    @Test func hostileInputNeverTraps() {
        var generator = SeededRandom()  // FLUXTEL_TEST_SEED replays a failure
        // Deep nesting: 1000 levels of field 1 wrapping (depth is capped, no stack overflow).
        var deep: [UInt8] = Array("leaf".utf8)
        for _ in 0..<1000 { deep = Fixtures.lengthDelimited(1, deep) }
        #expect(!ProtobufDump.render(deep).isEmpty)
        for _ in 0..<5000 {
            let count = Int.random(in: 0..<64, using: &generator)
            _ = ProtobufDump.render((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        #expect(ProtobufDump.render([0x0F]).contains("not a protobuf message"))
    }
}
