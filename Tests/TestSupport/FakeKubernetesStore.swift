public import OTLPJSON

/// The state behind ``FakeKubernetesAPI``, as a value: objects per collection, one resourceVersion
/// counter for everything (as etcd has), the event history that watches replay, paged lists over
/// snapshots, and optimistic concurrency on updates. No sockets: the server only turns its answers
/// into HTTP.
///
/// A *collection* is a resource path without the namespace: `/api/v1/pods`,
/// `/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations`; requests with `/namespaces/<ns>/` see the
/// objects of that namespace only.
public struct FakeKubernetesStore: Sendable {
    public struct Key: Hashable, Sendable {
        public var collection: String
        public var namespace: String
        public var name: String
    }

    public struct Event: Sendable {
        public var resourceVersion: Int
        public var collection: String
        public var namespace: String
        public var type: String
        public var object: JSONValue

        /// One line of a watch stream.
        public var line: [UInt8] { JSONValue.object(["type": .string(type), "object": object]).encoded() + [0x0A] }
    }

    /// An answer other than 200: the HTTP status and a `Status` object.
    public struct Failure: Error, Sendable {
        public var code: Int
        public var reason: String
        public var message: String

        public var body: JSONValue {
            .object([
                "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
                "status": .string("Failure"), "message": .string(message), "reason": .string(reason),
                "code": .number(Double(code)),
            ])
        }
    }

    public private(set) var objects: [Key: JSONValue] = [:]
    /// Collections that were loaded or written. With `unknownCollectionsNotFound`, a list or watch of any
    /// other collection is 404 (as a real server answers for a resource its version does not serve).
    public private(set) var knownCollections: Set<String> = []
    public var unknownCollectionsNotFound = false
    /// The last resourceVersion handed out.
    public private(set) var resourceVersion = 1000
    public private(set) var history: [Event] = []
    /// Watches from a resourceVersion below this get 410 Gone (the history before it is compacted).
    public private(set) var oldestWatchable = 0
    /// Served versions per API group (`GET /apis/<group>`), preferred first.
    public var groups: [String: [String]] = [:]
    private var snapshots: [String: (resourceVersion: Int, items: [JSONValue])] = [:]
    private var nextSnapshot = 0

    public init() {}

    // MARK: changes

    /// Stores `object` (a new one: ADDED, else MODIFIED) with a new resourceVersion and returns the event.
    @discardableResult
    public mutating func put(_ object: JSONValue, in collection: String) -> Event {
        let key = Self.key(of: object, in: collection)
        knownCollections.insert(collection)
        return record(objects[key] == nil ? "ADDED" : "MODIFIED", object, key)
    }

    /// Removes an object; the DELETED event carries its last state with the deletion's resourceVersion.
    @discardableResult
    public mutating func delete(namespace: String, name: String, in collection: String) -> Event? {
        let key = Key(collection: collection, namespace: namespace, name: name)
        guard let object = objects[key] else { return nil }
        return record("DELETED", object, key)
    }

    /// Loads objects without events (the state before any watch), keeping their resourceVersions; the
    /// counter moves to the largest of them and `resourceVersion`.
    public mutating func load(_ items: [JSONValue], in collection: String, resourceVersion: Int = 0) {
        self.resourceVersion = max(self.resourceVersion, resourceVersion)
        knownCollections.insert(collection)
        for item in items {
            objects[Self.key(of: item, in: collection)] = item
            if let rv = Self.resourceVersion(of: item) { self.resourceVersion = max(self.resourceVersion, rv) }
        }
    }

    /// Forgets the event history: a watch from any older resourceVersion gets 410 Gone.
    public mutating func compact() {
        history.removeAll()
        oldestWatchable = resourceVersion
    }

    private mutating func record(_ type: String, _ object: JSONValue, _ key: Key) -> Event {
        resourceVersion += 1
        var stored = object
        stored["metadata"]?["resourceVersion"] = .string(String(resourceVersion))
        objects[key] = type == "DELETED" ? nil : stored
        let event = Event(
            resourceVersion: resourceVersion, collection: key.collection, namespace: key.namespace, type: type,
            object: stored)
        history.append(event)
        return event
    }

    // MARK: reads

