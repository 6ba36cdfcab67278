import Compression
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local OTLP/HTTP sink on 127.0.0.1 that records every request (body gunzipped) and answers 200.
final class RecordingSink: Sendable {
    struct Request: Sendable {
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
    }

    final class Store: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private let store = Store()
    private let channel: any Channel
    let port: Int

    init(port: Int = 0) async throws {
        let store = self.store
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(SinkHandler(store: store))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        self.port = channel.localAddress!.port!
    }

    var requests: [Request] { store.requests.withLock { $0 } }

    func close() async { try? await channel.close() }
}

private final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let store: RecordingSink.Store
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(store: RecordingSink.Store) { self.store = store }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            var bytes = body
            if head.headers.first(name: "content-encoding") == "gzip" {
                bytes = (try? Gzip.decompress(bytes, maxOutputBytes: 256 << 20)) ?? []
            }
            let request = RecordingSink.Request(
                path: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: bytes)
            store.requests.withLock { $0.append(request) }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/x-protobuf")
            headers.add(name: "Content-Length", value: "0")
            context.write(Self.wrapOutboundOut(.head(.init(version: head.version, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

@available(*, unavailable)
extension SinkHandler: Sendable {}
