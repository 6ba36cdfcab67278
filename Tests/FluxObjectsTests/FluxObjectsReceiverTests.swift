import FluxObjects
import FluxtelConfig
import FluxtelTestSupport
import Foundation
import Kubernetes
import Logging
import OTLPJSON
import OTLPWire
import Pipeline
import Synchronization
import Testing

/// The whole source against a fake API server that serves the fixtures with list/watch semantics.
struct FluxObjectsReceiverTests {
    /// What the receiver handed to the pipeline.
    final class Sink: Sendable {
        private let chunks = Mutex<[TelemetryChunk]>([])
        var all: [TelemetryChunk] { chunks.withLock { $0 } }
        func add(_ chunk: TelemetryChunk) { chunks.withLock { $0.append(chunk) } }

        var metricRequests: [OTLP.ExportMetricsServiceRequest] {
            all.filter { $0.signal == .metrics }.compactMap {
                try? OTLP.ExportMetricsServiceRequest(decoding: $0.bytes)
            }
        }
        var logRecords: [OTLP.LogRecord] {
            all.filter { $0.signal == .logs }.compactMap { try? OTLP.ExportLogsServiceRequest(decoding: $0.bytes) }
                .flatMap(\.resourceLogs).flatMap(\.scopeLogs).flatMap(\.logRecords)
        }
    }

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A fake cluster with every fixture list and the Events; over https with `certificates`.
    static func cluster(certificates: TestCertificates? = nil) async throws -> FakeKubernetesAPI {
        let api =
            if let certificates {
                try await FakeKubernetesAPI.start(certificates: certificates)
            } else {
                try await FakeKubernetesAPI.start()
            }
        api.setUnknownCollectionsNotFound(true)
        let lists = try FluxFixtures.lists()
        for group in Set(lists.map(\.kind.group)) {
            // Preferred first: the notification group prefers v1 (Receiver) but serves Alerts at v1beta3.
            let versions = Set(lists.filter { $0.kind.group == group }.map(\.version)).sorted()
            api.serve(group: group, versions: versions)
        }
        for list in lists {
            try api.load(
                listFile: FluxFixtures.root.appendingPathComponent("list/\(list.kind.resource).json"),
                in: "/apis/\(list.kind.group)/\(list.version)/\(list.kind.resource)")
        }
        api.serve(group: "events.k8s.io", versions: ["v1"])
        try api.load(
            listFile: FluxFixtures.root.appendingPathComponent("events/events.k8s.io-v1.eventlist.json"),
            in: "/apis/events.k8s.io/v1/events")
        return api
    }

    /// The source as the agent makes it from `receivers.flux_objects` (`api_server`, `token_path`, `ca_path`).
    static func receiver(
        _ api: FakeKubernetesAPI, clock: ManualClock, sink: Sink, leaderElection: Bool = false,
        tokenPath: String = "", caPath: String = "", logger: Logger = logger
    ) throws -> FluxObjectsReceiver {
        var config = FluxObjectsConfiguration()
        config.apiServer = api.baseURL
        config.tokenPath = tokenPath
        config.caPath = caPath
        config.leaderElection.enabled = leaderElection
        let endpoint = try KubernetesEndpoint.resolve(
            apiServer: config.apiServer, tokenPath: config.tokenPath, caPath: config.caPath, environment: [:])
        return FluxObjectsReceiver(
            config: config, client: KubernetesClient(endpoint: endpoint), sink: { sink.add($0) }, environment: [:],
            clock: clock.clock, logger: logger, version: "test")
    }

    /// `gotk_resource_info` points of a request: live series (as exposition lines) and stale ones.
    static func info(_ request: OTLP.ExportMetricsServiceRequest) -> (live: Set<String>, stale: Set<String>) {
        var live: Set<String> = []
        var stale: Set<String> = []
        for metric in request.resourceMetrics.flatMap(\.scopeMetrics).flatMap(\.metrics)
        where metric.name == "gotk_resource_info" {
            guard case .gauge(let gauge) = metric.data else { continue }
            for point in gauge.dataPoints {
                let labels = point.attributes.map { kv -> ResourceSeries.Label in
                    if case .string(let s) = kv.value { return .init(kv.key, s) }
                    return .init(kv.key, "")
                }
                let line = ResourceSeries(name: metric.name, labels: labels).exposition
                if point.flags & OTLP.DataPointFlags.noRecordedValue != 0 {
                    stale.insert(line)
                } else {
                    live.insert(line)
                }
            }
        }
        return (live, stale)
    }

