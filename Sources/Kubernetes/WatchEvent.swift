public import OTLPJSON

/// One event of a watch stream: `{"type":"ADDED","object":{…}}`.
public struct WatchEvent: Sendable, Equatable {
    public enum EventType: String, Sendable, Equatable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        /// Only `metadata.resourceVersion` of the object is meaningful: progress to resume from.
        case bookmark = "BOOKMARK"
        /// The object is a `Status` (410 `Expired` when the resourceVersion is too old); the server
        /// ends the stream after it.
        case error = "ERROR"
    }

    public var type: EventType
    public var object: JSONValue

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// Decodes one line of a watch stream.
    public init(line: UnsafeBufferPointer<UInt8>) throws(KubernetesError) {
        let value: JSONValue
        do { value = try JSONValue.parse(line) } catch {
            throw .invalidResponse("watch event: \(error)")
        }
        guard let typeName = value["type"]?.string, let type = EventType(rawValue: typeName),
            let object = value["object"], object.object != nil
        else { throw .invalidResponse("watch event without a known type and an object") }
        self.init(type: type, object: object)
    }

    /// `metadata.resourceVersion` of the object (empty for an ERROR).
    public var resourceVersion: String { object["metadata"]?["resourceVersion"]?.string ?? "" }

    /// For an ADDED, MODIFIED or DELETED event whose object is a `Status` (`kind: Status`, what only an
    /// ERROR event should carry): the error it stands for, as ``KubernetesError/invalidResponse(_:)``.
    public var statusError: KubernetesError? {
        guard type != .error, type != .bookmark, object["kind"]?.string == "Status" else { return nil }
        let status = KubernetesStatus(object, code: 500, retryAfter: nil)
        return .invalidResponse("a Status in a watch \(type.rawValue) event: \(status)")
    }

    /// The error an ERROR event stands for (``KubernetesError/gone(_:)`` for code 410); nil for other types.
    public var error: KubernetesError? {
        guard type == .error else { return nil }
        return KubernetesError(KubernetesStatus(object, code: 500, retryAfter: nil))
    }
}
