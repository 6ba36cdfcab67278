public import OTLPWire
public import Pipeline
import Synchronization

/// A log record as an exporter received it, with its resource's attributes.
public struct ExportedLogRecord: Sendable {
    public var record: OTLP.LogRecord
    public var resource: [OTLP.KeyValue]
    public init(record: OTLP.LogRecord, resource: [OTLP.KeyValue]) {
        self.record = record
        self.resource = resource
    }
    /// The body when it is a string, else "".
    public var body: String { if case .string(let s) = record.body { s } else { "" } }
    public func attribute(_ key: String) -> OTLP.AnyValue? { record.attributes.first { $0.key == key }?.value }
    /// The `n` attribute of the numbered test lines.
    public var number: Int? { if case .int(let n) = attribute("n") { Int(n) } else { nil } }
}

/// The one recording `BatchExporter` of the test suites. Tests *await* what it received
/// (``waitForBatches(_:within:)``, ``waitForItems(atLeast:within:)``, ``waitUntil(_:within:_:)``):
/// every `export` resumes the waiters whose condition now holds, nothing polls. Each wait fails with
/// `HangError` after its hang bound (60 s by default, scaled by `FLUXTEL_TEST_TIME_SCALE`).
///
/// Scriptable like a backend: ``pause()`` holds every export until ``resume()`` (or until the
/// export's task is cancelled: then `.failed`); `failFirst` answers `.failed` to the first batches
/// without recording them (retries exhausted); `outcomes` are returned, in order, for the batches
/// recorded (then `.exported`); `pauseAfter` pauses once that many batches were recorded. With
/// `decodesLogs` every logs batch is decoded as the backend would (into ``records``); a batch that
/// does not decode is answered `.rejected` and counted in ``undecodable``.
public final class RecordingExporter: BatchExporter {
    /// What was received so far; what a ``waitUntil(_:within:_:)`` condition looks at.
    public struct Recorded: Sendable {
        /// Recorded batches (not those answered by `failFirst`), in the order their `export` ran.
        public internal(set) var batches: [ExportBatch] = []
        /// Decoded log records (with `decodesLogs`).
        public internal(set) var records: [ExportedLogRecord] = []
        /// Sum of the recorded batches' `itemCount`.
        public internal(set) var items = 0
        /// Sum of the recorded batches' body sizes.
        public internal(set) var bytes = 0
        /// `export` calls so far, including those held by a pause, failed or still running.
        public internal(set) var calls = 0
        /// Exports currently held by a pause.
        public internal(set) var held = 0
        /// Logs batches that did not decode.
        public internal(set) var undecodable = 0
    }

    private struct State: ~Copyable {
        var recorded = Recorded()
        var failuresLeft: Int
        var outcomes: [DeliveryOutcome]
        var paused: Bool
        var pauseAfter: Int?
        var heldExports: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextHeldID: UInt64 = 0
        var waiters = ConditionWaiters<Recorded>()
    }

    public let name: String
    private let decodesLogs: Bool
    private let state: Mutex<State>

    public init(
        name: String = "recording", decodesLogs: Bool = false, failFirst: Int = 0, outcomes: [DeliveryOutcome] = [],
        paused: Bool = false, pauseAfter: Int? = nil
    ) {
        self.name = name
        self.decodesLogs = decodesLogs
        state = Mutex(State(failuresLeft: failFirst, outcomes: outcomes, paused: paused, pauseAfter: pauseAfter))
    }

    // MARK: what was received

    public var recorded: Recorded { state.withLock { $0.recorded } }
    public var batches: [ExportBatch] { recorded.batches }
    public var batchCount: Int { state.withLock { $0.recorded.batches.count } }
    public var items: Int { state.withLock { $0.recorded.items } }
    public var bytes: Int { state.withLock { $0.recorded.bytes } }
    public var records: [ExportedLogRecord] { state.withLock { $0.recorded.records } }
    /// Decoded log records so far.
    public var count: Int { state.withLock { $0.recorded.records.count } }
    public var calls: Int { state.withLock { $0.recorded.calls } }
    public var held: Int { state.withLock { $0.recorded.held } }
    public var undecodable: Int { state.withLock { $0.recorded.undecodable } }

    // MARK: script

    /// Holds every export from now on until ``resume()``.
    public func pause() { state.withLock { $0.paused = true } }

    /// `pause()` or `resume()`.
    public func pause(_ paused: Bool) { if paused { pause() } else { resume() } }

