import FluxtelTestSupport
import Foundation
import OTLPWire
import Synchronization

/// A load generator on its own thread (its loops block on syscalls, so they stay off the Swift
/// concurrency pool), bounded in count by its body and in time by `stop()`.
final class LoadThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    init(name: String, body: @escaping @Sendable (LoadThread) -> Void) {
        let thread = Thread { [self] in
            body(self)
            finished.store(true, ordering: .releasing)
        }
        thread.name = name
        thread.start()
    }

    var shouldStop: Bool { stopping.load(ordering: .acquiring) }
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    /// Sleeps up to `duration` in small steps; false when told to stop meanwhile.
    func pause(_ duration: Duration) -> Bool {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if shouldStop { return false }
            let left = end - ContinuousClock.now
            let step = min(left, .milliseconds(20))
            usleep(
                UInt32(max(0, step.components.attoseconds / 1_000_000_000_000 + step.components.seconds * 1_000_000)))
        }
        return !shouldStop
    }

    /// Tells the body to stop and waits (bounded) until it returned.
    func stop(timeout: Duration = .seconds(15)) async throws {
        stopping.store(true, ordering: .releasing)
        try await waitUntilFinished(timeout: timeout)
    }

    func waitUntilFinished(timeout: Duration) async throws {
        _ = await eventually(timeout) { isFinished }
    }
}

/// Appends CRI-format Flux JSON lines, each with a unique `"seq"` (0, 1, 2, ...), to one pod log file,
/// `linesPerSecond` paced in ticks of 20 ms, at most `maxLines`.
final class LogWriter: Sendable {
    let path: String
    private let written = Atomic<Int>(0)
    private let thread: Mutex<LoadThread?> = Mutex(nil)

    /// Lines fully written so far (sequence numbers `0..<count`).
    var count: Int { written.load(ordering: .acquiring) }

    static func line(_ seq: Int) -> String {
        "2026-08-12T09:00:01.000000000Z stderr F {\"level\":\"info\",\"ts\":\"2026-08-12T09:00:01.102Z\","
            + "\"msg\":\"Reconciliation finished in 2.1s, next run in 10m0s\",\"controller\":\"kustomization\","
            + "\"controllerGroup\":\"kustomize.toolkit.fluxcd.io\",\"controllerKind\":\"Kustomization\","
            + "\"name\":\"apps\",\"namespace\":\"flux-system\",\"seq\":\(seq)}\n"
    }

    init(path: String, linesPerSecond: Int, maxLines: Int) {
        self.path = path
        thread.withLock {
            $0 = LoadThread(name: "log-writer") { [self] load in
                let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                guard fd >= 0 else { return }
                defer { close(fd) }
                let start = ContinuousClock.now
                var n = 0
                while n < maxLines && !load.shouldStop {
                    let due = min(
                        maxLines, Int((ContinuousClock.now - start) / .seconds(1) * Double(linesPerSecond)) + 1)
                    if due > n {
                        var chunk = ""
                        for seq in n..<due { chunk += Self.line(seq) }
                        let bytes = Array(chunk.utf8)
                        var offset = 0
                        while offset < bytes.count {
                            let w = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                            if w <= 0 { return }
                            offset += w
                        }
                        n = due
                        self.written.store(n, ordering: .releasing)
                    }
                    _ = load.pause(.milliseconds(20))
                }
            }
        }
    }

    func stop() async throws { try await thread.withLock { $0 }?.stop() }
}

/// Posts one-span `ExportTraceServiceRequest`s (protobuf, no compression, to `/`) the way Flux's
/// notification-controller does through otel-go, each with a unique span id, and retries 429, 502,
/// 503, 504 and connection failures with backoff (honouring `Retry-After`) for up to a minute, like
/// otel-go. A span counts as accepted only once it was answered 200.
final class SpanSender: Sendable {
    struct Tally: Sendable {
        /// Span ids answered 200.
        var accepted: Set<UInt64> = []
        /// Span ids answered with a non-retryable status.
        var refused: [UInt64: Int] = [:]
        /// Retried for a minute without success.
        var givenUp: Set<UInt64> = []
        /// Still being retried when the sender was stopped (never answered 200).
        var abandoned: Set<UInt64> = []
        /// Answers 429 or 503 (the agent pushing back; the span is retried).
        var pushedBack = 0
    }

