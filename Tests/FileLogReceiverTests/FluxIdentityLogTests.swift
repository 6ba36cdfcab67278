import Foundation
import OTLPWire
import Testing

@testable import FileLogReceiver

/// Issue 18 (one identity): the log resource matches pod discovery's, and every record about a Flux
/// object carries `flux.object.*` and `flux.revision`, whatever key Flux used; the original keys stay.
struct FluxIdentityLogTests {
    /// Line `n` (1-based) of the shared Flux log fixture.
    static func fixtureLine(_ n: Int) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/flux-logs.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        return String(lines[n - 1])
    }

    @Test func resourceNamesTheServiceNamespaceAndNode() throws {
        let path =
            "/var/log/pods/flux-system_kustomize-controller-7f5c8d9b4-x2x7k_5b1e-uid/manager/0.log"
        var builder = LogChunkBuilder(path: path, resolvedPath: path, nodeName: "node-a")
        var encoder = LogRecordEncoder()
        builder.open(reservingCapacity: 256)
        let line = Array(#"{"level":"info","msg":"x"}"#.utf8)
        line.withUnsafeBytes { bytes in
            let record = DecodedRecord(content: bytes, stream: .stderr, time: 1, truncated: false, originalSize: 27)
            builder.withWriter { w, attributes in
                encoder.append(record, fileAttributes: attributes, observedNow: 1, into: &w)
            }
        }
        let finished = builder.finish()
        let chunk = try #require(finished)
        let resource = try #require(
            try OTLP.ExportLogsServiceRequest(decoding: chunk.bytes).resourceLogs.first?.resource)
        let attributes = Dictionary(uniqueKeysWithValues: resource.attributes.map { ($0.key, $0.value) })
        #expect(attributes["service.name"] == .string("kustomize-controller"))
        #expect(attributes["service.namespace"] == .string("flux-system"))
        #expect(attributes["k8s.pod.uid"] == .string("5b1e-uid"))
        #expect(attributes["k8s.deployment.name"] == .string("kustomize-controller"))
        #expect(attributes["k8s.node.name"] == .string("node-a"))
        // Without NODE_NAME, no k8s.node.name.
        let bare = LogChunkBuilder(path: path, resolvedPath: path)
        #expect(!String(decoding: bare.resourceField, as: UTF8.self).contains("k8s.node.name"))
    }

    /// (line, kind, name, namespace, uid, revision) for lines of `Tests/Interop/flux-logs.jsonl`.
    static let cases: [(Int, String?, String?, String?, String?, String?)] = [
        // controllerKind + the reconciler's `Kustomization: {name, namespace}` + revision
        (23, "Kustomization", "flux-system", "flux-system", nil, "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
        // event recorder: `reconciler kind`, name, namespace, revision from the annotations
        (27, "Kustomization", "apps", "flux-system", nil, "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
        // NC event server: eventInvolvedObject (the `alert` object is not the subject)
        (63, "GitRepository", "flux-system", "flux-system", "10f37fad-840b-4d46-955a-7f18350de0fc", nil),
        // NC otel lines: object "Kind/ns/name" + revision
        (65, "GitRepository", "flux-system", "flux-system", nil, "main@sha1:129d971f5eb5561984e5e2f7aed4ba493015be2b"),
        // old controller-runtime: lowercase `gitRepository` key
        (81, "GitRepository", "podinfo", "default", nil, nil),
        // legacy `reconciler kind`
        (90, "HelmRelease", "infra", "monitoring", nil, nil),
        // legacy event logger: `object` as a reference
        (91, "HelmRelease", "chaos-mesh", "chaos-mesh", "f29fe041-67c6-4e87-9d31-ae4b74a056a0", nil),
        // legacy NC: `object` "ns/name" with `kind` after it
        (92, "GitRepository", "flux-system", "flux-system", nil, nil),
        // no object: a feature gate named like a kind, a startup line with controllerKind and no name
        (37, nil, nil, nil, nil, nil),
        (41, nil, nil, nil, nil, nil),
    ]

    @Test(arguments: 0..<cases.count) func fluxObjectAttributes(_ index: Int) throws {
        let (line, kind, name, namespace, uid, revision) = Self.cases[index]
        let record = try encode(try Self.fixtureLine(line))
        func string(_ key: String) -> String? { record.attribute(key)?.stringValue }
        #expect(string("flux.object.kind") == kind, "line \(line)")
        #expect(string("flux.object.name") == name, "line \(line)")
        #expect(string("flux.object.namespace") == namespace, "line \(line)")
        #expect(string("flux.object.uid") == uid, "line \(line)")
        #expect(string("flux.revision") == revision, "line \(line)")
    }

    @Test func originalKeysStay() throws {
        let record = try encode(try Self.fixtureLine(23))
        #expect(record.attribute("controllerKind")?.stringValue == "Kustomization")
        #expect(record.attribute("name")?.stringValue == "flux-system")
        #expect(record.attribute("revision") != nil)
        #expect(record.attribute("Kustomization") != nil)
    }
}
