import Exporters
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import OTLPWire
import Pipeline
import SelfTelemetry

enum Fixtures {
    /// A request body shaped like an `Export*ServiceRequest`: field 1 (length-delimited) repeated,
    /// with compressible text inside.
    static func body(resources: Int = 3, bytesEach: Int = 300) -> [UInt8] {
        var body: [UInt8] = []
        for index in 0..<resources {
            let inner = Array(
                String(repeating: "resource-\(index) span kustomize-controller ", count: bytesEach / 40 + 1).utf8
                    .prefix(bytesEach))
            body.append(0x0A)
            var length = inner.count
            while length >= 0x80 {
                body.append(UInt8(length & 0x7F) | 0x80)
                length >>= 7
            }
            body.append(UInt8(length))
            body += inner
        }
        return body
    }

    static func batch(_ signal: Signal = .traces, items: Int = 7, id: UInt64 = 1) -> ExportBatch {
        ExportBatch(signal: signal, body: body(), itemCount: items, id: id)
    }

    /// Fast retries for tests.
    static func retry(
        initial: Duration = .milliseconds(10), max: Duration = .milliseconds(50), elapsed: Duration = .seconds(10)
    ) -> RetryConfiguration {
        RetryConfiguration(initialInterval: initial, maxInterval: max, maxElapsedTime: elapsed, multiplier: 1.5)
    }

    static func configuration(
        _ endpoint: String, retry: RetryConfiguration = Fixtures.retry()
    )
        -> OTLPHTTPExporterConfiguration
    {
        // The request deadline is a hang bound, not a figure under test: a loaded machine may take seconds.
        OTLPHTTPExporterConfiguration(endpoint: endpoint, timeout: TestTime.patience, retry: retry)
    }

    /// Varint-encoded protobuf helpers for scripted response bodies.
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func lengthDelimited(_ field: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        varint(field << 3 | 2) + varint(UInt64(bytes.count)) + bytes
    }

    /// `google.rpc.Status { code = 1; message = 2 }`.
    static func rpcStatus(code: UInt64, message: String) -> [UInt8] {
        varint(1 << 3) + varint(code) + lengthDelimited(2, Array(message.utf8))
    }

    /// `Export*ServiceResponse { partial_success = 1 { rejected = 1; error_message = 2 } }`.
    static func partialSuccess(rejected: Int64, message: String) -> [UInt8] {
        let inner = varint(1 << 3) + varint(UInt64(bitPattern: rejected)) + lengthDelimited(2, Array(message.utf8))
        return lengthDelimited(1, inner)
    }
}

extension AgentMetrics {
    /// The value of `name{signal="..."}` in the Prometheus rendering (0 when absent).
    func value(_ name: String, _ signal: Signal) -> Double {
        let text = String(decoding: render(), as: UTF8.self)
        let prefix = "\(name){signal=\"\(signal.rawValue)\"} "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.dropFirst(prefix.count)) ?? .nan
        }
        return 0
    }

    func exported(_ signal: Signal = .traces) -> Double { value("fluxtel_items_exported_total", signal) }
    func dropped(_ signal: Signal = .traces) -> Double { value("fluxtel_items_dropped_total", signal) }
    func failed(_ signal: Signal = .traces) -> Double { value("fluxtel_items_failed_total", signal) }
    func retries(_ signal: Signal = .traces) -> Double { value("fluxtel_export_retries_total", signal) }
    func exportAttempts(_ signal: Signal = .traces) -> Double { value("fluxtel_export_duration_seconds_count", signal) }
}
