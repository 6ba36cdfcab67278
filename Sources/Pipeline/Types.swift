public import OTLPWire

/// What a source hands to the pipeline: one or more *encoded* `Resource{Spans,Logs,Metrics}`
/// messages, each already framed as field 1 of the `Export*ServiceRequest` (tag `0x0A`, length,
/// bytes). Concatenating chunks of one signal gives a valid request body.
public struct TelemetryChunk: Sendable {
    public var signal: Signal
    /// Framed `Resource*` fields (see type doc).
    public var bytes: [UInt8]
    /// Spans, log records, or metric data points inside `bytes`.
    public var itemCount: Int
    /// Called once when every item of this chunk has left the pipeline (exported, or given up on),
    /// or, with a persistent queue, once the chunk is durable in it (`.persisted`).
    public var acknowledgement: Acknowledgement?

    public init(signal: Signal, bytes: [UInt8], itemCount: Int, acknowledgement: Acknowledgement? = nil) {
        self.signal = signal
        self.bytes = bytes
        self.itemCount = itemCount
        self.acknowledgement = acknowledgement
    }
}

/// How a batch (and therefore each chunk in it) left the pipeline.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The backend accepted it (possibly with some items rejected through `partial_success`).
    case exported
    /// The backend refused it permanently (e.g. 400); it was dropped and counted.
    case rejected
    /// Retries ran out, or the agent was stopped before it could be delivered.
    case failed
    /// Durable in the persistent queue (`processors.queue.directory`), which now owns its delivery:
    /// the source may forget it (the tailer advances its checkpoint).
    case persisted
}

/// A completion callback for what a source handed over (the file tailer checkpoints on it).
public struct Acknowledgement: Sendable {
    let callback: @Sendable (DeliveryOutcome) -> Void
    public init(_ callback: @escaping @Sendable (DeliveryOutcome) -> Void) { self.callback = callback }
    public func callAsFunction(_ outcome: DeliveryOutcome) { callback(outcome) }
}

/// One export request: an uncompressed `Export*ServiceRequest` body.
public struct ExportBatch: Sendable {
    public var signal: Signal
    /// The serialized `Export*ServiceRequest` (concatenated chunks).
    public var body: [UInt8]
    public var itemCount: Int
    /// Monotonic id, for logs.
    public var id: UInt64
    /// Read from the persistent queue, which keeps it when the export fails (it is sent again, or
    /// after the next start): a failure is then not a loss, and exporters do not count it as failed.
    public var persistent: Bool

    public init(signal: Signal, body: [UInt8], itemCount: Int, id: UInt64, persistent: Bool = false) {
        self.signal = signal
        self.body = body
        self.itemCount = itemCount
        self.id = id
        self.persistent = persistent
    }
}

/// The end of the pipeline. An exporter retries internally as configured and returns once the
/// batch is delivered, refused, or given up on. It must return promptly (with `.failed`) when the
/// calling task is cancelled.
public protocol BatchExporter: Sendable {
    /// Name for logs and metrics, e.g. `otlp_http` or `debug`.
    var name: String { get }
    func export(_ batch: ExportBatch) async -> DeliveryOutcome
    /// Releases connections; called once after the last `export`.
    func shutdown() async
}
