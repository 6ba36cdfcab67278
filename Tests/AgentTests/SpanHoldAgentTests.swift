import Agent
import FluxtelConfig
import Foundation
import Logging
import Testing

/// Where `processors.hold` is on: only with the Flux object source (its correlation asks whether a span
/// waits), a positive hold and a memory queue. A persistent queue acknowledges what is on disk, so nothing
/// waits in memory there (durability first).
@Suite struct SpanHoldAgentTests {
    static func holds(_ change: (inout AgentConfiguration) -> Void) throws -> Bool {
        var configuration = testConfiguration(sinkPort: 9)
        var flux = FluxObjectsConfiguration()
        flux.apiServer = "http://127.0.0.1:9"
        flux.tokenPath = ""
        flux.caPath = ""
        flux.leaderElection.enabled = false
        configuration.receivers.fluxObjects = flux
        change(&configuration)
        let agent = try Agent(
            configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        return agent.pipeline.holds
    }

    @Test func onWithTheFluxObjectSourceAndAMemoryQueueOnly() throws {
        #expect(try Self.holds { _ in })
        #expect(try Self.holds { $0.processors.hold = .seconds(2) })
        #expect(try !Self.holds { $0.processors.hold = .zero })
        #expect(try !Self.holds { $0.receivers.fluxObjects = nil })
        let directory = DiskQueueAgentTests.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try !Self.holds { $0.processors.queue.directory = directory })
    }
}
