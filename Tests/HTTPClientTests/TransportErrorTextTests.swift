import Foundation
import HTTPClient
import NIOCore
import Testing

/// Transport errors reach logs and `/status` in words (issue 16, point 4): `connection refused
/// (127.0.0.1:PORT)`, not `connection reset (error set): Connection refused (errno: 111)`.
@Suite struct TransportErrorTextTests {
    /// A port on 127.0.0.1 held (bound, not listening) for the test: a connect is refused, and no other
    /// test can take the port meanwhile.
    final class RefusingPort {
        let fd: Int32
        let port: Int
        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.fd = fd
            self.port = Int(UInt16(bigEndian: address.sin_port))
            try #require(bound == 0)
        }
        deinit { close(fd) }
    }

    @Test func connectionRefusedIsSaidInWords() async throws {
        let refusing = try RefusingPort()
        let client = HTTPClient()
        do {
            _ = try await client.execute(
                HTTPRequest(url: "http://127.0.0.1:\(refusing.port)/v1/traces"), timeout: .seconds(30))
            Issue.record("a port with no listener answered")
        } catch {
            #expect(
                TransportErrorText.describe(error, host: "127.0.0.1", port: refusing.port)
                    == "connection refused (127.0.0.1:\(refusing.port))", "\(error)")
        }
        await client.shutdown()
    }

    @Test func errnoPhrases() {
        #expect(TransportErrorText.words(errno: ECONNREFUSED) == "connection refused")
        #expect(TransportErrorText.words(errno: ECONNRESET) == "connection reset by the server")
        #expect(
            TransportErrorText.describe(
                IOError(errnoCode: ETIMEDOUT, reason: "connect"), host: "ingress.example.com", port: 443)
                == "connection timed out (ingress.example.com:443)")
        #expect(
            TransportErrorText.describe(ChannelError.eof, host: "10.0.0.1", port: 4318)
                == "connection closed by the server (10.0.0.1:4318)")
    }
}
