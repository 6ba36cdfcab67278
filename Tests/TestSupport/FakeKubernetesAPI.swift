public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
public import NIOSSL
public import OTLPJSON
import Synchronization

/// A fake Kubernetes API server on 127.0.0.1 (port 0) with real list/watch semantics, over the state
/// of a ``FakeKubernetesStore``:
/// - `GET <collection>`: paged lists (`limit`, `continue`, one snapshot per list, 410 for an unknown token);
/// - `GET <collection>?watch=true&resourceVersion=N`: a chunked stream replaying the history after N,
///   then every change as it happens; a compacted N gets 410 Gone, as an `ERROR` event in a 200 stream
///   (what kube-apiserver's watch cache does) or, with ``setGoneAsStatus(_:)``, as an HTTP 410;
/// - `GET /apis/<group>`: the served versions; GET/POST/PUT of single objects (Leases), PUT with 409
///   Conflict on a stale `metadata.resourceVersion`.
///
/// Tests change objects (``put(_:in:)``, ``delete(namespace:name:in:)``), send BOOKMARKs, drop open
/// watches, compact the history, script failures (429 with `Retry-After`), and read every request.
public final class FakeKubernetesAPI: Sendable {
    public struct Request: Sendable {
        public var method: String
        /// Path and query as sent.
        public var uri: String
        public var path: String
        /// Query parameters, percent-decoded.
        public var query: [String: String]
        public var authorization: String?

        public var isWatch: Bool { query["watch"] == "true" || query["watch"] == "1" }
    }

    private struct Watcher {
        var channel: any Channel
        var collection: String
        var namespace: String?
        var bookmarks: Bool
    }

    private struct ScriptedFailure {
        var failure: FakeKubernetesStore.Failure
        var retryAfter: Int?
        var pathContains: String
        /// Match `pathContains` against the path and query (true), or the path only.
        var onURI = false
        /// Only watch requests (true), only others (false), or both (nil).
        var watch: Bool? = nil
        /// Bytes to write as they are instead of an HTTP answer, then close the connection.
        var raw: [UInt8]? = nil
    }

    private struct State {
        var store = FakeKubernetesStore()
        var requests: [Request] = []
        var watchers: [ObjectIdentifier: Watcher] = [:]
        var connections: [any Channel] = []
        var failures: [ScriptedFailure] = []
        var goneAsStatus = false
        var requiredToken: String?
    }

    private let state = Mutex(State())
    private let serverChannel = Mutex<(any Channel)?>(nil)
    public let port: Int
    public let baseURL: String

    private init(port: Int, tls: Bool) {
        self.port = port
        self.baseURL = "\(tls ? "https" : "http")://127.0.0.1:\(port)"
    }

    /// Starts the server; with `tls`, it speaks https (e.g. ``TestCertificates``' server certificate).
    public static func start(tls: TLSConfiguration? = nil) async throws -> FakeKubernetesAPI {
        let box = Mutex<FakeKubernetesAPI?>(nil)
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let api = box.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeKubernetesHandler(api: api))
                    api.state.withLock { $0.connections.append(channel) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let api = FakeKubernetesAPI(port: channel.localAddress?.port ?? 0, tls: tls != nil)
        api.serverChannel.withLock { $0 = channel }
        box.withLock { $0 = api }
        return api
    }

