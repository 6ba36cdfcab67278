public import FluxtelConfig
public import OTLPWire

extension OTLPHTTPExporterConfiguration {
    /// The URL batches of `signal` are POSTed to: the per-signal endpoint when set, else `endpoint` (a
    /// trailing `/` trimmed) with `/v1/<signal>` appended.
    public func url(for signal: Signal) -> String {
        let override =
            switch signal {
            case .traces: tracesEndpoint
            case .logs: logsEndpoint
            case .metrics: metricsEndpoint
            }
        if !override.isEmpty { return override }
        var base = Substring(endpoint)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + signal.defaultPath
    }
}
