import NIOCore
import OTLPJSON

extension KubernetesClient {
    /// Watches a collection from `resourceVersion` (with `allowWatchBookmarks=true`) and calls `event`
    /// for every event of the chunked response, ERROR events included. Returns when the server ends the
    /// watch (after `timeoutSeconds`, or at any time: watch again from the last resourceVersion seen).
    /// - Throws: a ``KubernetesError`` for a non-200 answer (410 Gone: list again); the HTTP client's
    ///   error when the connection drops; whatever `event` throws.
    public func watch(
        path: String, query: [(String, String)] = [], resourceVersion: String, timeoutSeconds: Int = 300,
        _ event: (WatchEvent) async throws -> Void
    ) async throws {
        var watchQuery = query
        watchQuery.append(("watch", "true"))
        watchQuery.append(("allowWatchBookmarks", "true"))
        watchQuery.append(("timeoutSeconds", "\(timeoutSeconds)"))
        if !resourceVersion.isEmpty { watchQuery.append(("resourceVersion", resourceVersion)) }
        let response = try await http.stream(
            request(path: path, query: watchQuery), timeout: .seconds(timeoutSeconds + 30))
        guard response.status == .ok else {
            var body: [UInt8] = []
            for try await chunk in response.body where body.count < 1 << 20 {
                body.append(contentsOf: chunk.readableBytesView)
            }
            throw KubernetesError(
                KubernetesStatus(
                    try? JSONValue.parse(body), code: Int(response.status.code),
                    retryAfter: Self.retryAfter(response.headers)))
        }
        var splitter = WatchLineSplitter(maxLineBytes: limits.maxEventBytes)
        var events: [WatchEvent] = []
        for try await chunk in response.body {
            try chunk.withUnsafeReadableBytes { raw in
                try splitter.feed(raw) { line in events.append(try WatchEvent(line: line)) }
            }
            for decoded in events { try await event(decoded) }
            events.removeAll(keepingCapacity: true)
        }
        if splitter.pending > 0 { throw KubernetesError.invalidResponse("watch stream ended inside an event") }
    }
}
