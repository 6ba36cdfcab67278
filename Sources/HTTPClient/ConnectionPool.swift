import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// One keep-alive connection: its channel and its (event-loop bound) handler.
final class Connection: Sendable {
    let id: Int
    let key: HTTPURL.PoolKey
    let channel: any Channel
    let handler: NIOLoopBound<HTTPConnectionHandler>

    init(id: Int, key: HTTPURL.PoolKey, channel: any Channel, handler: NIOLoopBound<HTTPConnectionHandler>) {
        self.id = id
        self.key = key
        self.channel = channel
        self.handler = handler
    }

    /// Runs `task` on this connection. Cancelling the calling task closes the connection.
    func run(_ task: RequestTask) async throws -> HTTPResponse {
        let handler = self.handler
        let eventLoop = channel.eventLoop
        return try await withTaskCancellationHandler {
            eventLoop.execute { handler.value.start(task) }
            return try await task.promise.futureResult.get()
        } onCancel: {
            eventLoop.execute { handler.value.cancel(task.id) }
        }
    }
}

extension HTTPURL {
    struct PoolKey: Hashable, Sendable {
        let scheme: Scheme
        let host: String
        let port: Int
    }

    var poolKey: PoolKey { PoolKey(scheme: scheme, host: host, port: port) }
}

/// Keep-alive connections per scheme/host/port, at most `maxConnectionsPerHost` each (busy and idle
/// together); a request beyond that waits for a connection to come back or to close.
final class ConnectionPool: Sendable {
    private enum Grant {
        case reuse(Connection)
        case create
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Grant, any Error>
    }

    private struct Host {
        var idle: [Connection] = []
        var count = 0
        var waiters: [Waiter] = []
    }

    private struct State {
        var hosts: [HTTPURL.PoolKey: Host] = [:]
        var open: [Int: Connection] = [:]
        var nextID = 0
        var shutDown = false
    }

    private let state = Mutex(State())
    private let group: any EventLoopGroup
    private let configuration: HTTPClient.Configuration
    private let tls: TLSContextCache

    init(group: any EventLoopGroup, configuration: HTTPClient.Configuration) {
        self.group = group
        self.configuration = configuration
        self.tls = TLSContextCache(configuration: configuration.tls)
    }

    /// A connection to `url`'s host: an idle one (`reused`), a new one, or one handed back while waiting.
    func acquire(_ url: HTTPURL, deadline: NIODeadline) async throws -> (connection: Connection, reused: Bool) {
        let key = url.poolKey
        let immediate: Grant? = try state.withLock { state in
            guard !state.shutDown else { throw HTTPClientError(.shutDown, "the HTTP client is shut down") }
            var host = state.hosts[key, default: Host()]
            defer { state.hosts[key] = host }
            while let connection = host.idle.popLast() {
                if connection.channel.isActive { return .reuse(connection) }
            }
            if host.count < configuration.maxConnectionsPerHost {
                host.count += 1
                return .create
            }
            return nil
        }
        let grant: Grant
        if let immediate { grant = immediate } else { grant = try await wait(for: key, deadline: deadline) }
        switch grant {
        case .reuse(let connection):
            return (connection, true)
        case .create:
            do {
                return (try await connect(url, deadline: deadline), false)
            } catch {
                slotFreed(key)
                throw error
            }
        }
    }

    /// Called by a connection's handler when its request is done.
    func release(_ connection: Connection, reusable: Bool) {
        guard reusable else { return }  // it closes; `closed` frees the slot
        let waiter: Waiter? = state.withLock { state in
            guard !state.shutDown, state.open[connection.id] != nil else { return nil }
            if state.hosts[connection.key]?.waiters.isEmpty == false {
                return state.hosts[connection.key]?.waiters.removeFirst()
            }
            state.hosts[connection.key]?.idle.append(connection)
            return nil
        }
        waiter?.continuation.resume(returning: .reuse(connection))
    }

    func shutdown() async {
        let (connections, waiters) = state.withLock { state in
            state.shutDown = true
            let waiters = state.hosts.values.flatMap(\.waiters)
            for key in state.hosts.keys { state.hosts[key]?.waiters = [] }
            return (Array(state.open.values), waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: HTTPClientError(.shutDown, "the HTTP client is shut down"))
        }
        for connection in connections {
            try? await connection.channel.close()
        }
    }

    // MARK: internals

