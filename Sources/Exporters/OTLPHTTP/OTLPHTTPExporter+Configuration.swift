import OTLPWire

extension OTLPHTTPExporter {
    /// What the exporter needs from `exporters.otlp_http` (FluxtelConfig's
    /// `OTLPHTTPExporterConfiguration` maps onto it field for field; the Exporters module does not
    /// depend on the config module).
    public struct Configuration: Sendable, Hashable {
        /// Base URL; `/v1/traces`, `/v1/logs`, `/v1/metrics` are appended (a trailing `/` is trimmed).
        public var endpoint: String
        /// Full per-signal URLs; an empty string means "derive from `endpoint`".
        public var tracesEndpoint: String
        public var logsEndpoint: String
        public var metricsEndpoint: String
        /// Sent with every request, in order. A `User-Agent` here replaces ours.
        public var headers: [Header]
        public var compression: Compression
        /// 1...9 (0 stores), default 6.
        public var compressionLevel: Int
        /// Per request (connect, send, response). Default 10 s.
        public var timeout: Duration
        public var retry: RetryPolicy
        public var tls: TLS

        public init(
            endpoint: String,
            tracesEndpoint: String = "",
            logsEndpoint: String = "",
            metricsEndpoint: String = "",
            headers: [Header] = [],
            compression: Compression = .gzip,
            compressionLevel: Int = 6,
            timeout: Duration = .seconds(10),
            retry: RetryPolicy = .init(),
            tls: TLS = .init()
        ) {
            self.endpoint = endpoint
            self.tracesEndpoint = tracesEndpoint
            self.logsEndpoint = logsEndpoint
            self.metricsEndpoint = metricsEndpoint
            self.headers = headers
            self.compression = compression
            self.compressionLevel = compressionLevel
            self.timeout = timeout
            self.retry = retry
            self.tls = tls
        }

        /// The URL batches of `signal` are POSTed to.
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

    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Compression: Sendable, Hashable, CustomStringConvertible {
        enum Backing: String, Sendable, Hashable { case none, gzip }
        let backing: Backing
        public static let none = Self(backing: .none)
        public static let gzip = Self(backing: .gzip)
        public var description: String { backing.rawValue }
    }

    /// `tls`: by default the system trust store verifies the server.
    public struct TLS: Sendable, Hashable {
        /// PEM bundle trusted *instead of* the system trust store.
        public var caFile: String
        /// Client certificate chain (PEM) and its key, for mTLS; both or neither.
        public var certFile: String
        public var keyFile: String
        /// Accept any server certificate. For tests only.
        public var insecureSkipVerify: Bool

        public init(caFile: String = "", certFile: String = "", keyFile: String = "", insecureSkipVerify: Bool = false)
        {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.insecureSkipVerify = insecureSkipVerify
        }
    }
}

/// A configuration the exporter cannot run with (bad URL, unreadable certificate, ...).
public struct ExporterConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        enum Base: Hashable, Sendable { case invalidEndpoint, tls }
        let base: Base
        public static let invalidEndpoint = Code(base: .invalidEndpoint)
        public static let tls = Code(base: .tls)
    }

    public let code: Code
    public let message: String
    let file: String
    let line: Int

    public static func invalidEndpoint(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .invalidEndpoint, message: message, file: file, line: line)
    }

    public static func tls(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .tls, message: message, file: file, line: line)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { "ExporterConfigurationError(\(code.base)): \(message) [\(file):\(line)]" }
}
