import FluxtelTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 (port 0) whose replies a test scripts per request, and that
/// counts connections: enough to see keep-alive reuse, closes, chunked bodies and slow answers.
final class TestServer: Sendable {
    enum Reply: Sendable {
        /// `chunks`: send the body chunked in that many parts (no Content-Length); `close`: add
        /// `Connection: close` and close after the response; `closeSilently`: close after the
        /// response without saying so (a server dropping an idle keep-alive connection).
        case respond(
            status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = [], chunks: Int? = nil,
            delay: Duration? = nil, close: Bool = false, closeSilently: Bool = false)
        /// Close the connection without answering.
        case hangUp
        /// Announce `declared` bytes, send `sent`, close.
        case truncated(declared: Int, sent: [UInt8])
        /// A chunked response that sends `first` and then nothing more (a quiet watch).
        case stall(first: [UInt8])
    }

    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: [(String, String)]
        var body: [UInt8]
        var connection: Int
        /// 1 for the first request on its connection.
        var sequence: Int
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    private struct State {
        var requests: [Request] = []
        var connectionsOpened = 0
        var connectionsClosed = 0
        var channels: [any Channel] = []
    }

    private let state = Mutex(State())
    private let reply: @Sendable (Request) -> Reply
    private let server: Mutex<(any Channel)?> = Mutex(nil)
    private(set) nonisolated(unsafe) var port = 0

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { state.withLock { $0.requests } }
    var connectionsOpened: Int { state.withLock { $0.connectionsOpened } }
    var connectionsClosed: Int { state.withLock { $0.connectionsClosed } }

    private init(reply: @escaping @Sendable (Request) -> Reply) {
        self.reply = reply
    }

    static func start(_ reply: @escaping @Sendable (Request) -> Reply = { _ in .respond() }) async throws -> TestServer
    {
        let server = TestServer(reply: reply)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = server.state.withLock { state in
                    state.connectionsOpened += 1
                    state.channels.append(channel)
                    return state.connectionsOpened
                }
                channel.closeFuture.whenComplete { _ in server.state.withLock { $0.connectionsClosed += 1 } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: server, connection: number))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        server.port = channel.localAddress?.port ?? 0
        server.server.withLock { $0 = channel }
        return server
    }

    /// Waits until `condition` holds (the test kit's `eventually`: the bound only catches a hang).
    func wait(_ condition: (TestServer) -> Bool) async -> Bool {
        await eventually { condition(self) }
    }

    func shutdown() async {
        try? await server.withLock { $0 }?.close()
        for channel in state.withLock({ $0.channels }) { try? await channel.close() }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: TestServer
        let connection: Int
        var collector = HTTPRequestCollector()
        var sequence = 0

        init(server: TestServer, connection: Int) {
            self.server = server
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case let (head, body)? = collector.add(unwrapInboundIn(data)) else { return }
            sequence += 1
            let request = Request(
                method: head.method, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body,
                connection: connection, sequence: sequence)
            server.state.withLock { $0.requests.append(request) }
            perform(server.reply(request), context: context)
        }

        private func perform(_ reply: Reply, context: ChannelHandlerContext) {
            switch reply {
            case .hangUp:
                context.close(promise: nil)
            case .stall(let first):
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: first)))), promise: nil)
            case .truncated(let declared, let sent):
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "\(declared)")
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: sent)))), promise: nil)
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(20)) { context.close(promise: nil) }
            case .respond(let status, let extra, let body, let chunks, let delay, let close, let closeSilently):
                let send = {
                    var headers = HTTPHeaders(extra)
                    if chunks == nil { headers.add(name: "Content-Length", value: "\(body.count)") }
                    if close { headers.add(name: "Connection", value: "close") }
                    let head = HTTPResponseHead(
                        version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
                    context.write(self.wrapOutboundOut(.head(head)), promise: nil)
                    if let chunks, chunks > 0, !body.isEmpty {
                        let size = (body.count + chunks - 1) / chunks
                        var offset = 0
                        while offset < body.count {
                            let part = body[offset..<min(offset + size, body.count)]
                            context.writeAndFlush(
                                self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: part)))), promise: nil)
                            offset += size
                        }
                    } else if !body.isEmpty {
                        context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                    }
                    let done = context.eventLoop.makePromise(of: Void.self)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: done)
                    if close || closeSilently {
                        done.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                    }
                }
                if let delay {
                    let (seconds, attoseconds) = delay.components
                    context.eventLoop.assumeIsolated().scheduleTask(
                        in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                    ) { send() }
                } else {
                    send()
                }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
