import Foundation
import Testing

@testable import FluxtelConfig

/// The README's configuration table, `config/fluxtel.yaml` and the embedded defaults say the same:
/// every key of the table set to the default the table gives loads to exactly what the code does when
/// the key is left as shipped (or, for a key the shipped file leaves out, left out), and every key of
/// the shipped file has a row. `ShippedConfigTests.referenceFileEqualsTheEmbeddedDefault` keeps the
/// file and the embedded defaults equal.
@Suite struct ConfigurationTableTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// With an endpoint and a cluster name, so that `otlp_http` and `resource.attributes` are not left
    /// out (a row about them must not pass because its section vanished).
    static let environment = ["DASH0_ENDPOINT": "https://example.com", "CLUSTER_NAME": "c"]
    /// Rows whose default is said in words only.
    static let describedInWords: Set<String> = [
        "receivers.prometheus.targets", "receivers.prometheus.kubernetes_sd.api_server",
        "receivers.prometheus.kubernetes_sd.token_path", "receivers.prometheus.kubernetes_sd.ca_path",
    ]

    /// One row's key and default, as a YAML path and YAML text.
    struct Row: CustomStringConvertible {
        var path: [String]
        var value: String
        var description: String { "\(path.joined(separator: ".")): \(value)" }
    }

    @Test func everyDefaultInTheTableIsTheCodesAndTheShippedFilesDefault() throws {
        let rows = try Self.rows()
        #expect(rows.count > 40)
        let embedded = try #require(
            try YAMLParser().parse(AgentConfiguration.embeddedDefaultYAML, fileName: "embedded"))
        let shipped = try #require(
            try YAMLParser().parse(
                String(contentsOf: Self.repository.appendingPathComponent("config/fluxtel.yaml"), encoding: .utf8),
                fileName: "fluxtel.yaml"))
        for base in [embedded, shipped] {
            for row in rows {
                let value = try #require(try YAMLParser().parse("v: \(row.value)", fileName: "README")?.entry("v"))
                // The code's default: the base as it is, or, for a key it leaves out, the key left out.
                let expected = base.lookup(row.path) == nil ? base.setting(row.path, to: nil) : base
                #expect(try Self.load(base.setting(row.path, to: value)) == Self.load(expected), "\(row)")
            }
        }
    }

    @Test func everyKeyOfTheShippedFileHasARow() throws {
        let documented = Set(try Self.rows().map { $0.path.joined(separator: ".") }).union(Self.describedInWords)
        let shipped = try #require(
            try YAMLParser().parse(
                String(contentsOf: Self.repository.appendingPathComponent("config/fluxtel.yaml"), encoding: .utf8),
                fileName: "fluxtel.yaml"))
        // Mappings whose keys are the user's (attribute and header names) are one key.
        let userMaps: Set<String> = ["processors.resource.attributes", "exporters.otlp_http.headers"]
        let keys = shipped.leafPaths(stoppingAt: userMaps)
        #expect(keys.count > 40)
        #expect(keys.filter { !documented.contains($0) } == [])
    }

    static func load(_ root: YAMLNode) throws -> AgentConfiguration {
        try ConfigLoader.load(yaml: root.flowText, fileName: "table.yaml", environment: environment)
    }

    /// The rows of README's "Configuration" table: a key cell of one full path and siblings
    /// (`a.b.max_items` / `max_bytes`), or `prefix.*`; a default cell of one value per key
    /// (`8192` / `1MiB`), one value for all, or `key: value` entries of a mapping.
    static func rows() throws -> [Row] {
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Configuration\n").last)
        let table = section.components(separatedBy: "\n").drop { !$0.hasPrefix("| key |") }.dropFirst(2)
            .prefix { $0.hasPrefix("|") }
        var rows: [Row] = []
        for line in table {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let keys = code(cells[1])
            let first = keys[0].hasSuffix("[]") ? String(keys[0].dropLast(2)) : keys[0]
            let path = first.split(separator: ".").map(String.init)
            if describedInWords.contains(path.joined(separator: ".")) { continue }
            let defaults = cells[2].components(separatedBy: " / ").map { code($0).first ?? "" }
            if path.last == "*" {  // `retry.*`: `key: value` entries
                for entry in code(cells[2]) {
                    let (key, value) = try #require(split(entry))
                    rows.append(Row(path: path.dropLast() + [key], value: value))
                }
                continue
            }
            let entries = code(cells[2])
            if keys.count == 1, entries.count > 1 || entries.first?.contains(": ") == true,
                entries.allSatisfy({ $0.contains(": ") })
            {
                let mapping = entries.map { "\n  \($0)" }.joined()
                rows.append(Row(path: path, value: mapping))
                continue
            }
            for (index, key) in keys.enumerated() {
                let sibling = key.split(separator: ".").map(String.init)
                let value = defaults.count == keys.count ? defaults[index] : defaults[0]
                rows.append(Row(path: index == 0 ? path : path.dropLast(sibling.count) + sibling, value: value))
            }
        }
        return rows
    }

    /// The `code` spans of a Markdown cell.
    static func code(_ cell: String) -> [String] {
        cell.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    static func split(_ entry: String) -> (String, String)? {
        guard let range = entry.range(of: ": ") else { return nil }
        return (String(entry[..<range.lowerBound]), String(entry[range.upperBound...]))
    }
}

