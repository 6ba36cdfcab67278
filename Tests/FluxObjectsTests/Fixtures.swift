import FluxObjects
import FluxtelConfig
import Foundation
import OTLPJSON

/// The shared Flux object fixtures (`Tests/Fixtures/flux-objects`, copied from the team's
/// `shared/fixtures/flux-objects`: API responses for Flux 2.9 objects, see its README).
enum FluxFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/flux-objects")

    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(path)))
    }

    static func json(_ path: String) throws -> JSONValue { try JSONValue.parse(try bytes(path)) }

    /// The lines of an `.ndjson` watch body, decoded.
    static func watchEvents(_ path: String) throws -> [JSONValue] {
        try bytes(path).split(separator: UInt8(ascii: "\n")).map { try JSONValue.parse(Array($0)) }
    }

    /// `list/<resource>.json` of every kind that has one, with the version each list was served at.
    static func lists() throws -> [(kind: FluxKind, version: String, items: [JSONValue])] {
        try FluxKind.all.compactMap { kind in
            let path = "list/\(kind.resource).json"
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) else { return nil }
            let list = try json(path)
            let items = list["items"]?.array ?? []
            let apiVersion = items.first?["apiVersion"]?.string ?? ""
            let version = apiVersion.split(separator: "/").last.map(String.init) ?? ""
            return (kind, version, items)
        }
    }

    static let rules = ResourceStateRules(CustomResourceStateMetric.flux)

    static func objects() throws -> [FluxObject] {
        try lists().flatMap { list in
            list.items.compactMap { FluxObject($0, kind: list.kind, version: list.version, rules: rules) }
        }
    }
}

extension ResourceSeries {
    /// The series as a text-format line without value (`name{a="b",…}`), labels sorted, values escaped.
    var exposition: String {
        let labels = self.labels.map { label in
            let value = label.value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\"", with: "\\\"")
            return "\(label.key)=\"\(value)\""
        }
        return "\(name){\(labels.joined(separator: ","))}"
    }
}
