import NIOCore
import NIOHTTP1
import NIOSSL

/// What the connection handler needs to run one request. Built off the event loop.
struct RequestTask: Sendable {
    let id: UInt64
    let head: HTTPRequestHead
    let body: ByteBuffer?
    /// Largest body accepted (collect mode); larger bodies fail with `.bodyTooLarge`.
    let maxBodyBytes: Int
    /// Keep the first `maxBodyBytes` and discard the rest instead of failing.
    let truncateBody: Bool
    let deadline: NIODeadline
    /// Completed with the whole response (collect mode) or with the head and an empty body (stream mode).
    let promise: EventLoopPromise<HTTPResponse>
    /// Stream mode: body parts go here.
    let stream: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
    /// Called once the connection is done with this request: `true` when it can take another.
    let done: @Sendable (_ reusable: Bool) -> Void
}

/// The tail of a client connection's pipeline (after NIOSSL, the HTTP/1.1 encoder and decoder): runs
/// one request at a time on its event loop, enforces the deadline and the body limit, and closes
/// the connection after an idle period, on `Connection: close`, and on any failure.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private struct InFlight {
        let task: RequestTask
        var timeout: Scheduled<Void>?
        var head: HTTPResponseHead?
        var keepAlive = true
        var body: ByteBuffer?
    }

    private enum State {
        case idle
        case busy(InFlight)
        case closed
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var idleTimer: Scheduled<Void>?
    private let idleTimeout: TimeAmount
    /// The first error the pipeline reported (a TLS alert is more useful than "connection closed").
    private var pendingError: (any Error)?

    init(idleTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
    }

    // The idle timer is armed when a response completes, not on connect: a new connection goes straight
    // to the request it was opened for, and a timer armed on connect could close it first on a loaded
    // machine ("connection closed before the request", which is not retried for a new connection).
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: requests

    func start(_ task: RequestTask) {
        guard case .idle = state, let context, context.channel.isActive else {
            task.promise.fail(
                pendingError ?? HTTPClientError(.connectionClosed, "connection closed before the request"))
            task.done(false)
            return
        }
        idleTimer?.cancel()
        idleTimer = nil
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: task.deadline) {
            self.fail(task.id, HTTPClientError(.deadlineExceeded, "no complete response by the deadline"))
        }
        state = .busy(InFlight(task: task, timeout: timeout))
        context.write(wrapOutboundOut(.head(task.head)), promise: nil)
        if let body = task.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenFailure { error in
            self.fail(task.id, self.pendingError ?? error)
        }
    }

    /// The caller gave up (task cancelled, stream dropped): close the connection.
    func cancel(_ id: UInt64) {
        fail(id, CancellationError())
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .busy(var flight) = state else { return }  // nothing asked for: ignore, closed below
        switch unwrapInboundIn(data) {
        case .head(let head):
            flight.head = head
            flight.keepAlive = head.isKeepAlive
            if flight.task.stream == nil, !flight.task.truncateBody,
                let length = head.headers.first(name: "content-length").flatMap(Int.init),
                length > flight.task.maxBodyBytes
            {
                state = .busy(flight)
                fail(flight.task.id, Self.tooLarge(length: length, limit: flight.task.maxBodyBytes))
                return
            }
            if flight.task.stream != nil {
                flight.task.promise.succeed(
                    HTTPResponse(status: head.status, headers: head.headers, body: ByteBuffer()))
            } else if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > 0 {
                // The whole body in one allocation: accumulating from the first part doubled its buffer
                // up to the body's size (a 217 KB scrape: 8 reallocations, every byte copied twice more).
                flight.body = context.channel.allocator.buffer(capacity: min(length, flight.task.maxBodyBytes))
            }
            state = .busy(flight)
        case .body(let part):
            if let stream = flight.task.stream {
                stream.yield(part)
                return
            }
            state = .idle  // avoid a copy-on-write of the accumulated body
            var part = part
            if flight.task.truncateBody {
                let room = flight.task.maxBodyBytes - (flight.body?.readableBytes ?? 0)
                if part.readableBytes > room { part = part.getSlice(at: part.readerIndex, length: max(0, room))! }
            }
            if var body = flight.body {
                guard body.readableBytes + part.readableBytes <= flight.task.maxBodyBytes else {
                    state = .busy(flight)
                    fail(flight.task.id, Self.tooLarge(length: nil, limit: flight.task.maxBodyBytes))
                    return
                }
                flight.body = nil
                body.writeBuffer(&part)
                flight.body = body
            } else {
                guard part.readableBytes <= flight.task.maxBodyBytes else {
                    state = .busy(flight)
                    fail(flight.task.id, Self.tooLarge(length: nil, limit: flight.task.maxBodyBytes))
                    return
                }
                flight.body = part
            }
            state = .busy(flight)
        case .end:
            flight.timeout?.cancel()
            let reusable = flight.keepAlive
            state = reusable ? .idle : .closed
            if reusable {
                armIdleTimer()
            } else {
                context.close(promise: nil)
            }
            // Back in the pool before the caller resumes, so its next request can take it.
            flight.task.done(reusable)
            if let stream = flight.task.stream {
                stream.finish()
            } else if let head = flight.head {
                flight.task.promise.succeed(
                    HTTPResponse(status: head.status, headers: head.headers, body: flight.body ?? ByteBuffer()))
            } else {
                flight.task.promise.fail(HTTPClientError(.connectionClosed, "response ended without a head"))
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A peer that closes without close_notify: channelInactive follows; a close-delimited body
        // has then ended normally (the decoder says so), anything else fails there.
        if let ssl = error as? NIOSSLError, case .uncleanShutdown = ssl { return }
        if pendingError == nil { pendingError = error }
        if case .busy(let flight) = state {
            fail(flight.task.id, error)
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        idleTimer = nil
        if case .busy(let flight) = state {
            fail(
                flight.task.id,
                pendingError
                    ?? HTTPClientError(.connectionClosed, "server closed the connection before the response ended"))
        }
        state = .closed
        context.fireChannelInactive()
    }

    // MARK: helpers

    private func fail(_ id: UInt64, _ error: any Error) {
        guard case .busy(let flight) = state, flight.task.id == id else { return }
        state = .closed
        flight.timeout?.cancel()
        if flight.task.stream != nil, flight.head != nil {
            flight.task.stream?.finish(throwing: error)
        } else {
            flight.task.promise.fail(error)
            flight.task.stream?.finish(throwing: error)
        }
        context?.close(promise: nil)
        flight.task.done(false)
    }

    private func armIdleTimer() {
        guard let context, case .idle = state else { return }
        idleTimer?.cancel()
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) {
            guard case .idle = self.state else { return }
            self.state = .closed
            self.context?.close(promise: nil)
        }
    }

    private static func tooLarge(length: Int?, limit: Int) -> HTTPClientError {
        if let length {
            return HTTPClientError(.bodyTooLarge, "body of \(length) bytes exceeds the limit of \(limit) bytes")
        }
        return HTTPClientError(.bodyTooLarge, "body exceeds the limit of \(limit) bytes")
    }
}

@available(*, unavailable)
extension HTTPConnectionHandler: Sendable {}
