import Foundation
import OTLPJSON

/// The flux-objects fixtures copied into `Tests/Fixtures/flux-objects` (from the shared fixtures).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/flux-objects")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func json(_ name: String) throws -> JSONValue { try JSONValue.parse(Array(try Data(contentsOf: url(name)))) }

    /// The lines of an ndjson watch body.
    static func lines(_ name: String) throws -> [[UInt8]] {
        try Data(contentsOf: url(name)).split(separator: 0x0A).map { Array($0) }
    }

    static let kustomizations = "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"
    static let gitRepositories = "/apis/source.toolkit.fluxcd.io/v1/gitrepositories"
}
