import FluxObjects
import FluxtelConfig
import OTLPJSON
import OTLPWire
import Testing

/// Flux's Kubernetes Events become log records, once each: the same from `core/v1` and `events.k8s.io/v1`,
/// not again after a re-list, once more for a new occurrence.
struct FluxEventTests {
    static func events(_ path: String) throws -> [FluxEvent] {
        (try FluxFixtures.json(path)["items"]?.array ?? []).compactMap(FluxEvent.init)
    }

    @Test func bothAPIsGiveTheSameFluxEvents() throws {
        let core = try Self.events("events/core-v1.eventlist.json")
        let events = try Self.events("events/events.k8s.io-v1.eventlist.json")
        // 26 Events, of which one Pod's and one Lease's are not about Flux.
        #expect(core.count == 24)
        #expect(core == events)
    }

    @Test func mapping() throws {
        let core = try Self.events("events/core-v1.eventlist.json")
        let warning = try #require(core.first { $0.type == "Warning" })
        let record = warning.logRecord(observedAt: 1)
        #expect(record.severityNumber == .warn)
        #expect(record.severityText == "WARN")
        #expect(record.body == .string(warning.message))
        #expect(record.timeUnixNano == warning.lastTime)
        func attribute(_ key: String) -> OTLP.AnyValue? { record.attributes.first { $0.key == key }?.value }
        #expect(attribute("k8s.event.reason") == .string(warning.reason))
        #expect(attribute("k8s.event.count") == .int(Int64(warning.count)))
        #expect(attribute("flux.object.kind") == .string(warning.regarding.kind))
        #expect(attribute("flux.object.uid") == .string(warning.regarding.uid))
        #expect(attribute("k8s.event.reporting_controller") == .string(warning.reportingController))

        let normal = try #require(core.first { $0.type == "Normal" })
        #expect(normal.logRecord(observedAt: 1).severityNumber == .info)
        // A Kustomization's event names the revision it applied.
        let applied = try #require(core.first { $0.regarding.kind == "Kustomization" && $0.revision != nil })
        #expect(applied.logRecord(observedAt: 1).attributes.contains { $0.key == "flux.revision" })
    }

    @Test func helmOCIEventsUseNotificationControllersRevision() throws {
        let core = try Self.events("events/core-v1.eventlist.json")
        let oci = core.filter { $0.annotations["helm.toolkit.fluxcd.io/oci-digest"] != nil }
        #expect(!oci.isEmpty)
        for event in oci {
            let app = try #require(event.annotations["helm.toolkit.fluxcd.io/app-version"])
            #expect(event.revision == app + "@" + event.annotations["helm.toolkit.fluxcd.io/oci-digest"]!)
        }
    }

    @Test func aRelistSendsNothingTwiceAndANewOccurrenceOnce() throws {
        var dedupe = EventDeduplicator()
        let listed = try Self.events("events/core-v1.eventlist.json")
        func send(_ events: [FluxEvent]) -> [FluxEvent] {
            events.filter { dedupe.shouldSend(uid: $0.uid, count: $0.count) }
        }
        #expect(send(listed).count == 24)
        #expect(send(listed).isEmpty)
        let watched = try FluxFixtures.watchEvents("watch/events.ndjson").compactMap { line -> FluxEvent? in
            guard line["type"]?.string == "ADDED" || line["type"]?.string == "MODIFIED" else { return nil }
            return line["object"].flatMap(FluxEvent.init)
        }
        let sent = send(watched)
        // The MODIFIED (count 15 → 16) is a new occurrence; every ADDED is new.
        #expect(sent.count == watched.count)
        #expect(sent.contains { $0.count == 16 })
        #expect(send(watched).isEmpty)
    }

    @Test func theDeduplicatorIsBounded() {
        var dedupe = EventDeduplicator(capacity: 100)
        var firstTime = 0
        for i in 0..<1_000 where dedupe.shouldSend(uid: "e\(i)", count: 1) { firstTime += 1 }
        #expect(firstTime == 1_000)
        #expect(dedupe.count == 100)
        let again = dedupe.shouldSend(uid: "e999", count: 1)
        #expect(!again)
    }
}