    /// Lets held and future exports through.
    public func resume() {
        let held: [CheckedContinuation<Bool, Never>] = state.withLock { state in
            state.paused = false
            state.pauseAfter = nil
            defer { state.heldExports.removeAll() }
            return Array(state.heldExports.values)
        }
        for export in held { export.resume(returning: true) }
    }

    // MARK: waiting (no polling: `export` resumes the waiters)

    /// Waits until `condition` holds for what was received, at most `timeout` (scaled).
    public func waitUntil(
        _ what: @autoclosure @escaping @Sendable () -> String = "condition", within timeout: Duration = .seconds(60),
        _ condition: @escaping @Sendable (Recorded) -> Bool
    ) async throws {
        try await waitBounded(
            { [self] in
                let r = recorded
                return "exporter: \(what()) did not happen (\(r.batches.count) batches, \(r.items) items, "
                    + "\(r.records.count) records, \(r.calls) calls, \(r.held) held)"
            },
            within: timeout,
            makeID: { state.withLock { $0.waiters.makeID() } },
            register: { id, continuation in
                state.withLock { state in
                    if condition(state.recorded) { return true }
                    state.waiters.add(id, condition, continuation)
                    return false
                }
            },
            remove: { [self] id in state.withLock { $0.waiters.remove(id) } })
    }

    /// Waits until at least `count` batches were recorded.
    public func waitForBatches(_ count: Int, within timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("\(count) batches", within: timeout) { $0.batches.count >= count }
    }

    /// Waits until the recorded batches hold at least `count` items.
    public func waitForItems(atLeast count: Int, within timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("\(count) items", within: timeout) { $0.items >= count }
    }

    /// Waits until at least `count` log records were decoded.
    public func waitForRecords(atLeast count: Int, within timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("\(count) log records", within: timeout) { $0.records.count >= count }
    }

    /// Waits until `count` exports are held by the pause (they reached the exporter).
    public func waitForHeld(_ count: Int, within timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("\(count) held exports", within: timeout) { $0.held >= count }
    }

    // MARK: BatchExporter

    public func export(_ batch: ExportBatch) async -> DeliveryOutcome {
        let heldID: UInt64? = update { state in
            state.recorded.calls += 1
            if let after = state.pauseAfter, state.recorded.batches.count >= after { state.paused = true }
            guard state.paused else { return nil }
            state.nextHeldID &+= 1
            state.recorded.held += 1
            return state.nextHeldID
        }
        if let heldID {
            let goOn = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                    let now: Bool? = state.withLock { state in
                        if !state.paused { return true }
                        if Task.isCancelled { return false }
                        state.heldExports[heldID] = continuation
                        return nil
                    }
                    if let now { continuation.resume(returning: now) }
                }
            } onCancel: {
                state.withLock { $0.heldExports.removeValue(forKey: heldID) }?.resume(returning: false)
            }
            update { $0.recorded.held -= 1 }
            if !goOn { return .failed }
        }
        let fail: Bool = state.withLock { state in
            guard state.failuresLeft > 0 else { return false }
            state.failuresLeft -= 1
            return true
        }
        if fail { return .failed }

        var decoded: [ExportedLogRecord] = []
        var undecodable = false
        if decodesLogs, batch.signal == .logs {
            if let request = try? OTLP.ExportLogsServiceRequest(decoding: batch.body) {
                for resourceLogs in request.resourceLogs {
                    let resource = resourceLogs.resource?.attributes ?? []
                    for scope in resourceLogs.scopeLogs {
                        for record in scope.logRecords {
                            decoded.append(ExportedLogRecord(record: record, resource: resource))
                        }
                    }
                }
            } else {
                undecodable = true
            }
        }
        return update { state in
            if undecodable {
                state.recorded.undecodable += 1
                return .rejected
            }
            state.recorded.batches.append(batch)
            state.recorded.records.append(contentsOf: decoded)
            state.recorded.items += batch.itemCount
            state.recorded.bytes += batch.body.count
            return state.outcomes.isEmpty ? .exported : state.outcomes.removeFirst()
        }
    }

    public func shutdown() async {}

    /// Changes the state and resumes the waiters whose condition now holds.
    private func update<T: Sendable>(_ change: (inout State) -> T) -> T {
        let (result, woken) = state.withLock { state in
            let result = change(&state)
            return (result, state.waiters.takeSatisfied(state.recorded))
        }
        for waiter in woken { waiter.resume() }
        return result
    }
}
