import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A fake Kubernetes API server on 127.0.0.1 (port 0): answers pod LISTs with a recorded `PodList`
/// and keeps WATCH requests open, streaming whatever events the test sends.
final class FakeKubernetesAPI: Sendable {
    private struct State {
        var podList: String
        var requests: [(uri: String, authorization: String?)] = []
        var watches: [any Channel] = []
        var connections: [any Channel] = []
    }

    private let state: Mutex<State>
    private let serverChannel = Mutex<(any Channel)?>(nil)
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(podList: String, port: Int) {
        state = Mutex(State(podList: podList))
        self.port = port
    }

    static func start(podList: String) async throws -> FakeKubernetesAPI {
        let box = Mutex<FakeKubernetesAPI?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let api = box.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeAPIHandler(api: api))
                    api.state.withLock { $0.connections.append(channel) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let api = FakeKubernetesAPI(podList: podList, port: channel.localAddress?.port ?? 0)
        api.serverChannel.withLock { $0 = channel }
        box.withLock { $0 = api }
        return api
    }

    var requests: [(uri: String, authorization: String?)] { state.withLock { $0.requests } }
    var openWatches: Int { state.withLock { $0.watches.count } }

    /// Sends one watch event line (`{"type":"ADDED","object":{...}}`) to every open watch.
    func send(event: String) {
        let watches = state.withLock { $0.watches }
        for channel in watches {
            let buffer = ByteBuffer(string: event + "\n")
            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        }
    }

    func shutdown() async throws {
        let (server, connections) = (serverChannel.withLock { $0 }, state.withLock { $0.connections })
        try await server?.close()
        for connection in connections { try? await connection.close() }
    }

    fileprivate func handle(head: HTTPRequestHead, channel: any Channel) -> String? {
        state.withLock { state in
            state.requests.append((head.uri, head.headers.first(name: "Authorization")))
            if head.uri.contains("watch=1") {
                state.watches.append(channel)
                return nil
            }
            return state.podList
        }
    }
}

private final class FakeAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let api: FakeKubernetesAPI
    var head: HTTPRequestHead?

    init(api: FakeKubernetesAPI) { self.api = api }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            var headers = HTTPHeaders([("Content-Type", "application/json")])
            if let list = api.handle(head: head, channel: context.channel) {
                headers.add(name: "Content-Length", value: "\(list.utf8.count)")
                context.write(
                    Self.wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: list)))), promise: nil)
                context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                headers.add(name: "Transfer-Encoding", value: "chunked")
                context.writeAndFlush(
                    Self.wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

@available(*, unavailable)
extension FakeAPIHandler: Sendable {}

/// A pod as the API serves it (the fields discovery reads, plus some it ignores).
func podJSON(
    name: String, node: String, ip: String = "127.0.0.1", scrape: Bool = true, port: Int, path: String,
    app: String = "kustomize-controller"
) -> String {
    let annotations =
        scrape
        ? #"{"prometheus.io/scrape":"true","prometheus.io/port":"\#(port)","prometheus.io/path":"\#(path)"}"#
        : #"{"kubectl.kubernetes.io/default-container":"manager"}"#
    return #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"flux-system","uid":"uid-\#(name)","resourceVersion":"101","labels":{"app":"\#(app)","pod-template-hash":"7d9f8"},"annotations":\#(annotations)},"spec":{"nodeName":"\#(node)","containers":[{"name":"manager","image":"ghcr.io/fluxcd/\#(app):v1.9.0","ports":[{"containerPort":8080,"name":"http-prom","protocol":"TCP"}]}]},"status":{"phase":"Running","podIP":"\#(ip)","podIPs":[{"ip":"\#(ip)"}],"conditions":[{"type":"Ready","status":"True"}]}}
        """#
}
