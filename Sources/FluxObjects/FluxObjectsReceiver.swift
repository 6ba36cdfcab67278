public import FluxtelConfig
public import Kubernetes
public import Logging
import OTLPJSON
import OTLPWire
public import Pipeline
public import Processors
public import ServiceLifecycle
import Synchronization

/// `receivers.flux_objects`: lists, then watches, every Flux kind the API server serves (and Flux's
/// Events), keeps what the signals need in a `FluxObjectStore`, and, while this agent leads (one writer
/// per cluster), writes the resource-state metrics every `interval` and each Event once as a log record.
/// Agents that do not lead keep their watches warm, so a new leader writes at once.
public final class FluxObjectsReceiver: ServiceLifecycle.Service, Sendable {
    struct State {
        var store = FluxObjectStore()
        var dedupe = EventDeduplicator()
        /// Event records waiting for the next write.
        var pendingEvents: [OTLP.LogRecord] = []
        /// Event records seen while no agent was known to lead (at start, while a dead leader's Lease runs
        /// out): sent if this agent wins, dropped once another agent is seen leading. Bounded.
        var unsent: [OTLP.LogRecord] = []
        var running = false
        /// `Kind.group` of every kind being watched.
        var watched: Set<String> = []
        /// Collections not listed yet: the first state write waits for all of them (no half picture).
        var unlisted: Set<String> = []
        /// A state write is due before the next interval: the first lists are in.
        var stateDue = false
        /// Every collection has listed once: no state is written before (it would be a partial picture,
        /// and the objects not yet listed would look deleted).
        var synced = false
    }

