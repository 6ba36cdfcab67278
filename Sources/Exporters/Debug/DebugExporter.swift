public import FluxtelConfig
public import Pipeline
import Prometheus
public import SelfTelemetry

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes batches to stdout: one `signal=traces items=N bytes=M` line per batch (`basic`), followed
/// by a generic dump of the protobuf (`detailed`). Every write is one `write(2)` of whole lines, so
/// lines from concurrent exports never interleave.
public struct DebugExporter: BatchExporter {
    public let name = "debug"
    /// `exporters.debug`.
    public let configuration: DebugExporterConfiguration
    private let metrics: AgentMetrics?
    private let output: @Sendable ([UInt8]) -> Void

    /// - Parameters:
    ///   - configuration: `exporters.debug` (`verbosity`: `.basic` or `.detailed`).
    ///   - metrics: when given, exported items are counted like a real exporter's.
    ///   - output: where text goes; the default writes to file descriptor 1.
    public init(
        configuration: DebugExporterConfiguration = .init(),
        metrics: AgentMetrics? = nil,
        output: @escaping @Sendable ([UInt8]) -> Void = DebugExporter.writeToStandardOutput
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.output = output
    }

    public func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        var text = "signal=\(batch.signal) items=\(batch.itemCount) bytes=\(batch.body.count)\n"
        if configuration.verbosity == .detailed {
            text += ProtobufDump.render(batch.body, indent: "  ")
        }
        output(Array(text.utf8))
        metrics?[batch.signal].exported.increment(by: Int64(batch.itemCount))
        return .exported
    }

    public func shutdown() async {}

    /// Writes all of `bytes` to stdout, retrying short writes and `EINTR`.
    @Sendable public static func writeToStandardOutput(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
