import FluxtelConfig
import NIOHTTP1
import OTLPWire
import Pipeline
import Testing

@testable import OTLPReceiver

/// A request head as NIO would read it.
func head(
    _ uri: String = "/v1/traces", method: HTTPMethod = .POST, contentType: String? = "application/x-protobuf",
    headers extra: [(String, String)] = []
) -> HTTPRequestHead {
    var headers = HTTPHeaders(extra)
    if let contentType { headers.add(name: "Content-Type", value: contentType) }
    return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers)
}

func refusal(_ admission: Admission, _ head: HTTPRequestHead) -> Refusal? {
    do {
        _ = try admission.admit(head)
        return nil
    } catch {
        return error
    }
}

func header(_ refusal: Refusal?, _ name: String) -> String? {
    refusal?.response.extraHeaders.first { $0.0 == name }?.1
}

/// The admission policy as a pure value: every decision the receiver takes before and after reading a
/// body, without a socket.
@Suite struct AdmissionTests {
    let admission = Admission(OTLPReceiverConfiguration())

    @Test func pathsMapToSignalsAndTheConfiguredTracesPaths() {
        #expect(admission.signal(forPath: "/v1/traces") == .traces)
        #expect(admission.signal(forPath: "/v1/logs") == .logs)
        #expect(admission.signal(forPath: "/v1/metrics") == .metrics)
        #expect(admission.signal(forPath: "/") == .traces)  // `traces_paths` defaults to ["/"]
        #expect(admission.signal(forPath: "/v1/profiles") == nil)
        var configuration = OTLPReceiverConfiguration()
        configuration.tracesPaths = ["/otel"]
        let custom = Admission(configuration)
        #expect(custom.signal(forPath: "/otel") == .traces)
        #expect(custom.signal(forPath: "/") == nil)
        // the query string is not part of the path
        #expect((try? admission.admit(head("/v1/logs?x=1")))?.signal == .logs)
    }

    @Test func anUnknownPathIs404BeforeAnythingElseIsLookedAt() {
        let refused = refusal(admission, head("/nope", method: .GET, contentType: "text/plain"))
        #expect(refused?.reason == "not_found")
        #expect(refused?.response.status == .notFound)
        // counted under traces (a guess: the path names no signal)
        #expect(admission.signalGuess(head("/nope")) == .traces)
        #expect(admission.signalGuess(head("/v1/metrics", method: .GET)) == .metrics)
    }

    @Test func onlyPostIsAllowed() {
        let refused = refusal(admission, head(method: .GET))
        #expect(refused?.reason == "method_not_allowed")
        #expect(refused?.response.status == .methodNotAllowed)
        #expect(header(refused, "Allow") == "POST")
    }

    @Test(arguments: [
        ("", "", "token", nil as String?, "Bearer"),
        ("", "", "token", "Bearer wrong", "Bearer"),
        ("user", "pass", "", "Basic dXNlcjpwYXNz", nil),
        ("user", "pass", "", "Basic dXNlcjpwYXNzeA==", "Basic"),
        ("user", "pass", "token", "Bearer token", nil),
        ("user", "pass", "token", "Basic dXNlcjpwYXNz", nil),
        ("", "", "", nil, nil),
    ])
    func authorization(username: String, password: String, token: String, given: String?, challenge: String?) {
        var configuration = OTLPReceiverConfiguration()
        configuration.basicUsername = username
        configuration.basicPassword = password
        configuration.bearerToken = token
        let refused = refusal(Admission(configuration), head(headers: given.map { [("Authorization", $0)] } ?? []))
        if let challenge {
            #expect(refused?.reason == "unauthorized")
            #expect(refused?.response.status == .unauthorized)
            #expect(header(refused, "WWW-Authenticate") == challenge)
        } else {
            #expect(refused == nil)
        }
    }

