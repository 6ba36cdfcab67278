import NIOCore
import NIOSSL
import Testing

@testable import HTTPClient

#if canImport(Glibc)
import Glibc
#endif

/// Transport failures are told apart by the error's type, as values: no socket, no TLS handshake.
/// (A real untrusted certificate is `OTLPHTTPExporterTests`'.)
@Suite struct TransportFailureTests {
    @Test func timeoutsAreTimeouts() {
        #expect(TransportFailure(HTTPClientError(.connectTimeout, "no connection within 1 s")) == .timeout)
        #expect(TransportFailure(HTTPClientError(.deadlineExceeded, "no response within 5 s")) == .timeout)
        #expect(TransportFailure(ChannelError.connectTimeout(.seconds(1))) == .timeout)
        #expect(TransportFailure(IOError(errnoCode: ETIMEDOUT, reason: "connect")) == .timeout)
    }

    @Test func refusedResetAndClosedAreConnectionFailures() {
        #expect(TransportFailure(IOError(errnoCode: ECONNREFUSED, reason: "connect")) == .connection)
        #expect(TransportFailure(IOError(errnoCode: ECONNRESET, reason: "read")) == .connection)
        #expect(TransportFailure(ChannelError.eof) == .connection)
        #expect(TransportFailure(HTTPClientError(.connectionClosed, "closed before the response")) == .connection)
    }

    /// By type, not by text: an error that only mentions TLS or a timeout is not one.
    @Test func wordsInAMessageDoNotDecide() {
        struct Other: Error, CustomStringConvertible { var description: String }
        #expect(TransportFailure(Other(description: "SSL TLS timeout timed out")) == .connection)
        #expect(TransportFailure(HTTPClientError(.connectionClosed, "TLS peer went away")) == .connection)
    }

    @Test func tlsFailuresAreTLS() {
        #expect(TransportFailure(NIOSSLError.uncleanShutdown) == .tlsHandshake)
        #expect(TransportFailure(NIOSSLError.handshakeFailed(.sslError([.eofDuringHandshake]))) == .tlsHandshake)
        #expect(TransportFailure(NIOSSLExtraError.failedToValidateHostname) == .tlsHandshake)
    }

    @Test func anUntrustedCertificateIsAVerificationFailure() {
        #expect(
            TransportFailure.isVerificationFailure(reasons: [
                "Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at x.cc:1"
            ]))
        #expect(!TransportFailure.isVerificationFailure(reasons: ["Error:  EOF during handshake"]))
        #expect(!TransportFailure.isVerificationFailure(reasons: []))
    }
}
