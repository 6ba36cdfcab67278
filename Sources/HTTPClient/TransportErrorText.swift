import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// Transport errors in words, for logs and `/status`: `connection refused (127.0.0.1:14391)` instead of
/// NIO's `connection reset (error set): Connection refused (errno: 111)`.
public enum TransportErrorText {
    /// What went wrong, in words, with the address it happened at when known.
    public static func describe(_ error: any Error, host: String? = nil, port: Int? = nil) -> String {
        let at = host.map { host in port.map { " (\(host):\($0))" } ?? " (\(host))" } ?? ""
        switch error {
        case let error as HTTPClientError:
            return error.message
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first {
                return describe(failure.error) + " (\(address(failure.target)))"
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                return "cannot resolve host \(error.host)"
            }
            return "cannot connect (\(error.host):\(error.port))"
        case let error as IOError:
            return words(errno: error.errnoCode) + at
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return "connection timed out" + at
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return "connection closed by the server" + at
            default: return "connection error: \(error)" + at
            }
        case let error as NIOSSLError:
            switch error {
            case .handshakeFailed(let inner): return "TLS handshake failed: \(inner)" + at
            case .uncleanShutdown: return "TLS connection closed uncleanly by the server" + at
            default: return "TLS error: \(error)" + at
            }
        case let error as SocketAddressError:
            return "cannot resolve address: \(error)" + at
        default:
            return "\(error)" + at
        }
    }

    /// An errno as a short phrase (the common connection failures), else `strerror`'s text.
    public static func words(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET: "connection reset by the server"
        case ETIMEDOUT: "connection timed out"
        case EHOSTUNREACH: "host unreachable"
        case ENETUNREACH: "network unreachable"
        case EPIPE: "connection closed by the server"
        case EADDRNOTAVAIL: "address not available"
        default: String(cString: strerror(code)).lowercased()
        }
    }

    static func address(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
