import NIOCore
import NIOHTTP1
import OTLPWire

/// The NIO side of one connection: feeds what it reads to a `RequestStateMachine`, gathers the body,
/// hands whole requests to the shared `IngestContext`, and writes the answers.
final class OTLPIngestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let context: IngestContext
    private var machine: RequestStateMachine
    private var body: ByteBuffer?

    init(context: IngestContext) {
        self.context = context
        self.machine = RequestStateMachine(admission: context.admission)
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            body = nil
            switch machine.head(head) {
            case .readBody:
                break
            case .refuse(let refusal, let signal, let version, let keepAlive):
                refuse(channelContext, signal: signal, refusal, version: version, keepAlive: keepAlive)
            }
        case .body(var chunk):
            switch machine.body(count: chunk.readableBytes) {
            case .ignore:
                return
            case .refuse(let refusal, let signal, let version, let keepAlive):
                body = nil
                refuse(channelContext, signal: signal, refusal, version: version, keepAlive: keepAlive)
            case .append:
                if body == nil {
                    body = chunk
                } else {
                    body!.writeBuffer(&chunk)
                }
            }
        case .end:
            let body = self.body
            self.body = nil
            guard case .ingest(let request) = machine.end() else { return }
            // 200 only once the request is in the queue: at once with the memory queue, once durable
            // with the persistent one (`queued` then runs on the syncer's thread: hop back to the loop).
            let eventLoop = channelContext.eventLoop
            let bound = NIOLoopBound((handler: self, context: channelContext), eventLoop: eventLoop)
            let accepted: @Sendable () -> Void = {
                let answer: @Sendable () -> Void = {
                    let (handler, channelContext) = bound.value
                    handler.context.acceptedRequests[request.signal]?.increment()
                    handler.respond(
                        channelContext, version: request.head.version, keepAlive: request.head.isKeepAlive,
                        .success(request.encoding))
                }
                if eventLoop.inEventLoop { answer() } else { eventLoop.execute(answer) }
            }
            do {
                try context.ingest(request, body: body, queued: accepted)
            } catch {
                refuse(
                    channelContext, signal: request.signal, error, version: request.head.version,
                    keepAlive: request.head.isKeepAlive)
            }
        }
    }

    private func refuse(
        _ channelContext: ChannelHandlerContext, signal: Signal, _ refusal: Refusal, version: HTTPVersion,
        keepAlive: Bool
    ) {
        let peer = channelContext.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        context.refuse(signal, refusal, peer: peer)
        respond(channelContext, version: version, keepAlive: keepAlive, refusal.response)
    }

    private func respond(
        _ channelContext: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, _ response: IngestResponse
    ) {
        var headers = response.headers
        let close = response.close || !keepAlive
        if !response.close && close { headers.add(name: "Connection", value: "close") }
        channelContext.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))),
            promise: nil)
        if !response.body.isEmpty {
            channelContext.write(
                Self.wrapOutboundOut(.body(.byteBuffer(channelContext.channel.allocator.buffer(bytes: response.body)))),
                promise: nil)
        }
        guard close else {
            // No promise: a future nobody waits on is an allocation and a callback list per request.
            channelContext.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let loopBound = NIOLoopBound(channelContext, eventLoop: channelContext.eventLoop)
        channelContext.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension OTLPIngestHandler: Sendable {}
