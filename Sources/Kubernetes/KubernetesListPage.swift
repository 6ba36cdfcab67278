public import OTLPJSON

/// One page of a list response (`{"kind":"…List","metadata":{"resourceVersion":…,"continue":…},"items":[…]}`),
/// decoded from the body the API server sent. A body that is not JSON, not an object, or has no `items`
/// list (a `Status` where a list was expected) is ``KubernetesError/invalidResponse(_:)``.
public struct KubernetesListPage: Sendable, Equatable {
    public var items: [JSONValue]
    /// `metadata.resourceVersion`; empty when the page has none.
    public var resourceVersion: String
    /// `metadata.continue`: the token of the next page; empty on the last page.
    public var continueToken: String

    /// - Parameter path: the collection, for the error text.
    public init(decoding body: UnsafeBufferPointer<UInt8>, path: String) throws(KubernetesError) {
        let answer: JSONValue
        do { answer = try JSONValue.parse(body) } catch {
            throw .invalidResponse("\(path): the body is not JSON (\(error))")
        }
        try self.init(answer, path: path)
    }

    /// From a decoded list response.
    public init(_ answer: JSONValue, path: String) throws(KubernetesError) {
        switch answer["items"] {
        case .array(let pageItems): items = pageItems
        case .null: items = []  // an empty list may say `"items": null`
        default:
            let kind = answer["kind"]?.string.map { " (\($0))" } ?? ""
            throw .invalidResponse("\(path): a list without items\(kind)")
        }
        resourceVersion = answer["metadata"]?["resourceVersion"]?.string ?? ""
        continueToken = answer["metadata"]?["continue"]?.string ?? ""
    }
}
