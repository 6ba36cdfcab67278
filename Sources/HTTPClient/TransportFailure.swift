import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// What kind of transport failure an error is, told by its type (NIOSSL, NIO's connection and channel
/// errors, errno, the client's own timeouts), never by its text: the exporter logs and hints by it.
public enum TransportFailure: Sendable, Hashable {
    /// The server's certificate was not trusted (BoringSSL's `CERTIFICATE_VERIFY_FAILED`).
    case tlsVerification
    /// Any other TLS failure (handshake, hostname, unclean shutdown).
    case tlsHandshake
    /// The connect or the request ran out of time.
    case timeout
    /// Anything else: refused, reset, closed, unreachable, unresolvable.
    case connection

    public init(_ error: any Error) {
        switch error {
        case let error as NIOSSLError:
            self = Self.isVerificationFailure(error) ? .tlsVerification : .tlsHandshake
        case is NIOSSLExtraError:
            self = .tlsHandshake
        case let error as HTTPClientError:
            self = error.isTimeout ? .timeout : .connection
        case let error as NIOConnectionError:
            // Every address tried failed; timed out when one of them did.
            let failures = error.connectionErrors.map { TransportFailure($0.error) }
            self = failures.contains(.timeout) ? .timeout : .connection
        case let error as ChannelError:
            if case .connectTimeout = error { self = .timeout } else { self = .connection }
        case let error as IOError:
            self = error.errnoCode == ETIMEDOUT ? .timeout : .connection
        default:
            self = .connection
        }
    }

    /// A handshake BoringSSL failed because the certificate did not verify.
    static func isVerificationFailure(_ error: NIOSSLError) -> Bool {
        guard case .handshakeFailed(let inner) = error else { return false }
        switch inner {
        case .sslError(let stack), .unknownError(let stack):
            return isVerificationFailure(reasons: stack.map { "\($0)" })
        default: return false
        }
    }

    /// BoringSSL's error stack carries its reasons only as text (the reason code is not public); the
    /// reason names are stable.
    static func isVerificationFailure(reasons: [String]) -> Bool {
        reasons.contains { reason in
            let reason = reason.lowercased()
            return reason.contains("certificate_verify_failed") || reason.contains("certificate verify")
                || reason.contains("unable to get local issuer")
        }
    }
}