    /// Starts the server on https with the server certificate of `certificates` (clients trust its CA).
    public static func start(certificates: TestCertificates) async throws -> FakeKubernetesAPI {
        try await start(
            tls: .makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificates.serverCertificate).map {
                    .certificate($0)
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: certificates.serverKey, format: .pem))))
    }

    public func shutdown() async throws {
        let (server, connections) = (serverChannel.withLock { $0 }, state.withLock { $0.connections })
        try await server?.close()
        for connection in connections { try? await connection.close() }
    }

    // MARK: what tests read

    public var requests: [Request] { state.withLock { $0.requests } }
    public var openWatches: Int { state.withLock { $0.watchers.count } }
    public var resourceVersion: Int { state.withLock { $0.store.resourceVersion } }

    public func object(namespace: String, name: String, in collection: String) -> JSONValue? {
        state.withLock { try? $0.store.get(namespace: namespace, name: name, in: collection) }
    }

    // MARK: what tests change

    /// Serves `GET /apis/<group>` with these versions (preferred first).
    public func serve(group: String, versions: [String]) {
        state.withLock { $0.store.groups[group] = versions }
    }

    /// Answers 404 to a list or watch of a collection that was never loaded or written.
    public func setUnknownCollectionsNotFound(_ on: Bool) {
        state.withLock { $0.store.unknownCollectionsNotFound = on }
    }

    /// Answers a too-old watch with HTTP 410 instead of an `ERROR` event in a 200 stream.
    public func setGoneAsStatus(_ on: Bool) { state.withLock { $0.goneAsStatus = on } }

    /// Answers 401 Unauthorized to every request without `Authorization: Bearer <token>` (nil: no check).
    public func requireToken(_ token: String?) { state.withLock { $0.requiredToken = token } }

    /// Loads objects without events (the state a first list sees); the resourceVersion counter moves
    /// to at least `resourceVersion`.
    public func load(_ items: [JSONValue], in collection: String, resourceVersion: Int = 0) {
        state.withLock { $0.store.load(items, in: collection, resourceVersion: resourceVersion) }
    }

    /// Loads the `items` of a list response file (a fixture), at the list's resourceVersion.
    public func load(listFile: URL, in collection: String) throws {
        let list = try JSONValue.parse(Array(try Data(contentsOf: listFile)))
        load(
            list["items"]?.array ?? [], in: collection,
            resourceVersion: list["metadata"]?["resourceVersion"]?.string.flatMap { Int($0) } ?? 0)
    }

    /// Adds or modifies an object and streams the event to the open watches of its collection.
    @discardableResult
    public func put(_ object: JSONValue, in collection: String) -> Int {
        state.withLock { state in
            let event = state.store.put(object, in: collection)
            Self.broadcast(event, &state)
            return event.resourceVersion
        }
    }

    /// `put` of a JSON text.
    @discardableResult
    public func put(json: String, in collection: String) throws -> Int {
        put(try JSONValue.parse(Array(json.utf8)), in: collection)
    }

    /// Deletes an object and streams the DELETED event.
    public func delete(namespace: String, name: String, in collection: String) {
        state.withLock { state in
            if let event = state.store.delete(namespace: namespace, name: name, in: collection) {
                Self.broadcast(event, &state)
            }
        }
    }

    /// Forgets the history: watches from an older resourceVersion get 410 Gone.
    public func compact() { state.withLock { $0.store.compact() } }

    /// Sends a BOOKMARK with the current resourceVersion to every watch that asked for bookmarks.
    public func sendBookmarks() {
        state.withLock { state in
            for watcher in state.watchers.values where watcher.bookmarks {
                let kind = Self.kind(state.store, watcher.collection)
                let bookmark = FakeKubernetesStore.Event(
                    resourceVersion: state.store.resourceVersion, collection: watcher.collection, namespace: "",
                    type: "BOOKMARK",
                    object: .object([
                        "kind": .string(kind),
                        "apiVersion": .string(FakeKubernetesStore.apiVersion(of: watcher.collection)),
                        "metadata": .object(["resourceVersion": .string(String(state.store.resourceVersion))]),
                    ]))
                watcher.channel.writeAndFlush(
                    HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bookmark.line))), promise: nil)
            }
        }
    }

    /// Ends every open watch the way the server does after `timeoutSeconds`: the chunked body ends.
    public func endWatches() {
        let channels = state.withLock { state in
            defer { state.watchers.removeAll() }
            return state.watchers.values.map(\.channel)
        }
        for channel in channels { channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil) }
    }

    /// Closes every open watch connection (without ending the chunked body: a dropped connection).
    public func dropWatches() {
        let channels = state.withLock { state in
            defer { state.watchers.removeAll() }
            return state.watchers.values.map(\.channel)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// The next `count` requests whose path contains `pathContains` get this status (a `Status` body,
    /// and `Retry-After` when given).
    public func failNext(
        _ count: Int = 1, code: Int, reason: String = "", retryAfter: Int? = nil, pathContains: String = ""
    ) {
        let failure = FakeKubernetesStore.Failure(code: code, reason: reason, message: "scripted failure \(code)")
        state.withLock { state in
            for _ in 0..<count {
                state.failures.append(
                    ScriptedFailure(failure: failure, retryAfter: retryAfter, pathContains: pathContains))
            }
        }
    }

    /// The next request whose path and query contain `uriContains` (and that is a watch, or not, when
    /// `watch` is given) gets `raw` written to the connection as it is: status line, headers and body, any
    /// framing (a truncated body, a 2 GB chunk length), then the connection closes.
    public func answerNext(raw: [UInt8], uriContains: String = "", watch: Bool? = nil) {
        let failure = FakeKubernetesStore.Failure(code: 0, reason: "", message: "")
        state.withLock {
            $0.failures.append(
                ScriptedFailure(failure: failure, pathContains: uriContains, onURI: true, watch: watch, raw: raw))
        }
    }

    private static func broadcast(_ event: FakeKubernetesStore.Event, _ state: inout State) {
        for watcher in state.watchers.values
        where watcher.collection == event.collection
            && (watcher.namespace == nil || watcher.namespace == event.namespace)
        {
            watcher.channel.writeAndFlush(
                HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: event.line))), promise: nil)
        }
    }

    private static func kind(_ store: FakeKubernetesStore, _ collection: String) -> String {
        store.current(collection: collection, namespace: nil).first?.value["kind"]?.string ?? "Object"
    }

    // MARK: serving (on the connection's event loop)

    func watcherClosed(_ channel: any Channel) {
        _ = state.withLock { $0.watchers.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func respond(head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
        let request = Self.parse(head)
        state.withLock { state in
            state.requests.append(request)
            if let token = state.requiredToken, request.authorization != "Bearer \(token)" {
                let failure = FakeKubernetesStore.Failure(code: 401, reason: "Unauthorized", message: "Unauthorized")
                Self.write(failure.code, failure.body, context)
                return
            }
            if let index = state.failures.firstIndex(where: {
                ($0.onURI ? request.uri : request.path).contains($0.pathContains)
                    && ($0.watch == nil || $0.watch == request.isWatch)
            }) {
                let scripted = state.failures.remove(at: index)
                if let raw = scripted.raw { return Self.writeRaw(raw, context) }
                var headers: [(String, String)] = []
                if let retryAfter = scripted.retryAfter { headers.append(("Retry-After", "\(retryAfter)")) }
                Self.write(scripted.failure.code, scripted.failure.body, headers: headers, context)
                return
            }
            do throws(FakeKubernetesStore.Failure) {
                try route(request, body: body, state: &state, context: context)
            } catch {
                Self.write(error.code, error.body, context)
            }
        }
    }

    private func route(
        _ request: Request, body: [UInt8], state: inout State, context: ChannelHandlerContext
    ) throws(FakeKubernetesStore.Failure) {
        let parts = request.path.split(separator: "/").map(String.init)
        if parts.count == 2, parts[0] == "apis" {
            return Self.write(200, try state.store.group(parts[1]), context)
        }
        guard let target = FakeKubernetesPath(parts) else {
            throw FakeKubernetesStore.Failure(code: 404, reason: "NotFound", message: "no such path \(request.path)")
        }
        let object = { () throws(FakeKubernetesStore.Failure) -> JSONValue in
            guard var value = try? JSONValue.parse(body) else {
                throw FakeKubernetesStore.Failure(code: 400, reason: "BadRequest", message: "the body is not JSON")
            }
            if let namespace = target.namespace { value["metadata"]?["namespace"] = .string(namespace) }
            return value
        }
        switch (request.method, target.name) {
        case ("GET", let name?):
            Self.write(
                200, try state.store.get(namespace: target.namespace ?? "", name: name, in: target.collection), context)
        case ("PUT", _?):
            Self.write(200, try state.store.update(try object(), in: target.collection), context)
        case ("POST", nil):
            let created = try state.store.create(try object(), in: target.collection)
            Self.write(201, created, context)
        case ("GET", nil) where request.isWatch:
            try watch(request, target, state: &state, context: context)
        case ("GET", nil):
            let list = try state.store.list(
                collection: target.collection, namespace: target.namespace,
                limit: request.query["limit"].flatMap { Int($0) },
                continueToken: request.query["continue"])
            Self.write(200, list, context)
        default:
            throw FakeKubernetesStore.Failure(code: 405, reason: "MethodNotAllowed", message: request.method)
        }
    }

    private func watch(
        _ request: Request, _ target: FakeKubernetesPath, state: inout State, context: ChannelHandlerContext
    ) throws(FakeKubernetesStore.Failure) {
        let head = HTTPResponseHead(
            version: .http1_1, status: .ok,
            headers: HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]))
        let replay: [FakeKubernetesStore.Event]
        do {
            replay = try state.store.watchStart(
                collection: target.collection, namespace: target.namespace,
                resourceVersion: request.query["resourceVersion"] ?? "")
        } catch {
            guard !state.goneAsStatus else { throw error }
            // The watch cache's way: 200, one ERROR event with the Status, end of stream.
            let line = JSONValue.object(["type": .string("ERROR"), "object": error.body]).encoded() + [0x0A]
            context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: line)))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
            return
        }
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        for event in replay {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: event.line)))), promise: nil)
        }
        context.flush()
        state.watchers[ObjectIdentifier(context.channel)] = Watcher(
            channel: context.channel, collection: target.collection, namespace: target.namespace,
            bookmarks: request.query["allowWatchBookmarks"] == "true")
    }

    private static func write(
        _ code: Int, _ body: JSONValue, headers extra: [(String, String)] = [], _ context: ChannelHandlerContext
    ) {
        let bytes = body.encoded()
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "\(bytes.count)")])
        for (name, value) in extra { headers.add(name: name, value: value) }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }

    /// Bytes past the HTTP encoder, then close.
    private static func writeRaw(_ bytes: [UInt8], _ context: ChannelHandlerContext) {
        guard let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else {
            return context.close(promise: nil)
        }
        // Later on the loop: the close it ends with calls back into the server's state, locked here.
        let channel = context.channel
        let bound = NIOLoopBound(encoder, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            bound.value.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil)
            }
        }
    }

    private static func parse(_ head: HTTPRequestHead) -> Request {
        let pieces = head.uri.split(separator: "?", maxSplits: 1).map(String.init)
        var query: [String: String] = [:]
        if pieces.count > 1 {
            for pair in pieces[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).removingPercentEncoding ?? String($0)
                }
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        return Request(
            method: head.method.rawValue, uri: head.uri, path: pieces.first ?? "", query: query,
            authorization: head.headers.first(name: "Authorization"))
    }
}