    @Test func resourceStateAndEventsFromTheAPI() async throws {
        let api = try await Self.cluster()
        let clock = ManualClock()
        let sink = Sink()
        let receiver = try Self.receiver(api, clock: clock, sink: sink)
        let run = Task { try await receiver.run() }
        defer { run.cancel() }

        // The first lists are in: one write with every object, label for label kube-state-metrics'.
        #expect(await eventually { sink.metricRequests.count == 1 })
        let expected = try KubeStateMetricsParityTests.expectedSeries(try KubeStateMetricsParityTests.configRules())
        let first = Self.info(try #require(sink.metricRequests.first))
        #expect(first.live == expected)
        #expect(first.stale.isEmpty)
        // Each Flux Event once (24 of the 26 are about Flux objects).
        #expect(await eventually { sink.logRecords.count == 24 })

        // A MODIFIED that flips Ready changes the next point; a DELETED object gets a staleness marker.
        let kustomizations = "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"
        var object = try #require(
            api.object(namespace: "flux-system", name: "monitoring-controllers", in: kustomizations))
        let conditions = (object["status"]?["conditions"]?.array ?? []).map { condition -> JSONValue in
            guard condition["type"]?.string == "Ready" else { return condition }
            var ready = condition
            ready["status"] = .string("True")
            return ready
        }
        object["status"]?["conditions"] = .array(conditions)
        api.put(object, in: kustomizations)
        api.delete(namespace: "flux-system", name: "legacy-apps", in: kustomizations)
        let listed = receiver.objectCount
        #expect(listed == 31)  // 30 with a kube-state-metrics rule, and the ExternalArtifact
        // Every collection is watched at once (one connection each: none waits for another's).
        #expect(await eventually { api.openWatches == 15 })
        #expect(
            await eventually { receiver.objectCount == 30 && receiver.ready(of: "monitoring-controllers") == "True" })
        clock.advance(by: .seconds(30))
        #expect(await eventually { sink.metricRequests.count == 2 })
        let second = Self.info(sink.metricRequests[1])
        #expect(second.live.contains { $0.contains("name=\"monitoring-controllers\",ready=\"True\"") })
        #expect(second.stale.contains { $0.contains("name=\"monitoring-controllers\",ready=\"Unknown\"") })
        #expect(second.stale.contains { $0.contains("name=\"legacy-apps\"") })
        #expect(!second.live.contains { $0.contains("name=\"legacy-apps\"") })

        // A new occurrence of an Event (count + 1) is one more record; nothing else is sent again.
        let events = "/apis/events.k8s.io/v1/events"
        let list = try FluxFixtures.json("events/events.k8s.io-v1.eventlist.json")["items"]?.array ?? []
        var repeated = try #require(list.first { FluxEvent($0) != nil })
        let count = repeated["deprecatedCount"]?.int ?? 1
        repeated["deprecatedCount"] = .number(Double(count + 1))
        api.put(repeated, in: events)
        #expect(await eventually { sink.logRecords.count == 25 })
        clock.advance(by: .seconds(30))
        #expect(await eventually { sink.metricRequests.count == 3 })
        #expect(sink.logRecords.count == 25)

        // The watches end; meanwhile one more Event is written and the server forgets its history, so the
        // next watch gets 410 Gone and lists again: the 25 it already sent are not sent twice.
        api.endWatches()
        var fresh = repeated
        fresh["metadata"]?["uid"] = .string("5e1f3a70-0000-4000-8000-000000000001")
        fresh["metadata"]?["name"] = .string("fresh.18cb05000000")
        api.put(fresh, in: events)
        api.compact()
        func eventLists() -> Int { api.requests.filter { $0.path == events && !$0.isWatch }.count }
        let listsBefore = eventLists()
        // The re-watch and re-list wait in back-off on the manual clock: move it on until the list comes.
        #expect(
            await eventually {
                clock.advance(by: .seconds(1))
                return eventLists() > listsBefore
            })
        #expect(await eventually { sink.logRecords.count >= 26 })
        #expect(sink.logRecords.count == 26)
        #expect(
            sink.logRecords.filter { record in
                record.attributes.contains {
                    $0.key == "k8s.event.uid" && $0.value == .string("5e1f3a70-0000-4000-8000-000000000001")
                }
            }.count == 1)
    }
}
