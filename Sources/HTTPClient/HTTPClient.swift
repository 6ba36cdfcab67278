public import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An outbound HTTP/1.1 client on SwiftNIO: keep-alive connections pooled per scheme/host/port,
/// TLS through NIOSSL (CA file, client certificate, SNI, or no verification), a connect timeout and a
/// whole-request deadline, a response body limit, and cancellation that closes the connection.
///
/// ```swift
/// let client = HTTPClient()
/// let response = try await client.execute(try HTTPRequest(url: "http://127.0.0.1:8080/metrics"),
///                                          timeout: .seconds(10), maxBodyBytes: 16 << 20)
/// await client.shutdown()
/// ```
///
/// A request that fails on a connection taken from the pool before any of its response arrived
/// (the server closed the idle connection under us) is sent once more on a new connection.
public final class HTTPClient: Sendable {
    public let configuration: Configuration
    private let pool: ConnectionPool
    private let group: any EventLoopGroup
    private let nextRequestID = Atomic<UInt64>(0)

    /// - Parameter group: defaults to NIO's shared singleton group (the agent uses one group for all).
    public init(
        configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.group = group
        self.pool = ConnectionPool(group: group, configuration: configuration)
    }

    /// Sends `request` and reads the whole response.
    /// - Parameters:
    ///   - timeout: for everything: waiting for a connection, connecting, sending, the response.
    ///   - maxBodyBytes: a larger body (by `Content-Length` or as it arrives) fails with `.bodyTooLarge`…
    ///   - truncateBody: … unless this is set: then the rest is read and discarded.
    public func execute(
        _ request: HTTPRequest, timeout: Duration, maxBodyBytes: Int = 16 << 20, truncateBody: Bool = false
    ) async throws -> HTTPResponse {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        var request = request
        var redirects = 0
        while true {
            let response = try await send(
                request, deadline: deadline, maxBodyBytes: maxBodyBytes, truncateBody: truncateBody, stream: nil)
            guard request.method == .GET, configuration.maxRedirects > 0,
                [301, 302, 303, 307, 308].contains(response.status.code),
                let location = response.headers.first(name: "location")
            else { return response }
            redirects += 1
            guard redirects <= configuration.maxRedirects else {
                throw HTTPClientError(.tooManyRedirects, "more than \(configuration.maxRedirects) redirects")
            }
            request.url = try request.url.resolving(location)
        }
    }

    /// Sends `request` and returns once the response head arrived; the body streams (a watch).
    /// - Parameter timeout: for the whole exchange, body included.
    public func stream(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPStreamingResponse {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let (body, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        let head = try await send(
            request, deadline: deadline, maxBodyBytes: .max, truncateBody: false, stream: continuation)
        return HTTPStreamingResponse(status: head.status, headers: head.headers, body: body)
    }

    /// Closes every connection; requests still running fail.
    public func shutdown() async {
        await pool.shutdown()
    }

    private func send(
        _ request: HTTPRequest, deadline: NIODeadline, maxBodyBytes: Int, truncateBody: Bool,
        stream: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
    ) async throws -> HTTPResponse {
        let head = request.head
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let (connection, reused) = try await pool.acquire(request.url, deadline: deadline)
            let id = nextRequestID.add(1, ordering: .relaxed).newValue
            let pool = self.pool
            let task = RequestTask(
                id: id, head: head, body: request.body, maxBodyBytes: maxBodyBytes, truncateBody: truncateBody,
                deadline: deadline,
                promise: connection.channel.eventLoop.makePromise(of: HTTPResponse.self), stream: stream,
                done: { reusable in pool.release(connection, reusable: reusable) })
            if let stream {
                let eventLoop = connection.channel.eventLoop
                let handler = connection.handler
                stream.onTermination = { termination in
                    if case .finished = termination { return }
                    eventLoop.execute { handler.value.cancel(id) }
                }
            }
            do {
                return try await connection.run(task)
            } catch {
                // A pooled connection the server had already closed: nothing of the response came.
                guard reused, attempt == 1, !Task.isCancelled, Self.isStaleConnection(error) else { throw error }
            }
        }
    }

    static func isStaleConnection(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError { return error.code == .connectionClosed }
        if let error = error as? ChannelError {
            switch error {
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed: return true
            default: return false
            }
        }
        if let error = error as? IOError {
            return [104, 32].contains(error.errnoCode)  // ECONNRESET, EPIPE
        }
        return false
    }
}
