public import OTLPWire
import Synchronization

/// What `GET /status` on the telemetry address answers: per signal, the last successful export, the
/// last error and when it happened, consecutive failures; the export queue's bytes and capacity; and per
/// receiver whether it runs (with a few counts: files tailed, targets up).
///
/// `/healthz` stays process liveness and `/readyz` "listeners bound, not shutting down": restarting an
/// agent because the backend is down helps no one, so this is where an operator looks instead.
public final class StatusBoard: Sendable {
    /// One signal's export history.
    public struct Export: Sendable, Equatable {
        /// Unix nanoseconds of the last batch the backend accepted.
        public var lastSuccess: UInt64?
        public var lastError: String?
        public var lastErrorAt: UInt64?
        /// Failed or refused batches since the last success.
        public var consecutiveFailures = 0
    }

    /// A receiver's state as `/status` shows it.
    public struct Receiver: Sendable {
        public var running: Bool
        /// Counts such as `files_tailed` or `targets_up`, in order.
        public var counts: [(name: String, value: Int)]
        public init(running: Bool, counts: [(name: String, value: Int)] = []) {
            self.running = running
            self.counts = counts
        }
    }

    private struct State {
        var exports: [Signal: Export] = [:]
        var receivers: [(name: String, state: @Sendable () -> Receiver)] = []
        var queue: (@Sendable () -> (bytes: Int, capacity: Int))?
        var exportDisabled: String?
    }

    private let state = Mutex(State())

    public init() {}

    public func exportSucceeded(_ signal: Signal, at time: UInt64) {
        state.withLock {
            $0.exports[signal, default: Export()].lastSuccess = time
            $0.exports[signal, default: Export()].consecutiveFailures = 0
        }
    }

    public func exportFailed(_ signal: Signal, error: String, at time: UInt64) {
        state.withLock {
            $0.exports[signal, default: Export()].lastError = error
            $0.exports[signal, default: Export()].lastErrorAt = time
            $0.exports[signal, default: Export()].consecutiveFailures += 1
        }
    }

    public func export(_ signal: Signal) -> Export { state.withLock { $0.exports[signal] ?? Export() } }

    /// Nothing is exported (no endpoint): why.
    public func exportDisabled(_ reason: String) { state.withLock { $0.exportDisabled = reason } }

    public func register(receiver name: String, _ describe: @escaping @Sendable () -> Receiver) {
        state.withLock { $0.receivers.append((name, describe)) }
    }

    public func setQueue(_ describe: @escaping @Sendable () -> (bytes: Int, capacity: Int)) {
        state.withLock { $0.queue = describe }
    }

    /// The JSON document of `/status`.
    public func render() -> [UInt8] {
        let (exports, receivers, queue, disabled) = state.withLock {
            ($0.exports, $0.receivers, $0.queue, $0.exportDisabled)
        }
        var json = JSONText()
        json.open("{")
        json.key("export_disabled")
        if let disabled { json.string(disabled) } else { json.raw("null") }
        json.key("signals")
        json.open("{")
        for signal in Signal.allCases {
            let export = exports[signal] ?? Export()
            json.key(signal.rawValue)
            json.open("{")
            json.key("last_success_unix_nano")
            json.number(export.lastSuccess)
            json.key("last_error")
            if let error = export.lastError { json.string(error) } else { json.raw("null") }
            json.key("last_error_unix_nano")
            json.number(export.lastErrorAt)
            json.key("consecutive_failures")
            json.number(UInt64(export.consecutiveFailures))
            json.close("}")
        }
        json.close("}")
        json.key("queue")
        if let (bytes, capacity) = queue?() {
            json.open("{")
            json.key("bytes")
            json.number(UInt64(max(0, bytes)))
            json.key("capacity_bytes")
            json.number(UInt64(max(0, capacity)))
            json.close("}")
        } else {
            json.raw("null")
        }
        json.key("receivers")
        json.open("{")
        for (name, describe) in receivers {
            let receiver = describe()
            json.key(name)
            json.open("{")
            json.key("running")
            json.raw(receiver.running ? "true" : "false")
            for (count, value) in receiver.counts {
                json.key(count)
                json.number(UInt64(max(0, value)))
            }
            json.close("}")
        }
        json.close("}")
        json.close("}")
        json.bytes.append(0x0A)
        return json.bytes
    }
}

/// Just enough JSON writing for `/status` (no Foundation): objects, strings, numbers, literals.
struct JSONText {
    var bytes: [UInt8] = []
    private var needsComma = false

    mutating func open(_ bracket: StaticString) {
        separate()
        bytes.append(bracket.utf8Start.pointee)
        needsComma = false
    }

    mutating func close(_ bracket: StaticString) {
        bytes.append(bracket.utf8Start.pointee)
        needsComma = true
    }

    mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func raw(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    mutating func number(_ value: UInt64?) {
        raw(value.map { "\($0)" } ?? "null")
    }

    mutating func string(_ text: String) {
        separate()
        JSONLogHandler.appendJSONString(text, to: &bytes)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
