import FluxtelTestSupport
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import Testing

@testable import HTTPClient

private func text(_ response: HTTPResponse) -> String { String(buffer: response.body) }

@Suite(.serialized, .timeLimit(.minutes(1)))
struct HTTPClientTests {
    // MARK: keep-alive and connections

    @Test func keepAliveConnectionIsReused() async throws {
        let server = try await TestServer.start { _ in .respond(body: Array("hello".utf8)) }
        let client = HTTPClient()
        for _ in 0..<3 {
            let response = try await client.execute(
                try HTTPRequest(url: server.baseURL + "/a?b=c"), timeout: .seconds(5))
            #expect(response.status == .ok)
            #expect(text(response) == "hello")
        }
        #expect(server.connectionsOpened == 1)
        #expect(server.requests.map(\.connection) == [1, 1, 1])
        #expect(server.requests.first?.uri == "/a?b=c")
        #expect(server.requests.first?.header("Host") == "127.0.0.1:\(server.port)")
        await client.shutdown()
        await server.shutdown()
    }

    @Test func postSendsTheByteBufferBodyWithItsLength() async throws {
        let server = try await TestServer.start { _ in .respond(status: 202) }
        let client = HTTPClient()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-protobuf")
        headers.add(name: "Content-Length", value: "999")  // the client's own length wins
        headers.add(name: "X-Multi", value: "a")
        headers.add(name: "X-Multi", value: "b")
        let body = ByteBuffer(bytes: Array(0..<200).map { UInt8($0) })
        let response = try await client.execute(
            try HTTPRequest(url: server.baseURL + "/v1/logs", method: .POST, headers: headers, body: body),
            timeout: .seconds(5))
        #expect(response.status == .accepted)
        let request = try #require(server.requests.first)
        #expect(request.method == .POST)
        #expect(request.body == Array(0..<200).map { UInt8($0) })
        #expect(request.headers.filter { $0.0.lowercased() == "content-length" }.map(\.1) == ["200"])
        #expect(request.headers.filter { $0.0 == "X-Multi" }.map(\.1) == ["a", "b"])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func chunkedAndContentLengthBodiesArriveWhole() async throws {
        let payload = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let server = try await TestServer.start { request in
            request.uri == "/chunked" ? .respond(body: payload, chunks: 7) : .respond(body: payload)
        }
        let client = HTTPClient()
        let chunked = try await client.execute(try HTTPRequest(url: server.baseURL + "/chunked"), timeout: .seconds(5))
        let plain = try await client.execute(try HTTPRequest(url: server.baseURL + "/plain"), timeout: .seconds(5))
        #expect(chunked.headers.first(name: "transfer-encoding") == "chunked")
        #expect(Array(chunked.body.readableBytesView) == payload)
        #expect(Array(plain.body.readableBytesView) == payload)
        #expect(server.connectionsOpened == 1)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func connectionCloseResponseIsNotReused() async throws {
        let server = try await TestServer.start { _ in .respond(body: Array("x".utf8), close: true) }
        let client = HTTPClient()
        for _ in 0..<3 {
            #expect(try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5)).status == .ok)
        }
        #expect(server.connectionsOpened == 3)
        #expect(server.requests.map(\.connection) == [1, 2, 3])
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aConnectionTheServerDroppedIsReplaced() async throws {
        // The server closes every connection right after answering, without `Connection: close`:
        // the client holds a dead keep-alive connection and must send the next request on a new one.
        let server = try await TestServer.start { _ in .respond(body: Array("x".utf8), closeSilently: true) }
        let client = HTTPClient()
        for round in 1...3 {
            #expect(try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5)).status == .ok)
            #expect(await server.wait { $0.connectionsClosed == round })
        }
        #expect(server.requests.count == 3)
        #expect(server.connectionsOpened == 3)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aReusedConnectionThatDiesBeforeAnsweringIsRetriedOnce() async throws {
        // The second request on the first connection is met by a close (a server dropping an idle
        // keep-alive connection as the request arrives): it is sent again on a new connection.
        let server = try await TestServer.start { request in
            request.connection == 1 && request.sequence == 2 ? .hangUp : .respond(body: Array("x".utf8))
        }
        let client = HTTPClient()
        _ = try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5))
        #expect(try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5)).status == .ok)
        #expect(server.requests.map(\.connection) == [1, 1, 2])
        // A new connection that fails is not retried.
        let failing = try await TestServer.start { _ in .hangUp }
        await #expect(throws: (any Error).self) {
            try await client.execute(try HTTPRequest(url: failing.baseURL), timeout: .seconds(5))
        }
        #expect(failing.requests.count == 1)
        await failing.shutdown()
        await client.shutdown()
        await server.shutdown()
    }

    @Test func thePoolBoundMakesRequestsWaitForAConnection() async throws {
        let server = try await TestServer.start { _ in .respond(body: Array("x".utf8), delay: .milliseconds(100)) }
        let client = HTTPClient(configuration: .init(maxConnectionsPerHost: 1))
        try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(10)).status
                }
            }
            for try await status in group { #expect(status == .ok) }
        }
        #expect(server.connectionsOpened == 1)
        #expect(server.requests.count == 4)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func idleConnectionsAreClosedAfterTheIdleTimeout() async throws {
        let server = try await TestServer.start()
        // Not 50 ms: a new connection's idle timer starts when it connects, so on a loaded machine a
        // timeout shorter than the hop from connect to the first request closes it before that request
        // ("connection closed before the request"). The wait below is for the close, not for the time.
        let client = HTTPClient(configuration: .init(idleTimeout: TestTime.scaled(.milliseconds(500))))
        _ = try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5))
        #expect(await server.wait { $0.connectionsClosed == 1 })
        _ = try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5))
        #expect(server.connectionsOpened == 2)
        await client.shutdown()
        await server.shutdown()
    }

    // MARK: limits, deadlines, failures

    @Test func bodyLimitByContentLengthAndWhileStreaming() async throws {
        let big = [UInt8](repeating: 0x41, count: 10_000)
        let server = try await TestServer.start { request in
            request.uri == "/chunked" ? .respond(body: big, chunks: 10) : .respond(body: big)
        }
        let client = HTTPClient()
        for path in ["/plain", "/chunked"] {
            let error = await #expect(throws: HTTPClientError.self) {
                try await client.execute(
                    try HTTPRequest(url: server.baseURL + path), timeout: .seconds(5), maxBodyBytes: 4096)
            }
            #expect(error?.code == .bodyTooLarge)
        }
        let exact = try await client.execute(
            try HTTPRequest(url: server.baseURL + "/chunked"), timeout: .seconds(5), maxBodyBytes: 10_000)
        #expect(exact.body.readableBytes == 10_000)
        let truncated = try await client.execute(
            try HTTPRequest(url: server.baseURL + "/chunked"), timeout: .seconds(5), maxBodyBytes: 1500,
            truncateBody: true)
        #expect(Array(truncated.body.readableBytesView) == Array(big.prefix(1500)))
        await client.shutdown()
        await server.shutdown()
    }

    @Test func aSlowServerRunsIntoTheDeadline() async throws {
        let server = try await TestServer.start { _ in .respond(delay: .seconds(5)) }
        let client = HTTPClient()
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .milliseconds(200))
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.isTimeout == true)
        #expect(await server.wait { $0.connectionsClosed == 1 })
        await client.shutdown()
        await server.shutdown()
    }

    @Test func hangUpAndTruncatedBodiesFail() async throws {
        let server = try await TestServer.start { request in
            request.uri == "/hangup" ? .hangUp : .truncated(declared: 100, sent: Array("only this".utf8))
        }
        let client = HTTPClient()
        await #expect(throws: (any Error).self) {
            try await client.execute(try HTTPRequest(url: server.baseURL + "/hangup"), timeout: .seconds(5))
        }
        await #expect(throws: (any Error).self) {
            try await client.execute(try HTTPRequest(url: server.baseURL + "/truncated"), timeout: .seconds(5))
        }
        await client.shutdown()
        await server.shutdown()
    }

    @Test func connectionRefusedSurfacesTheSocketError() async throws {
        let server = try await TestServer.start()
        let url = server.baseURL
        await server.shutdown()
        let client = HTTPClient()
        do {
            _ = try await client.execute(try HTTPRequest(url: url), timeout: .seconds(5))
            Issue.record("expected a connection error")
        } catch {
            #expect("\(error)".contains("refused"), "\(error)")
        }
        await client.shutdown()
    }

    @Test func cancellingTheTaskClosesTheConnection() async throws {
        let server = try await TestServer.start { _ in .respond(delay: .seconds(10)) }
        let client = HTTPClient()
        let task = Task { try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(30)) }
        #expect(await server.wait { $0.requests.count == 1 })
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(await server.wait { $0.connectionsClosed == 1 })
        await client.shutdown()
        await server.shutdown()
    }

    @Test func requestsAfterShutdownFail() async throws {
        let client = HTTPClient()
        await client.shutdown()
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(try HTTPRequest(url: "http://127.0.0.1:1/"), timeout: .seconds(1))
        }
        #expect(error?.code == .shutDown)
    }

    // MARK: redirects, streaming

    @Test func redirectsAreFollowedOnlyWhenConfigured() async throws {
        let server = try await TestServer.start { request in
            switch request.uri {
            case "/old": .respond(status: 302, headers: [("Location", "/new")])
            case "/loop": .respond(status: 301, headers: [("Location", "/loop")])
            default: .respond(body: Array(request.uri.utf8))
            }
        }
        let following = HTTPClient(configuration: .init(maxRedirects: 3))
        let moved = try await following.execute(try HTTPRequest(url: server.baseURL + "/old"), timeout: .seconds(5))
        #expect(text(moved) == "/new")
        let error = await #expect(throws: HTTPClientError.self) {
            try await following.execute(try HTTPRequest(url: server.baseURL + "/loop"), timeout: .seconds(5))
        }
        #expect(error?.code == .tooManyRedirects)
        let plain = HTTPClient()
        #expect(
            try await plain.execute(try HTTPRequest(url: server.baseURL + "/old"), timeout: .seconds(5)).status
                == .found)
        await following.shutdown()
        await plain.shutdown()
        await server.shutdown()
    }

    @Test func streamedBodyArrivesInPartsAndFreesTheConnection() async throws {
        let lines = (0..<20).map { "{\"n\":\($0)}\n" }.joined()
        let server = try await TestServer.start { _ in .respond(body: Array(lines.utf8), chunks: 20) }
        let client = HTTPClient()
        let response = try await client.stream(try HTTPRequest(url: server.baseURL + "/watch"), timeout: .seconds(5))
        #expect(response.status == .ok)
        var received: [UInt8] = []
        for try await part in response.body { received += part.readableBytesView }
        #expect(String(decoding: received, as: UTF8.self) == lines)
        _ = try await client.execute(try HTTPRequest(url: server.baseURL), timeout: .seconds(5))
        #expect(server.connectionsOpened == 1)
        await client.shutdown()
        await server.shutdown()
    }

    @Test func abandoningAStreamClosesItsConnection() async throws {
        let server = try await TestServer.start { _ in .stall(first: Array("first".utf8)) }
        let client = HTTPClient()
        do {
            let response = try await client.stream(try HTTPRequest(url: server.baseURL), timeout: .seconds(30))
            for try await part in response.body {
                #expect(String(buffer: part) == "first")
                break
            }
        }
        #expect(await server.wait { $0.connectionsClosed == 1 })
        await client.shutdown()
        await server.shutdown()
    }

    // MARK: TLS

    /// A sink serving HTTPS with a fresh test CA's server certificate; with `requireClientCertificate`,
    /// clients must present a certificate that CA signed (mTLS).
    func tlsSink(requireClientCertificate: Bool = false) async throws -> (TestCertificates, HTTPSink) {
        let pki = try TestCertificates.generate()
        do {
            let sink = try await HTTPSink.start(
                tls: .init(
                    certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey,
                    clientCAFile: requireClientCertificate ? pki.caCertificate : nil))
            return (pki, sink)
        } catch {
            pki.remove()
            throw error
        }
    }

    @Test func httpsWithTheCAFileVerifiesTheServer() async throws {
        let (pki, sink) = try await tlsSink()
        defer { pki.remove() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(pki.caCertificate)
        let client = HTTPClient(configuration: .init(tls: tls))
        // By IP (no SNI, the IP SAN is checked) and by name (SNI `localhost`, the DNS SAN is checked).
        for url in [sink.baseURL, "https://localhost:\(sink.port)"] {
            #expect(try await client.execute(try HTTPRequest(url: url + "/x"), timeout: .seconds(5)).status == .ok)
        }
        await client.shutdown()
        try await sink.shutdown()
    }

    @Test func httpsWithoutTheCAFailsVerificationUnlessSkipped() async throws {
        let (pki, sink) = try await tlsSink()
        defer { pki.remove() }
        let strict = HTTPClient()
        do {
            _ = try await strict.execute(try HTTPRequest(url: sink.baseURL), timeout: .seconds(5))
            Issue.record("expected a verification failure")
        } catch {
            #expect(error is NIOSSLError, "\(error)")
            #expect("\(error)".uppercased().contains("CERTIFICATE_VERIFY_FAILED"), "\(error)")
        }
        var insecure = TLSConfiguration.makeClientConfiguration()
        insecure.certificateVerification = .none
        let skipping = HTTPClient(configuration: .init(tls: insecure))
        #expect(try await skipping.execute(try HTTPRequest(url: sink.baseURL), timeout: .seconds(5)).status == .ok)
        #expect(sink.requests.count == 1)
        await strict.shutdown()
        await skipping.shutdown()
        try await sink.shutdown()
    }

    @Test func mutualTLSPresentsTheClientCertificate() async throws {
        let (pki, sink) = try await tlsSink(requireClientCertificate: true)
        defer { pki.remove() }
        var withCertificate = TLSConfiguration.makeClientConfiguration()
        withCertificate.trustRoots = .file(pki.caCertificate)
        withCertificate.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.clientCertificate).map {
            .certificate($0)
        }
        withCertificate.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki.clientKey, format: .pem))
        let client = HTTPClient(configuration: .init(tls: withCertificate))
        #expect(try await client.execute(try HTTPRequest(url: sink.baseURL), timeout: .seconds(5)).status == .ok)

        var withoutCertificate = TLSConfiguration.makeClientConfiguration()
        withoutCertificate.trustRoots = .file(pki.caCertificate)
        let anonymous = HTTPClient(configuration: .init(tls: withoutCertificate))
        await #expect(throws: (any Error).self) {
            try await anonymous.execute(try HTTPRequest(url: sink.baseURL), timeout: .seconds(5))
        }
        #expect(sink.requests.count == 1)
        await client.shutdown()
        await anonymous.shutdown()
        try await sink.shutdown()
    }
}

