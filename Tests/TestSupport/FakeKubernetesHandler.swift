import NIOCore
import NIOHTTP1

/// The fake API server's connection handler: collects a request, lets ``FakeKubernetesAPI`` answer it.
final class FakeKubernetesHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let api: FakeKubernetesAPI
    var collector = HTTPRequestCollector()

    init(api: FakeKubernetesAPI) { self.api = api }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let (head, body)? = collector.add(Self.unwrapInboundIn(data)) else { return }
        api.respond(head: head, body: body, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        api.watcherClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

@available(*, unavailable)
extension FakeKubernetesHandler: Sendable {}