extension YAMLNode {
    func entry(_ key: String) -> YAMLNode? {
        guard case .mapping(let entries) = content else { return nil }
        return entries.first { $0.key.scalar?.value == key }?.value
    }

    func lookup(_ path: some Collection<String>) -> YAMLNode? {
        guard let first = path.first else { return self }
        return entry(first)?.lookup(path.dropFirst())
    }

    /// This tree with the value at `path` replaced (nil: removed), creating the mappings on the way.
    func setting(_ path: some Collection<String>, to value: YAMLNode?) -> YAMLNode {
        guard let first = path.first else { return value ?? self }
        var entries: [YAMLMappingEntry] = []
        if case .mapping(let existing) = content { entries = existing }
        let child = entries.firstIndex { $0.key.scalar?.value == first }
        let empty = YAMLNode(.mapping([]), line: 0, column: 0)
        let rest = path.dropFirst()
        let updated =
            rest.isEmpty ? value : (child.map { entries[$0].value } ?? empty).setting(rest, to: value)
        if let child {
            if let updated { entries[child].value = updated } else { entries.remove(at: child) }
        } else if let updated {
            entries.append(
                YAMLMappingEntry(key: YAMLNode(.scalar(YAMLScalar(first)), line: 0, column: 0), value: updated))
        }
        return YAMLNode(.mapping(entries), line: line, column: column)
    }

    /// The paths of the leaves (scalars, sequences, empty mappings), mappings in `stoppingAt` counting as leaves.
    func leafPaths(_ prefix: [String] = [], stoppingAt: Set<String>) -> [String] {
        guard case .mapping(let entries) = content, !entries.isEmpty,
            !stoppingAt.contains(prefix.joined(separator: "."))
        else {
            return [prefix.joined(separator: ".")]
        }
        return entries.flatMap { $0.value.leafPaths(prefix + [$0.key.scalar?.value ?? ""], stoppingAt: stoppingAt) }
    }

    /// The tree as one line of flow YAML, every scalar double-quoted (the loader reads scalars by their text).
    var flowText: String {
        switch content {
        case .scalar(let scalar):
            if scalar.isNull { return "null" }
            let escaped = scalar.value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        case .sequence(let items):
            return "[" + items.map(\.flowText).joined(separator: ", ") + "]"
        case .mapping(let entries):
            return "{" + entries.map { "\($0.key.flowText): \($0.value.flowText)" }.joined(separator: ", ") + "}"
        }
    }
}