    @Test func contentTypeChoosesTheEncodingAndAnUnknownOneIs415() throws {
        #expect(try admission.admit(head(contentType: "application/x-protobuf")).encoding == .protobuf)
        #expect(try admission.admit(head(contentType: "application/protobuf")).encoding == .protobuf)
        #expect(try admission.admit(head(contentType: "Application/JSON; charset=utf-8")).encoding == .json)
        let refused = refusal(admission, head(contentType: "text/plain"))
        #expect(refused?.reason == "unsupported_media_type")
        #expect(refused?.response.status == .unsupportedMediaType)
        #expect(refused?.response.contentType == "application/x-protobuf")
        #expect(refusal(admission, head(contentType: nil))?.reason == "unsupported_media_type")
    }

    @Test func contentEncodingIsGzipDeflateOrIdentity() throws {
        #expect(try admission.admit(head()).compression == nil)
        #expect(try admission.admit(head(headers: [("Content-Encoding", "identity")])).compression == nil)
        #expect(try admission.admit(head(headers: [("Content-Encoding", "GZIP")])).compression == .gzip)
        #expect(try admission.admit(head(headers: [("Content-Encoding", "x-gzip")])).compression == .gzip)
        #expect(try admission.admit(head(headers: [("Content-Encoding", "deflate")])).compression == .deflate)
        let refused = refusal(admission, head(contentType: "application/json", headers: [("Content-Encoding", "br")]))
        #expect(refused?.reason == "unsupported_encoding")
        #expect(refused?.response.status == .unsupportedMediaType)
        #expect(refused?.response.contentType == "application/json")  // answered in the request's encoding
    }

    @Test func aDeclaredLengthOverTheLimitIs413AndClosesTheConnection() throws {
        var configuration = OTLPReceiverConfiguration()
        configuration.maxRequestBody = 1024
        let small = Admission(configuration)
        #expect(try small.admit(head(headers: [("Content-Length", "1024")])).signal == .traces)
        let refused = refusal(small, head(headers: [("Content-Length", "1025")]))
        #expect(refused?.reason == "too_large")
        #expect(refused?.response.status == .payloadTooLarge)
        #expect(refused?.response.close == true)
    }

    @Test func backpressureIs429WhileFullAnd503WhileClosingBothWithRetryAfter() {
        #expect(admission.backpressure(.accepted, encoding: .protobuf, items: 3) == nil)
        let full = admission.backpressure(.full, encoding: .json, items: 3)
        #expect(full?.reason == "queue_full")
        #expect(full?.response.status == .tooManyRequests)
        #expect(full?.items == 3)
        #expect(header(full, "Retry-After") == "1")
        #expect(full?.response.contentType == "application/json")
        let closed = admission.backpressure(.closed, encoding: .protobuf, items: 2)
        #expect(closed?.reason == "shutting_down")
        #expect(closed?.response.status == .serviceUnavailable)
        #expect(closed?.items == 2)
        #expect(header(closed, "Retry-After") == "1")
    }

    @Test func theLeastDecodedSizeAllowsForGzipOverheadOnProtobufOnly() {
        #expect(Admission.leastDecodedBytes(received: 0, encoding: .protobuf) == 1)
        #expect(Admission.leastDecodedBytes(received: 81920, encoding: .protobuf) == 81920 - 10 - 64)
        #expect(Admission.leastDecodedBytes(received: 81920, encoding: .json) == 1)
    }

    @Test func basicCredentialsAreBase64AndComparedWhole() {
        #expect(base64Encode(Array("".utf8)) == [])
        #expect(String(decoding: base64Encode(Array("f".utf8)), as: UTF8.self) == "Zg==")
        #expect(String(decoding: base64Encode(Array("fo".utf8)), as: UTF8.self) == "Zm8=")
        #expect(String(decoding: base64Encode(Array("foo".utf8)), as: UTF8.self) == "Zm9v")
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 0]))
        #expect(!constantTimeEquals([], [0]))
    }
}