    private let nextID = Atomic<UInt64>(1)
    private let state = Mutex(Tally())
    private let threads: Mutex<[LoadThread]> = Mutex([])

    var tally: Tally { state.withLock { $0 } }
    /// Every span id handed out so far (1...n).
    var issued: Range<UInt64> { 1..<nextID.load(ordering: .acquiring) }

    static func request(spanID: UInt64) -> [UInt8] {
        let id = withUnsafeBytes(of: spanID.bigEndian) { Array($0) }
        let span = OTLP.Span(
            traceID: Array(repeating: 0xF1, count: 8) + id, spanID: id, flags: 0x301,
            name: "Kustomization: flux-system/apps", kind: .internal,
            startTimeUnixNano: 1_786_525_200_000_000_000, endTimeUnixNano: 1_786_525_200_250_000_000,
            attributes: [
                .init("object.kind", "Kustomization"), .init("object.name", "apps"),
                .init("revision", "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
            ],
            status: .init(code: .ok))
        return OTLP.ExportTraceServiceRequest(resourceSpans: [
            OTLP.ResourceSpans(
                resource: OTLP.Resource(attributes: [.init("service.name", "flux-system/fluxtel")]),
                scopeSpans: [
                    OTLP.ScopeSpans(
                        scope: OTLP.InstrumentationScope(name: "flux:notification-controller"),
                        spans: [span])
                ])
        ]).serializedBytes()
    }

    /// `senders` threads, each sending one span every `1 / spansPerSecond` s (after the previous one
    /// was answered), together at most `maxSpans`, to the OTLP port `port()` names at each attempt
    /// (nil while the agent is down: like a refused connection).
    init(port: @escaping @Sendable () -> Int?, senders: Int = 1, spansPerSecond: Int, maxSpans: Int) {
        let interval = Duration.seconds(1) / spansPerSecond
        let threads = (0..<senders).map { index in
            LoadThread(name: "span-sender-\(index)") { [self] load in
                while !load.shouldStop {
                    let id = nextID.add(1, ordering: .acquiringAndReleasing).oldValue
                    guard id <= UInt64(maxSpans) else { return }
                    send(id, port: port, load: load)
                    if !load.pause(interval) { return }
                }
            }
        }
        self.threads.withLock { $0 = threads }
    }

    private func send(_ id: UInt64, port: @Sendable () -> Int?, load: LoadThread) {
        let body = Self.request(spanID: id)
        let start = ContinuousClock.now
        var backoff = Duration.seconds(1)
        while true {
            if load.shouldStop {
                state.withLock { _ = $0.abandoned.insert(id) }
                return
            }
            let response = port().flatMap { port in
                LoopbackHTTP.request(
                    port: port, method: "POST", path: "/",
                    headers: [
                        ("Content-Type", "application/x-protobuf"), ("User-Agent", "OTel OTLP Exporter Go/1.44.0"),
                    ],
                    body: body, timeoutSeconds: 10)
            }
            if let response, (200..<300).contains(response.status) {
                state.withLock { _ = $0.accepted.insert(id) }
                return
            }
            if let status = response?.status, [429, 503].contains(status) { state.withLock { $0.pushedBack += 1 } }
            if let status = response?.status, ![429, 502, 503, 504].contains(status) {
                state.withLock { $0.refused[id] = status }
                return
            }
            if ContinuousClock.now - start > .seconds(60) {
                state.withLock { _ = $0.givenUp.insert(id) }
                return
            }
            var wait = backoff
            if let after = response?.header("Retry-After").flatMap(Int.init) { wait = max(wait, .seconds(after)) }
            backoff = min(backoff * 1.5, .seconds(5))
            if !load.pause(wait) {
                state.withLock { _ = $0.abandoned.insert(id) }
                return
            }
        }
    }

    func stop() async throws {
        for thread in threads.withLock({ $0 }) { try await thread.stop(timeout: .seconds(20)) }
    }
}
