import Logging
import NIOCore
import NIOHTTP1
import OTLPWire
import Pipeline
import Prometheus
import SelfTelemetry
import Synchronization

/// What every connection's handler shares: the admission policy, the hand-off to the pipeline, and the
/// counting and (rate-limited) logging of refusals.
final class IngestContext: Sendable {
    let admission: Admission
    let pipeline: Pipeline
    let metrics: AgentMetrics
    let logger: Logger
    let acceptedRequests: [Signal: Counter]
    /// Refusals are logged at most once per `logInterval` (with the count since the last line).
    private let refusalLog = Mutex<(last: ContinuousClock.Instant?, suppressed: Int)>((nil, 0))
    let logInterval: Duration = .seconds(10)

    init(admission: Admission, pipeline: Pipeline, metrics: AgentMetrics, logger: Logger) {
        self.admission = admission
        self.pipeline = pipeline
        self.metrics = metrics
        self.logger = logger
        var accepted: [Signal: Counter] = [:]
        for signal in Signal.allCases { accepted[signal] = metrics.acceptedRequests(signal) }
        self.acceptedRequests = accepted
    }

    /// Decodes, validates, counts and hands the request to the pipeline; `queued` runs once it is in the
    /// queue (at once for a request with nothing to forward).
    func ingest(
        _ request: Admission.Request, body buffer: ByteBuffer?, queued: @escaping @Sendable () -> Void
    ) throws(Refusal) {
        let received = buffer?.readableBytes ?? 0
        let leastBytes = Admission.leastDecodedBytes(received: received, encoding: request.encoding)
        if pipeline.isFull(forAtLeast: leastBytes) { throw admission.queueFull(encoding: request.encoding, items: 0) }
        let decoded = try RequestDecoder.decode(
            buffer.map { Array($0.readableBytesView) } ?? [], signal: request.signal, encoding: request.encoding,
            compression: request.compression, maxRequestBody: admission.maxRequestBody)
        if decoded.items == 0 {  // nothing to forward: an empty request is a successful no-op
            queued()
            return
        }
        let chunk = TelemetryChunk(signal: request.signal, bytes: decoded.bytes, itemCount: decoded.items)
        let result = pipeline.offer(chunk, queued: queued)
        if let refusal = admission.backpressure(result, encoding: request.encoding, items: decoded.items) {
            throw refusal
        }
    }

    /// Counts a refused request and logs it, rate-limited, with what the sender can do about it.
    func refuse(_ signal: Signal, _ refusal: Refusal, peer: String) {
        metrics.refusedRequests(signal, reason: refusal.reason).increment()
        if refusal.items > 0 { metrics[signal].refused.increment(by: Int64(refusal.items)) }
        let now = ContinuousClock.now
        let suppressed: Int? = refusalLog.withLock { state in
            if let last = state.last, now - last < logInterval {
                state.suppressed += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.suppressed
        }
        guard let suppressed else { return }
        logger.warning(
            "Refused an OTLP request",
            metadata: [
                "signal": "\(signal)", "reason": "\(refusal.reason)", "http.status": "\(refusal.response.status.code)",
                "message": "\(String(decoding: refusal.response.body, as: UTF8.self))", "peer": "\(peer)",
                "refusals.suppressed": "\(suppressed)",
            ])
    }
}