    func checkServed(_ collection: String) throws(Failure) {
        guard unknownCollectionsNotFound, !knownCollections.contains(collection) else { return }
        throw Failure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    /// A list page (`limit`, `continue`); all pages of one list share the first page's snapshot.
    public mutating func list(
        collection: String, namespace: String?, limit: Int?, continueToken: String?
    ) throws(Failure) -> JSONValue {
        try checkServed(collection)
        let snapshot: (resourceVersion: Int, items: [JSONValue])
        var offset = 0
        if let continueToken, !continueToken.isEmpty {
            let parts = continueToken.split(separator: ":")
            guard parts.count == 2, let saved = snapshots[String(parts[0])], let start = Int(parts[1]) else {
                throw Failure(
                    code: 410, reason: "Expired",
                    message: "The provided continue parameter is too old to display a consistent list result.")
            }
            snapshot = saved
            offset = start
        } else {
            snapshot = (resourceVersion, current(collection: collection, namespace: namespace).map(\.value))
        }
        let end = limit.map { min(snapshot.items.count, offset + max($0, 1)) } ?? snapshot.items.count
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(snapshot.resourceVersion))]
        if end < snapshot.items.count {
            nextSnapshot += 1
            let id = "s\(nextSnapshot)"
            snapshots[id] = snapshot
            metadata["continue"] = .string("\(id):\(end)")
            metadata["remainingItemCount"] = .number(Double(snapshot.items.count - end))
        }
        let kind = snapshot.items.first?["kind"]?.string.map { $0 + "List" } ?? "List"
        return .object([
            "apiVersion": .string(Self.apiVersion(of: collection)), "kind": .string(kind),
            "metadata": .object(metadata), "items": .array(Array(snapshot.items[offset..<end])),
        ])
    }

    /// The events a watch from `resourceVersion` starts with: the history after it, or (from "" or "0")
    /// an ADDED for every current object. 410 Gone when that history is compacted.
    public func watchStart(
        collection: String, namespace: String?, resourceVersion from: String
    ) throws(Failure) -> [Event] {
        try checkServed(collection)
        let matches = { (event: Event) in
            event.collection == collection && (namespace == nil || event.namespace == namespace)
        }
        guard let start = Int(from), start != 0 else {
            return current(collection: collection, namespace: namespace).map {
                Event(
                    resourceVersion: Self.resourceVersion(of: $0.value) ?? resourceVersion,
                    collection: collection, namespace: $0.key.namespace, type: "ADDED", object: $0.value)
            }
        }
        guard start >= oldestWatchable else {
            throw Failure(
                code: 410, reason: "Expired", message: "too old resource version: \(start) (\(oldestWatchable))")
        }
        return history.filter { $0.resourceVersion > start && matches($0) }
    }

    public func get(namespace: String, name: String, in collection: String) throws(Failure) -> JSONValue {
        guard let object = objects[Key(collection: collection, namespace: namespace, name: name)] else {
            throw Failure(code: 404, reason: "NotFound", message: "\"\(name)\" not found")
        }
        return object
    }

    /// POST: 409 AlreadyExists if the name is taken.
    public mutating func create(_ object: JSONValue, in collection: String) throws(Failure) -> JSONValue {
        let key = Self.key(of: object, in: collection)
        guard objects[key] == nil else {
            throw Failure(code: 409, reason: "AlreadyExists", message: "\"\(key.name)\" already exists")
        }
        return record("ADDED", object, key).object
    }

    /// PUT: 409 Conflict unless `metadata.resourceVersion` is the stored one.
    public mutating func update(_ object: JSONValue, in collection: String) throws(Failure) -> JSONValue {
        let key = Self.key(of: object, in: collection)
        guard let current = objects[key] else {
            throw Failure(code: 404, reason: "NotFound", message: "\"\(key.name)\" not found")
        }
        guard object["metadata"]?["resourceVersion"]?.string == current["metadata"]?["resourceVersion"]?.string else {
            throw Failure(
                code: 409, reason: "Conflict",
                message:
                    "Operation cannot be fulfilled on \"\(key.name)\": the object has been modified; please apply your changes to the latest version and try again"
            )
        }
        return record("MODIFIED", object, key).object
    }

    /// `GET /apis/<group>`: the APIGroup object.
    public func group(_ name: String) throws(Failure) -> JSONValue {
        guard let versions = groups[name], let preferred = versions.first else {
            throw Failure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        func version(_ v: String) -> JSONValue {
            .object(["groupVersion": .string("\(name)/\(v)"), "version": .string(v)])
        }
        return .object([
            "kind": .string("APIGroup"), "apiVersion": .string("v1"), "name": .string(name),
            "versions": .array(versions.map(version)), "preferredVersion": version(preferred),
        ])
    }

    // MARK: helpers

    /// The objects of a collection (in one namespace, or all), sorted by namespace and name as the API server does.
    func current(collection: String, namespace: String?) -> [(key: Key, value: JSONValue)] {
        objects.filter { $0.key.collection == collection && (namespace == nil || $0.key.namespace == namespace) }
            .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
    }

    static func key(of object: JSONValue, in collection: String) -> Key {
        Key(
            collection: collection, namespace: object["metadata"]?["namespace"]?.string ?? "",
            name: object["metadata"]?["name"]?.string ?? "")
    }

    static func resourceVersion(of object: JSONValue) -> Int? {
        object["metadata"]?["resourceVersion"]?.string.flatMap { Int($0) }
    }

    /// `v1` for `/api/v1/...`, `<group>/<version>` for `/apis/<group>/<version>/...`.
    static func apiVersion(of collection: String) -> String {
        let parts = collection.split(separator: "/")
        if parts.first == "api", parts.count > 1 { return String(parts[1]) }
        if parts.count > 2 { return "\(parts[1])/\(parts[2])" }
        return "v1"
    }
}
