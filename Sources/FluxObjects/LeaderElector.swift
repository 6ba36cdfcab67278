public import FluxtelConfig
import Kubernetes
public import Logging
import OTLPJSON
import OTLPWire
public import Pipeline
import Synchronization

/// Drives `LeaseElectionStateMachine` against the API (client-go's loop): every `retry_period` read the
/// Lease, write it when the machine says so, and tell whoever asks whether this agent leads now. On
/// shutdown a leader releases the Lease (empty holder, 1 s), so another agent takes over at once.
public final class LeaderElector: Sendable {
    let client: KubernetesClient
    let namespace: String
    let name: String
    public let identity: String
    let retryPeriod: Duration
    let clock: TimerClock
    let logger: Logger
    private let machine: Mutex<LeaseElectionStateMachine>
    /// Whether the last round saw another agent's live Lease (it writes now).
    private let followingLiveLeader = Mutex(false)
    private let onChange: @Sendable (Bool) -> Void

    public init(
        client: KubernetesClient, config: LeaderElectionConfiguration, namespace: String, identity: String,
        clock: TimerClock = .continuous, logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.client = client
        self.namespace = namespace
        self.name = config.leaseName
        self.identity = identity
        self.retryPeriod = config.retryPeriod
        self.clock = clock
        self.logger = logger
        self.onChange = onChange
        machine = Mutex(
            LeaseElectionStateMachine(
                identity: identity,
                timing: .init(
                    leaseDuration: config.leaseDuration, renewDeadline: config.renewDeadline,
                    retryPeriod: config.retryPeriod)))
    }

    /// Whether this agent may write now (a renewal was accepted less than `renew_deadline` ago).
    public var isLeading: Bool { machine.withLock { $0.isLeading(at: clock.now()) } }

    /// Whether another agent leads: its Lease was live at the last round. False before the first round,
    /// and while nobody leads (no Lease, an expired or released one).
    public var followsLiveLeader: Bool { followingLiveLeader.withLock { $0 } }

    /// Runs rounds until cancelled, then releases the Lease if it leads.
    public func run() async {
        var leading = false
        while !Task.isCancelled {
            await round()
            let now = isLeading
            if now != leading {
                leading = now
                logger.info(
                    now ? "leading: this agent writes Flux object state and events" : "not leading",
                    metadata: ["lease": "\(namespace)/\(name)", "identity": "\(identity)"])
                onChange(now)
            }
            // client-go's wait.JitterUntil: retry period plus up to 1.2 × of it.
            let jitter = Duration.milliseconds(
                Int64(Double(retryPeriod.components.seconds * 1000) * 1.2 * Double.random(in: 0..<1)))
            do { try await clock.sleep(for: (leading ? retryPeriod : retryPeriod + jitter)) } catch { break }
        }
        // The task is cancelled by now, and a cancelled task's requests fail at once: release from a fresh one.
        if leading { await Task { await self.release() }.value }
        onChange(false)
    }

    /// One read-decide-write round.
    func round() async {
        let lease: JSONValue?
        do {
            lease = try await client.getLease(namespace: namespace, name: name)
        } catch {
            machine.withLock { $0.writeFailed(at: clock.now()) }
            logger.warning(
                "cannot read the leader Lease", metadata: ["lease": "\(namespace)/\(name)", "error": "\(error)"])
            return
        }
        let decision = machine.withLock { $0.observe(lease.map(LeaseRecord.init(lease:)), at: clock.now()) }
        followingLiveLeader.withLock {
            if case .follow = decision { $0 = true } else { $0 = false }
        }
        let now = Self.microTime(Timestamp.now())
        do {
            switch decision {
            case .follow:
                return
            case .create:
                _ = try await client.createLease(
                    namespace: namespace,
                    .object([
                        "metadata": .object(["name": .string(name)]),
                        "spec": spec(acquireTime: now, renewTime: now, transitions: 0),
                    ]))
            case .acquire, .renew:
                guard var lease else { return }
                let old = LeaseRecord(lease: lease)
                let transitions = old.holder == identity ? old.transitions : old.transitions + 1
                let acquireTime =
                    decision == .renew ? (lease["spec"]?["acquireTime"]?.string ?? now) : now
                lease["spec"] = spec(acquireTime: acquireTime, renewTime: now, transitions: transitions)
                _ = try await client.updateLease(namespace: namespace, lease)
            }
            machine.withLock { $0.wrote(at: clock.now()) }
        } catch {
            machine.withLock { $0.writeFailed(at: clock.now()) }
            if case KubernetesError.conflict = error { return }  // someone else won this round
            logger.warning(
                "cannot write the leader Lease", metadata: ["lease": "\(namespace)/\(name)", "error": "\(error)"])
        }
    }

    func spec(acquireTime: String, renewTime: String, transitions: Int) -> JSONValue {
        .object([
            "holderIdentity": .string(identity),
            "leaseDurationSeconds": .number(Double(machine.withLock { $0.timing.leaseDuration.components.seconds })),
            "acquireTime": .string(acquireTime), "renewTime": .string(renewTime),
            "leaseTransitions": .number(Double(transitions)),
        ])
    }

    /// Gives the Lease up (client-go's ReleaseOnCancel): holder `""`, `leaseDurationSeconds: 1`.
    func release() async {
        machine.withLock { $0.released() }
        guard var lease = try? await client.getLease(namespace: namespace, name: name),
            LeaseRecord(lease: lease).holder == identity
        else { return }
        let now = Self.microTime(Timestamp.now())
        lease["spec"] = .object([
            "holderIdentity": .string(""), "leaseDurationSeconds": .number(1), "acquireTime": .string(now),
            "renewTime": .string(now), "leaseTransitions": lease["spec"]?["leaseTransitions"] ?? .number(0),
        ])
        _ = try? await client.updateLease(namespace: namespace, lease)
    }

    /// A `metav1.MicroTime`: RFC 3339 with six fractional digits, UTC.
    static func microTime(_ nanos: UInt64) -> String {
        let seconds = Int(nanos / 1_000_000_000)
        let micros = Int(nanos % 1_000_000_000) / 1000
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        let (year, month, day) = Timestamp.civilFromDays(days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))Z"
    }
}
