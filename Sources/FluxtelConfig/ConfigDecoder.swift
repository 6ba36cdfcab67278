/// Turns a YAML node tree into an `AgentConfiguration`, collecting every error instead of stopping
/// at the first: a bad value leaves its default in place and decoding goes on.
struct ConfigDecoder {
    let file: String
    let environment: [String: String]
    private(set) var errors: [ConfigError] = []
    /// Where the values of the keys `Preflight` checks are (key path → line, column).
    private(set) var positions: Preflight.Positions = [:]

    init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    /// Remembers where the value of `key` is, for `Preflight`'s messages.
    mutating func note(_ key: String, _ node: YAMLNode?) {
        if let node { positions[key] = (node.line, node.column) }
    }

    mutating func fail(_ code: ConfigError.Code, at node: YAMLNode, _ message: String) {
        errors.append(ConfigError(code: code, file: file, line: node.line, column: node.column, message: message))
    }

    // MARK: mappings

    /// The entries of a mapping with checked keys. An absent value (null) is an empty mapping.
    struct Fields {
        /// Where the mapping is, for "missing key" errors; nil for an implicit empty mapping.
        var node: YAMLNode?
        var path: String
        var values: [String: YAMLNode] = [:]

        subscript(key: String) -> YAMLNode? { values[key] }
        func has(_ key: String) -> Bool { values[key] != nil }
        func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    }

    /// Reads `node` as a mapping whose keys must be among `known` (in the order shown in messages).
    /// Reports unknown and duplicate keys; returns nil (after reporting) when `node` is not a mapping.
    mutating func fields(_ node: YAMLNode?, path: String, known: [String]) -> Fields? {
        guard let node else { return Fields(node: nil, path: path) }
        var fields = Fields(node: node, path: path)
        for entry in entries(node, path: path, expected: "a mapping") ?? [] {
            guard let key = entry.key.scalar?.value else { continue }
            if !known.contains(key) {
                let place = path.isEmpty ? "at the top level" : "in \(path)"
                fail(
                    .unknownKey, at: entry.key,
                    "unknown key '\(key)' \(place) (known: \(known.joined(separator: ", ")))")
                continue
            }
            fields.values[key] = entry.value
        }
        if case .mapping = node.content { return fields }
        return node.isNull ? fields : nil
    }

    /// A sequence read item by item (null: empty), leaving out the items `item` rejects (it reports why);
    /// nil, reported, when the node is not a sequence.
    mutating func sequence<Item>(
        _ node: YAMLNode, path: String, expected: String, _ item: (inout ConfigDecoder, YAMLNode, String) -> Item?
    ) -> [Item]? {
        if node.isNull { return [] }
        guard case .sequence(let nodes) = node.content else {
            fail(.wrongType, at: node, "expected \(expected), got \(node.kindDescription)")
            return nil
        }
        var items: [Item] = []
        for (index, child) in nodes.enumerated() {
            if let value = item(&self, child, "\(path)[\(index)]") { items.append(value) }
        }
        return items
    }

    /// The entries of a mapping, with non-scalar and duplicate keys reported and dropped.
    private mutating func entries(_ node: YAMLNode, path: String, expected: String) -> [YAMLMappingEntry]? {
        if node.isNull { return [] }
        guard case .mapping(let entries) = node.content else {
            fail(
                .wrongType, at: node,
                "expected \(expected)\(path.isEmpty ? "" : " for \(path)"), got \(node.kindDescription)")
            return nil
        }
        var seen: [String: YAMLNode] = [:]
        var result: [YAMLMappingEntry] = []
        for entry in entries {
            guard let key = entry.key.scalar?.value else {
                fail(.wrongType, at: entry.key, "expected a scalar key, got \(entry.key.kindDescription)")
                continue
            }
            if let first = seen[key] {
                fail(
                    .duplicateKey, at: entry.key,
                    "duplicate key '\(key)'\(path.isEmpty ? "" : " in \(path)") (first at line \(first.line), column \(first.column))"
                )
                continue
            }
            seen[key] = entry.key
            result.append(entry)
        }
        return result
    }

    /// A free-form mapping of strings (headers, labels, resource attributes), in file order.
    /// Entries whose value is empty after expansion are left out, so `${env:X:-}` means "only if set".
    mutating func pairs(
        _ node: YAMLNode?, path: String, validate: ((String, String) -> String?)? = nil
    )
        -> [KeyValuePair]?
    {
        guard let node else { return nil }
        guard let entries = entries(node, path: path, expected: "a mapping of names to strings") else { return nil }
        var pairs: [KeyValuePair] = []
        for entry in entries {
            guard let key = entry.key.scalar?.value, let value = text(entry.value, expected: "a string") else {
                continue
            }
            if let problem = validate?(key, value) {
                fail(.invalidValue, at: entry.key, problem)
                continue
            }
            if !value.isEmpty { pairs.append(KeyValuePair(key, value)) }
        }
        return pairs
    }

    // MARK: scalars

    /// The expanded text of a scalar; null reads as the empty string. Reports and returns nil otherwise.
    mutating func text(_ node: YAMLNode, expected: String) -> String? {
        guard let scalar = node.scalar else {
            fail(.wrongType, at: node, "expected \(expected), got \(node.kindDescription)")
            return nil
        }
        if scalar.isNull { return "" }
        do {
            return try expandEnvironment(scalar.value, environment: environment)
        } catch {
            fail(error.code, at: node, error.message)
            return nil
        }
    }

    /// Reads `node` (when present) as `kind` into `target`; on error reports it and keeps `target`.
    /// Returns whether a valid value was read.
    @discardableResult
    mutating func read<T>(_ node: YAMLNode?, _ kind: ValueKind<T>, into target: inout T) -> Bool {
        guard let node, let text = text(node, expected: kind.expected) else { return false }
        do {
            target = try kind.parse(text)
            return true
        } catch {
            fail(error.code, at: node, error.message)
            return false
        }
    }

    /// Reads a sequence of strings; null is an empty list.
    mutating func strings(_ node: YAMLNode?, into target: inout [String]) {
        guard let node else { return }
        if node.isNull {
            target = []
            return
        }
        guard case .sequence(let items) = node.content else {
            fail(.wrongType, at: node, "expected a sequence of strings, got \(node.kindDescription)")
            return
        }
        var values: [String] = []
        var ok = true
        for item in items {
            if let value = text(item, expected: "a string") { values.append(value) } else { ok = false }
        }
        if ok { target = values }
    }
}
