/// Who writes, decided as a value the way client-go's `tools/leaderelection` decides it
/// (FLUX-OBJECTS.md §9). Every `retryPeriod` the driver reads the Lease and asks ``observe(_:at:)``
/// what to write; it reports the outcome with ``wrote(at:)`` or ``writeFailed(at:)``.
/// - No Lease: create one naming us.
/// - Another holder whose record changed less than its `leaseDurationSeconds` ago **by our clock**
///   (the record's own times are not trusted, so clock skew between nodes does not matter): follow.
/// - Free (empty holder), expired, or ours: write it (acquire or renew) with the resourceVersion read;
///   a 409 Conflict means someone else won this round.
/// - A leader that has not renewed within `renewDeadline` stops leading (before its lease runs out).
public struct LeaseElectionStateMachine: Sendable {
    public struct Timing: Sendable, Equatable {
        public var leaseDuration: Duration
        public var renewDeadline: Duration
        public var retryPeriod: Duration

        /// client-go's and controller-runtime's defaults: 15 s, 10 s, 2 s.
        public init(
            leaseDuration: Duration = .seconds(15), renewDeadline: Duration = .seconds(10),
            retryPeriod: Duration = .seconds(2)
        ) {
            self.leaseDuration = leaseDuration
            self.renewDeadline = renewDeadline
            self.retryPeriod = retryPeriod
        }

        /// client-go's rule: `leaseDuration > renewDeadline > 1.2 × retryPeriod`.
        public var isValid: Bool { leaseDuration > renewDeadline && renewDeadline > retryPeriod * 1.2 }
    }

    public enum Decision: Sendable, Equatable {
        /// No Lease yet: POST one naming us (`leaseTransitions: 0`).
        case create
        /// Free or expired: PUT us as holder, `acquireTime = renewTime = now`, `leaseTransitions + 1`.
        case acquire
        /// Ours: PUT `renewTime = now`.
        case renew
        /// Another holder's live Lease: write nothing this round.
        case follow(holder: String)
    }

    public let identity: String
    public let timing: Timing
    private var observed: LeaseRecord?
    private var observedAt: ContinuousClock.Instant?
    private var lastWrite: ContinuousClock.Instant?

    public init(identity: String, timing: Timing = Timing()) {
        self.identity = identity
        self.timing = timing
    }

    /// What to do with the Lease just read (nil: there is none).
    public mutating func observe(_ record: LeaseRecord?, at now: ContinuousClock.Instant) -> Decision {
        guard let record else { return .create }
        if record != observed {
            observed = record
            observedAt = now
        }
        if record.holder == identity { return .renew }
        lastWrite = nil  // the Lease names someone else (or no one): we do not lead
        if !record.holder.isEmpty, let observedAt,
            observedAt.duration(to: now) < .seconds(max(record.leaseDurationSeconds, 0))
        {
            return .follow(holder: record.holder)
        }
        return .acquire
    }

    /// Our create or update was accepted: we lead, as of `now`.
    public mutating func wrote(at now: ContinuousClock.Instant) {
        lastWrite = now
    }

    /// Our write failed (409 Conflict, or any error): leadership ends once `renewDeadline` has passed since
    /// the last accepted write; a candidate stays one.
    public mutating func writeFailed(at now: ContinuousClock.Instant) {
        if let lastWrite, lastWrite.duration(to: now) >= timing.renewDeadline { self.lastWrite = nil }
    }

    /// Whether to emit now: a write of ours was accepted less than `renewDeadline` ago.
    public func isLeading(at now: ContinuousClock.Instant) -> Bool {
        guard let lastWrite else { return false }
        return lastWrite.duration(to: now) < timing.renewDeadline
    }

    /// We stopped (shutdown): no longer leading. Release the Lease by writing holder `""` and
    /// `leaseDurationSeconds: 1`, so the others take over at once.
    public mutating func released() {
        lastWrite = nil
    }
}