    private func wait(for key: HTTPURL.PoolKey, deadline: NIODeadline) async throws -> Grant {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        let timer = group.any().scheduleTask(deadline: deadline) {
            self.removeWaiter(id, key: key)?.resume(
                throwing: HTTPClientError(.deadlineExceeded, "no free connection by the deadline"))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let failure: (any Error)? = state.withLock { state in
                    if state.shutDown { return HTTPClientError(.shutDown, "the HTTP client is shut down") }
                    if Task.isCancelled { return CancellationError() }
                    state.hosts[key, default: Host()].waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            self.removeWaiter(id, key: key)?.resume(throwing: CancellationError())
        }
    }

    private func removeWaiter(_ id: Int, key: HTTPURL.PoolKey) -> CheckedContinuation<Grant, any Error>? {
        state.withLock { state in
            guard let index = state.hosts[key]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.hosts[key]?.waiters.remove(at: index).continuation
        }
    }

    /// A connection slot of `key` is free again: hand it to the first waiter, if any.
    private func slotFreed(_ key: HTTPURL.PoolKey) {
        let waiter: Waiter? = state.withLock { state in
            guard var host = state.hosts[key] else { return nil }
            defer { state.hosts[key] = host }
            if !host.waiters.isEmpty { return host.waiters.removeFirst() }  // the slot passes on
            host.count -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .create)
    }

    private func closed(_ connection: Connection) {
        let wasOpen = state.withLock { state in
            state.hosts[connection.key]?.idle.removeAll { $0.id == connection.id }
            return state.open.removeValue(forKey: connection.id) != nil
        }
        if wasOpen { slotFreed(connection.key) }
    }

    private func connect(_ url: HTTPURL, deadline: NIODeadline) async throws -> Connection {
        let connectTimeout = min(TimeAmount(configuration.connectTimeout), deadline - .now())
        guard connectTimeout > .zero else {
            throw HTTPClientError(.deadlineExceeded, "no time left to connect to \(url.hostHeader)")
        }
        let sslContext = url.scheme == .https ? try tls.context() : nil
        let serverHostname = url.hostIsIPAddress ? nil : url.host
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        // The channels being opened (happy eyeballs may try several) and their handlers.
        let opened = Mutex<[ObjectIdentifier: (channel: any Channel, handler: NIOLoopBound<HTTPConnectionHandler>)]>([:]
        )
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let ssl = try NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        try channel.pipeline.syncOperations.addHandler(ssl)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    let handler = HTTPConnectionHandler(idleTimeout: idleTimeout)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                    opened.withLock { $0[ObjectIdentifier(channel)] = (channel, bound) }
                }
            }
        let channel: any Channel = try await withTaskCancellationHandler {
            do {
                if url.hostIsIPAddress {
                    return try await bootstrap.connect(to: try SocketAddress(ipAddress: url.host, port: url.port)).get()
                }
                return try await bootstrap.connect(host: url.host, port: url.port).get()
            } catch ChannelError.connectTimeout {
                throw HTTPClientError(.connectTimeout, "no connection to \(url.hostHeader) within \(connectTimeout)")
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw error
            }
        } onCancel: {
            for attempt in opened.withLock({ Array($0.values) }) { attempt.channel.close(promise: nil) }
        }
        guard let handler = opened.withLock({ $0[ObjectIdentifier(channel)]?.handler }) else {
            channel.close(promise: nil)
            throw HTTPClientError(.connectionClosed, "connection to \(url.hostHeader) set up without its handler")
        }
        let (connection, admitted) = state.withLock { state in
            state.nextID += 1
            let connection = Connection(id: state.nextID, key: url.poolKey, channel: channel, handler: handler)
            guard !state.shutDown else { return (connection, false) }
            state.open[connection.id] = connection
            return (connection, true)
        }
        guard admitted else {
            try? await channel.close()
            throw HTTPClientError(.shutDown, "the HTTP client is shut down")
        }
        channel.closeFuture.whenComplete { _ in self.closed(connection) }
        return connection
    }
}

/// The NIOSSL context, built on first use (loading the system trust store costs time and memory an
/// http-only client never needs).
final class TLSContextCache: Sendable {
    private let configuration: TLSConfiguration
    private let cached = Mutex<NIOSSLContext?>(nil)

    init(configuration: TLSConfiguration?) {
        self.configuration = configuration ?? .makeClientConfiguration()
    }

    func context() throws -> NIOSSLContext {
        try cached.withLock { cached in
            if let cached { return cached }
            let context = try NIOSSLContext(configuration: configuration)
            cached = context
            return context
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanos = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self =
            nanos.overflow
            ? .nanoseconds(Int64.max) : .nanoseconds(max(0, nanos.partialValue + attoseconds / 1_000_000_000))
    }
}