@Suite struct HTTPURLTests {
    @Test func splitsSchemeHostPortAndTarget() throws {
        let url = try HTTPURL("HTTPS://user:pw@Example.com:8443/v1/traces?x=1#frag")
        #expect(url.scheme == .https)
        #expect(url.host == "example.com")
        #expect(url.port == 8443)
        #expect(url.target == "/v1/traces?x=1")
        #expect(url.hostHeader == "example.com:8443")
        #expect(try HTTPURL("http://10.0.0.1").target == "/")
        #expect(try HTTPURL("http://10.0.0.1?q").target == "/?q")
        #expect(try HTTPURL("http://10.0.0.1").hostIsIPAddress)
        #expect(try !HTTPURL("http://10.0.0.1.example").hostIsIPAddress)
        let v6 = try HTTPURL("https://[fd00::1]/metrics")
        #expect(v6.host == "fd00::1")
        #expect(v6.port == 443)
        #expect(v6.hostHeader == "[fd00::1]")
        #expect(v6.hostIsIPAddress)
    }

    /// The scheme ends at the first `://`, not at the first `:` (found on the bytes, `schemeSeparator`).
    @Test func theSchemeEndsAtTheFirstColonSlashSlash() throws {
        let url = try HTTPURL("http://h:8080/x?next=https://other")
        #expect(url.host == "h" && url.port == 8080 && url.target == "/x?next=https://other")
        #expect(HTTPURL.schemeSeparator("a:b://c").map { "a:b://c"[$0] } == "://")
        #expect(HTTPURL.schemeSeparator("http:/x") == nil)
        #expect(HTTPURL.schemeSeparator("http:") == nil)
    }

    @Test(arguments: [
        "ftp://x/", "http://", "http://:80/", "http://h:0/", "http://h:99999/", "h:80/x", "http://[::1", "a:b://c",
    ])
    func rejectsBadURLs(_ text: String) {
        #expect(throws: HTTPClientError.self) { try HTTPURL(text) }
    }

    @Test func resolvesRedirectLocations() throws {
        let base = try HTTPURL("http://h:8080/a/b?q")
        #expect(try base.resolving("/c").description == "http://h:8080/c")
        #expect(try base.resolving("c").description == "http://h:8080/a/c")
        #expect(try base.resolving("https://o/p").description == "https://o/p")
        #expect(try base.resolving("//o:1/p").description == "http://o:1/p")
    }
}
