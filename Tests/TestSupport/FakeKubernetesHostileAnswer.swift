/// An answer a broken or hostile API server sends, as raw bytes for ``FakeKubernetesAPI/answerNext(raw:uriContains:watch:)``:
/// truncated JSON, a 2 GB chunk length, deep nesting, unknown event types, a Status where an object
/// belongs. Each is for the Kustomizations (`kustomize.toolkit.fluxcd.io/v1`), to a list (`watch == false`)
/// or a watch request.
public struct FakeKubernetesHostileAnswer: Sendable, CustomStringConvertible {
    public var name: String
    public var raw: [UInt8]
    public var watch: Bool
    /// What the error (and a logged warning) says; empty: a transport error, whatever its text.
    public var says: String
    public var description: String { name }

    /// A BOOKMARK at the fixture list's resourceVersion: a good event that changes no object.
    public static let bookmark =
        #"{"type":"BOOKMARK","object":{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","#
        + #""metadata":{"resourceVersion":"483571"}}}"# + "\n"
    /// The Status of a failed request.
    public static let status =
        #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: request timed out","#
        + #""reason":"Timeout","code":504}"#

    /// A whole HTTP/1.1 answer with `body` and its Content-Length (or `contentLength`, to cut it short).
    public static func response(_ body: String, contentLength: Int? = nil) -> [UInt8] {
        Array(
            ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(contentLength ?? body.utf8.count)"
                + "\r\n\r\n" + body).utf8)
    }

    /// A chunked watch answer whose body is `chunks` as they are (chunk-size lines included).
    public static func watchResponse(_ chunks: String) -> [UInt8] {
        Array(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks).utf8)
    }

    /// `lines` as one chunk and the last chunk.
    public static func chunked(_ lines: String) -> String {
        "\(String(lines.utf8.count, radix: 16))\r\n\(lines)\r\n0\r\n\r\n"
    }

    public static let truncatedList = Self(
        name: "truncated list JSON", raw: response(#"{"kind":"KustomizationList","items":[{"metadata":{"na"#),
        watch: false, says: "the body is not JSON")
    public static let shortList = Self(
        name: "list body shorter than its Content-Length", raw: response(#"{"items":["#, contentLength: 5000),
        watch: false, says: "")
    public static let deepList = Self(
        name: "deeply nested list", raw: response(#"{"items":"# + String(repeating: "[", count: 100_000)),
        watch: false, says: "nested deeper than")
    public static let statusAsList = Self(
        name: "a Status where a list belongs", raw: response(status), watch: false,
        says: "a list without items (Status)")
    public static let twoGBChunk = Self(
        name: "2 GB chunk length", raw: watchResponse("80000000\r\n" + bookmark + #"{"type":"MODIFIED","obj"#),
        watch: true, says: "")
    public static let overflowingChunk = Self(
        name: "chunk length beyond 64 bits", raw: watchResponse("fffffffffffffffffffff\r\n" + bookmark), watch: true,
        says: "")
    public static let truncatedEvent = Self(
        name: "truncated watch event", raw: watchResponse(chunked(#"{"type":"ADDED","object":{"metadata""# + "\n")),
        watch: true, says: "watch event")
    public static let deepEvent = Self(
        name: "deeply nested watch event",
        raw: watchResponse(
            chunked(
                #"{"type":"ADDED","object":"# + String(repeating: #"{"a":"#, count: 1000) + "1"
                    + String(repeating: "}", count: 1001) + "\n")),
        watch: true, says: "nested deeper than")
    public static let unknownEventType = Self(
        name: "unknown event type", raw: watchResponse(chunked(#"{"type":"RESTARTED","object":{}}"# + "\n")),
        watch: true, says: "without a known type")
    public static let statusInEvent = Self(
        name: "a Status in an ADDED event", raw: watchResponse(chunked(#"{"type":"ADDED","object":"# + status + "}\n")),
        watch: true, says: "a Status in a watch ADDED event")

    public static let all: [Self] = [
        truncatedList, shortList, deepList, statusAsList, twoGBChunk, overflowingChunk, truncatedEvent, deepEvent,
        unknownEventType, statusInEvent,
    ]
}
