import FluxtelConfig
import FluxtelTestSupport
import OTLPWire
import Testing

@testable import FileLogReceiver

/// `receivers.filelog.flux_fields: move` (issue 19, wire bytes): a member that only repeats the line's
/// `flux.object.*` / `flux.revision` is left out; everything else, and the identity itself, stays as with
/// `copy` (the default, issue 18: the original keys stay).
struct FluxFieldsMoveTests {
    @Test func moveLeavesOutTheMembersTheIdentityRepeats() throws {
        let line = try FluxIdentityLogTests.fixtureLine(23)
        let copied = try encode(line)
        let moved = try encode(line, movesFluxFields: true)
        let gone = Set(copied.attributes.map(\.key)).subtracting(moved.attributes.map(\.key))
        #expect(gone == ["controllerKind", "Kustomization", "namespace", "name", "revision"])
        for key in ["flux.object.kind", "flux.object.name", "flux.object.namespace", "flux.revision"] {
            #expect(moved.attribute(key) != nil && moved.attribute(key) == copied.attribute(key), "\(key)")
        }
        // What is left is exactly copy's record without those members, in the same order.
        #expect(moved.attributes == copied.attributes.filter { !gone.contains($0.key) })
        #expect(moved.body == copied.body && moved.severityNumber == copied.severityNumber)
        #expect(moved.timeUnixNano == copied.timeUnixNano)
    }

    /// Only byte-identical repeats go: a top-level `name` naming another object than the reconciler's
    /// key, or a `<Kind>` object with a member more, stays.
    @Test func membersThatSayMoreStay() throws {
        let line =
            #"{"level":"info","msg":"x","controllerKind":"Kustomization","Kustomization":{"name":"a","namespace":"ns"},"name":"b","namespace":"ns","revision":"r1"}"#
        let moved = try encode(line, movesFluxFields: true)
        #expect(moved.attribute("flux.object.name")?.stringValue == "a")
        #expect(moved.attribute("name")?.stringValue == "b")
        #expect(moved.attribute("namespace") == nil && moved.attribute("Kustomization") == nil)
        #expect(moved.attribute("controllerKind") == nil && moved.attribute("revision") == nil)

        let extra =
            #"{"level":"info","msg":"x","controllerKind":"HelmRelease","HelmRelease":{"name":"a","namespace":"ns","x":1},"name":"a"}"#
        let kept = try encode(extra, movesFluxFields: true)
        #expect(kept.attribute("HelmRelease") != nil)
        #expect(kept.attribute("name") == nil)
        // Without an object identity (a kind but no name) nothing is left out.
        let plain = #"{"level":"info","msg":"x","namespace":"n","controllerKind":"K"}"#
        let untouched = try encode(plain, movesFluxFields: true)
        #expect(untouched.attributes == (try encode(plain)).attributes)
    }

    /// Every line of the shared Flux fixture: `move` keeps the identity, drops only attributes whose
    /// value is one of the identity's own values, and decodes (lengths patched after the cut).
    @Test func everyFixtureLineKeepsItsIdentity() throws {
        var dropped = 0
        for n in 1...93 {
            let line = try FluxIdentityLogTests.fixtureLine(n)
            guard !line.isEmpty else { continue }
            let copied = try encode(line)
            let moved = try encode(line, movesFluxFields: true)
            let flux = copied.attributes.filter { $0.key.hasPrefix("flux.") }
            #expect(moved.attributes.filter { $0.key.hasPrefix("flux.") } == flux, "line \(n)")
            let identity = flux.map(\.value)
            let movedKeys = Set(moved.attributes.map(\.key))
            for attribute in copied.attributes where !movedKeys.contains(attribute.key) {
                dropped += 1
                switch attribute.value {
                case .kvlist(let members):
                    #expect(members.allSatisfy { identity.contains($0.value) }, "line \(n): \(attribute.key)")
                default:
                    #expect(identity.contains(attribute.value), "line \(n): \(attribute.key)")
                }
            }
            #expect(moved.body == copied.body, "line \(n)")
        }
        #expect(dropped > 20)
    }

    /// The configuration reaches the tailer: a real file tailed with `flux_fields: move`.
    @Test func theTailerMovesWhenConfigured() async throws {
        let directory = try TemporaryDirectory()
        let writer = LogWriter(
            directory.file(
                "pods/flux-system_kustomize-controller-5f7457c9dd-9xvxq_5b1c3c2e-0000-4000-8000-000000000001/manager/0.log"
            ))
        for n in 0..<3 { writer.write(criLine(n)) }
        var configuration = filelogConfig(directory)
        configuration.fluxFields = .move
        try await withReceiver(configuration) { exporter in
            try await exporter.waitForRecords(atLeast: 3)
            for record in exporter.records {
                #expect(record.attribute("Kustomization") == nil)
                #expect(record.attribute("flux.object.name")?.stringValue == "apps")
                #expect(record.number != nil)
            }
        }
    }
}
