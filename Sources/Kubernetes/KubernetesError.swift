import OTLPJSON

/// A `Status` the API server answered with (or an `ERROR` watch event carried), plus the response's
/// `Retry-After`.
public struct KubernetesStatus: Sendable, Equatable, CustomStringConvertible {
    /// HTTP status code (`code` of the Status object).
    public var code: Int
    /// `reason` (`Expired`, `Conflict`, `NotFound`, …), empty if none.
    public var reason: String
    public var message: String
    /// `Retry-After` (header, or `details.retryAfterSeconds`), if the server sent one.
    public var retryAfter: Duration?

    public init(code: Int, reason: String = "", message: String = "", retryAfter: Duration? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.retryAfter = retryAfter
    }

    /// From a `Status` object; `code` and `retryAfter` fill what the object lacks.
    init(_ status: JSONValue?, code: Int, retryAfter: Duration?) {
        self.code = status?["code"]?.int ?? code
        self.reason = status?["reason"]?.string ?? ""
        self.message = status?["message"]?.string ?? ""
        let seconds = status?["details"]?["retryAfterSeconds"]?.int
        self.retryAfter = retryAfter ?? seconds.map { .seconds($0) }
    }

    public var description: String {
        var text = "HTTP \(code)"
        if !reason.isEmpty { text += " \(reason)" }
        if !message.isEmpty { text += ": \(message)" }
        return text
    }
}

/// Why a Kubernetes API call failed. `gone` and `conflict` are their own cases because callers act on
/// them: re-list after 410 Gone, re-read the Lease after 409 Conflict.
public enum KubernetesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 410 Gone / `Expired`: the resourceVersion (or continue token) is too old. As an HTTP status, or as
    /// an `ERROR` watch event with `code: 410`.
    case gone(KubernetesStatus)
    /// 409 Conflict: the object changed since its resourceVersion was read (or already exists, on create).
    case conflict(KubernetesStatus)
    /// 404 Not Found.
    case notFound(KubernetesStatus)
    /// Any other non-2xx answer, or any other `ERROR` watch event.
    case failed(KubernetesStatus)
    /// A response that is not what the API sends (not JSON, no `items`, a line over the limit).
    case invalidResponse(String)
    /// A call the client refuses to send (a Lease update without a resourceVersion to check).
    case invalidRequest(String)

    init(_ status: KubernetesStatus) {
        switch status.code {
        case 410: self = .gone(status)
        case 409: self = .conflict(status)
        case 404: self = .notFound(status)
        default: self = .failed(status)
        }
    }

    public var status: KubernetesStatus? {
        switch self {
        case .gone(let s), .conflict(let s), .notFound(let s), .failed(let s): s
        case .invalidResponse, .invalidRequest: nil
        }
    }

    public var description: String {
        switch self {
        case .invalidResponse(let reason): "invalid response from the Kubernetes API: \(reason)"
        case .invalidRequest(let reason): "invalid Kubernetes API request: \(reason)"
        case .failed(let status) where status.code == 401:
            "Kubernetes API: \(status) (the API server does not accept the bearer token of token_path)"
        default: "Kubernetes API: \(status?.description ?? "")"
        }
    }
}
