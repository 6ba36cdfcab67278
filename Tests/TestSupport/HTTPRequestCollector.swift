public import NIOHTTP1

/// Gathers one HTTP request from the parts NIO's server pipeline hands a handler (head, body pieces, end):
/// how the test servers (``HTTPSink``, the fake Kubernetes API, HTTPClientTests' server) read requests.
public struct HTTPRequestCollector {
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    public init() {}

    /// The whole request once `part` is its end; nil before.
    public mutating func add(_ part: HTTPServerRequestPart) -> (head: HTTPRequestHead, body: [UInt8])? {
        switch part {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return nil }
            self.head = nil
            return (head, body)
        }
        return nil
    }
}