    let config: FluxObjectsConfiguration
    let client: KubernetesClient
    /// Where the records and points go: `Pipeline.submit` (waits while the queue is full).
    let sink: @Sendable (TelemetryChunk) async throws -> Void
    public let elector: LeaderElector?
    /// Told every object the watches see (issue 18: trace ids on logs, the span tree); nil without.
    let correlation: FluxCorrelation?
    let rules: ResourceStateRules
    let encoder: ResourceStateEncoder
    let clock: TimerClock
    let logger: Logger
    private let state = Mutex(State())
    /// Wakes the writer early (a new leader writes at once; events do not wait a whole interval).
    private let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))

    public init(
        config: FluxObjectsConfiguration, client: KubernetesClient,
        sink: @escaping @Sendable (TelemetryChunk) async throws -> Void,
        environment: [String: String], clock: TimerClock = .continuous, logger: Logger, version: String,
        correlation: FluxCorrelation? = nil, onLeadershipChange: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.config = config
        self.correlation = correlation
        self.client = client
        self.sink = sink
        self.clock = clock
        var logger = logger
        logger[metadataKey: "component"] = "flux_objects"
        self.logger = logger
        rules = ResourceStateRules(config.resourceMetrics)
        encoder = ResourceStateEncoder(rules: rules, version: version)
        if config.leaderElection.enabled {
            let namespace = Self.leaseNamespace(config.leaderElection, environment: environment)
            let identity =
                (environment["POD_NAME"] ?? "fluxtel") + "_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            let wake = self.wake.continuation
            elector = LeaderElector(
                client: client, config: config.leaderElection, namespace: namespace, identity: identity, clock: clock,
                logger: logger,
                onChange: { leading in
                    onLeadershipChange(leading)
                    if leading { wake.yield() }
                })
        } else {
            elector = nil
            onLeadershipChange(true)  // the only writer
        }
    }

    /// `lease_namespace`, else `POD_NAMESPACE`, else the service account's namespace file, else `default`.
    static func leaseNamespace(_ config: LeaderElectionConfiguration, environment: [String: String]) -> String {
        if !config.leaseNamespace.isEmpty { return config.leaseNamespace }
        if let namespace = environment["POD_NAMESPACE"], !namespace.isEmpty { return namespace }
        if let bytes = readSmallFile(KubernetesEndpoint.serviceAccountDirectory + "/namespace"),
            let text = String(validating: bytes, as: UTF8.self)?.trimmingWhitespace(), !text.isEmpty
        {
            return text
        }
        return "default"
    }

    /// Whether this agent writes: it leads, or leader election is off.
    public var isLeading: Bool { elector?.isLeading ?? true }

    /// For `/status`: whether it runs, the objects it holds and the kinds it watches.
    public var status: (running: Bool, objects: Int, kinds: Int) {
        state.withLock { ($0.running, $0.store.count, $0.watched.count) }
    }

    /// How many objects the watches hold (tests, `/status`).
    public var objectCount: Int { state.withLock { $0.store.count } }

    /// The `Ready` status of the object called `name` (tests).
    public func ready(of name: String) -> String? {
        state.withLock { $0.store.objects.values.first { $0.identity.name == name }?.ready }
    }

    public func run() async throws {
        state.withLock { $0.running = true }
        defer { state.withLock { $0.running = false } }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.watchObjects() }
                if self.config.events { group.addTask { await self.watchEvents() } }
                if let elector = self.elector { group.addTask { await elector.run() } }
                group.addTask { await self.writeLoop() }
            }
        }
        await client.shutdown()
    }

    // MARK: watching

    /// Finds the served version of each Flux group, then watches every configured kind it serves.
    func watchObjects() async {
        var kinds: [(FluxKind, String)] = []
        while !Task.isCancelled {
            do {
                kinds = try await servedKinds()
                break
            } catch {
                logger.warning("cannot discover the Flux API groups; retrying", metadata: ["error": "\(error)"])
                do { try await clock.sleep(for: .seconds(5)) } catch { return }
            }
        }
        if kinds.isEmpty { logger.warning("the API server serves none of the configured Flux kinds") }
        let namespaces = config.namespaces.isEmpty ? [""] : config.namespaces
        state.withLock { state in
            for (kind, version) in kinds {
                for namespace in namespaces {
                    state.unlisted.insert(path(kind, version: version, namespace: namespace))
                }
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for (kind, version) in kinds {
                for namespace in namespaces {
                    group.addTask { await self.watch(kind, version: version, namespace: namespace) }
                }
            }
        }
    }

    /// The configured kinds the server serves, each at the first version of its group that serves it, the
    /// preferred one first (in Flux 2.9 the notification group prefers `v1`, which serves Receivers, while
    /// Alerts and Providers are `v1beta3`). A group that is not installed (404) or a kind none of its
    /// versions serves is left out, and said once.
    func servedKinds() async throws -> [(FluxKind, String)] {
        var result: [(FluxKind, String)] = []
        let wanted = FluxKind.all.filter { config.kinds.isEmpty || config.kinds.contains($0.kind) }
        for group in FluxKind.groups where wanted.contains(where: { $0.group == group }) {
            guard let served = try await client.servedVersions(group: group) else {
                logger.info("Flux API group not installed", metadata: ["group": "\(group)"])
                continue
            }
            let versions = [served.preferred] + served.versions.filter { $0 != served.preferred }
            for kind in wanted where kind.group == group {
                var found: String?
                for version in versions where try await client.serves(path: path(kind, version: version, namespace: ""))
                {
                    found = version
                    break
                }
                if let found {
                    result.append((kind, found))
                } else {
                    logger.info("Flux kind not served", metadata: ["kind": "\(kind)"])
                }
            }
        }
        state.withLock { $0.watched = Set(result.map { "\($0.0)" }) }
        return result
    }

    func path(_ kind: FluxKind, version: String, namespace: String) -> String {
        let scope = namespace.isEmpty ? "" : "/namespaces/\(namespace)"
        return "/apis/\(kind.group)/\(version)\(scope)/\(kind.resource)"
    }

    func watch(_ kind: FluxKind, version: String, namespace: String) async {
        let collection = path(kind, version: version, namespace: namespace)
        // Page by page: only what the signals need of each object is kept, never the whole list decoded.
        let listWatch = ListWatch(client: client, path: collection, pages: true, clock: clock, logger: logger)
        var listing: [FluxObject] = []
        await listWatch.run { update in
            let rules = self.rules
            switch update {
            case .page(let items, let first):
                if first { listing = [] }
                let objects = items.compactMap { FluxObject($0, kind: kind, version: version, rules: rules) }
                if objects.count < items.count { skipped(items.count - objects.count, of: kind, in: collection) }
                listing += objects
            case .listed:
                let objects = listing
                listing = []
                // The correlation learns objects before the store counts them: whoever sees `objectCount`
                // (tests, `/status`) may rely on the trace ids of their lines.
                correlation?.upsert(objects.map(\.correlated))
                let (synced, gone) = state.withLock { state in
                    let gone = state.store.replace(kind: kind, namespace: namespace, with: objects)
                    guard state.unlisted.remove(collection) != nil, state.unlisted.isEmpty else { return (false, gone) }
                    state.synced = true
                    state.stateDue = true
                    return (true, gone)
                }
                correlation?.delete(uids: gone)
                if synced { wake.continuation.yield() }
            case .event(let event):
                guard let object = FluxObject(event.object, kind: kind, version: version, rules: rules) else {
                    return skipped(1, of: kind, in: collection)
                }
                if event.type == .deleted {
                    correlation?.delete(uids: [object.identity.uid])
                } else {
                    correlation?.upsert([object.correlated])
                }
                state.withLock { state in
                    if event.type == .deleted {
                        state.store.delete(uid: object.identity.uid)
                    } else {
                        state.store.upsert(object)
                    }
                }
            }
        }
    }

    /// Items of a list or watch that are not objects of `kind` (no name or uid, another kind) are left out.
    func skipped(_ count: Int, of kind: FluxKind, in collection: String) {
        logger.warning(
            "Kubernetes API answer holds items that are not \(kind.kind) objects; left out",
            metadata: ["k8s.api.path": "\(collection)", "items": "\(count)"])
    }

    /// Flux's Kubernetes Events (`events.k8s.io/v1`), each occurrence once.
    func watchEvents() async {
        await withTaskGroup(of: Void.self) { group in
            for namespace in config.namespaces.isEmpty ? [""] : config.namespaces {
                group.addTask {
                    let scope = namespace.isEmpty ? "" : "/namespaces/\(namespace)"
                    let events = ListWatch(
                        client: self.client, path: "/apis/events.k8s.io/v1\(scope)/events", pages: true,
                        clock: self.clock, logger: self.logger)
                    await events.run { update in
                        switch update {
                        case .page(let items, _): self.received(items)
                        case .listed: break
                        case .event(let event):
                            if event.type == .deleted {
                                if let uid = event.object["metadata"]?["uid"]?.string {
                                    self.state.withLock { $0.dedupe.forget(uid: uid) }
                                }
                            } else {
                                self.received([event.object])
                            }
                        }
                    }
                }
            }
        }
    }

    /// New occurrences become records when this agent leads. An agent that follows a live leader only
    /// remembers them, so that it never sends what the leader sent; one that knows of no leader (at start,
    /// or once a dead leader's Lease ran out) keeps them, and sends them if it wins. An Event that happens
    /// while a dead leader's Lease still runs (at most one lease duration) is not sent.
    func received(_ objects: [JSONValue]) {
        let leading = isLeading
        let followed = elector?.followsLiveLeader ?? false
        let now = Timestamp.now()
        var added = false
        state.withLock { state in
            if followed { state.unsent.removeAll() }
            for object in objects {
                guard let event = FluxEvent(object), state.dedupe.shouldSend(uid: event.uid, count: event.count)
                else { continue }
                if leading {
                    state.pendingEvents.append(event.logRecord(observedAt: now))
                    added = true
                } else if !followed, state.unsent.count < Self.maxUnsent {
                    state.unsent.append(event.logRecord(observedAt: now))
                }
            }
        }
        if added { wake.continuation.yield() }
    }

    /// At most this many records wait for an election.
    static let maxUnsent = 10_000

    // MARK: writing

    enum Tick { case interval, wake }

    /// Writes the resource state every `interval`, and at once when it is due early (the first lists are
    /// in, leadership was just won); writes waiting Event records whenever woken.
    func writeLoop() async {
        let (ticks, tick) = AsyncStream<Tick>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.wake.stream { tick.yield(.wake) }
            }
            group.addTask {
                while true {
                    do { try await self.clock.sleep(for: self.config.interval) } catch { break }
                    tick.yield(.interval)
                }
                tick.finish()
            }
            // Without leader election this agent always writes: nothing to win.
            var wasLeading = elector == nil
            for await reason in ticks {
                if Task.isCancelled { break }
                await writeEvents()
                let due = state.withLock { state in
                    defer { state.stateDue = false }
                    return state.stateDue
                }
                // A new leader writes at once (it kept its watches warm while it followed).
                let leading = isLeading
                let wonLeadership = leading && !wasLeading
                wasLeading = leading
                if wonLeadership {
                    state.withLock { state in
                        state.pendingEvents.insert(contentsOf: state.unsent, at: 0)
                        state.unsent = []
                    }
                    await writeEvents()
                } else if elector?.followsLiveLeader == true {
                    state.withLock { $0.unsent = [] }
                }
                if reason == .interval || due || wonLeadership { await writeState() }
            }
            group.cancelAll()
        }
    }

    /// The resource-state snapshot: points while leading; a standby only drains the ended series.
    func writeState() async {
        let leading = isLeading
        guard state.withLock({ $0.synced }) else { return }
        let (objects, ended) = state.withLock { $0.store.snapshot() }
        guard leading, !objects.isEmpty || !ended.isEmpty else { return }
        let (body, points) = encoder.encode(objects: objects, ended: ended, now: Timestamp.now())
        await submit(TelemetryChunk(signal: .metrics, bytes: body, itemCount: points))
    }

    func writeEvents() async {
        let records = state.withLock { state in
            defer { state.pendingEvents = [] }
            return state.pendingEvents
        }
        guard !records.isEmpty else { return }
        let request = OTLP.ExportLogsServiceRequest(resourceLogs: [
            OTLP.ResourceLogs(scopeLogs: [
                OTLP.ScopeLogs(
                    scope: OTLP.InstrumentationScope(name: ResourceStateEncoder.scopeName, version: encoder.version),
                    logRecords: records)
            ])
        ])
        await submit(TelemetryChunk(signal: .logs, bytes: request.serializedBytes(), itemCount: records.count))
    }

    func submit(_ chunk: TelemetryChunk) async {
        do {
            try await sink(chunk)
        } catch {
            logger.debug("pipeline closed; flux object data not handed over", metadata: ["items": "\(chunk.itemCount)"])
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
