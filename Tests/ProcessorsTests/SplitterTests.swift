import FluxtelTestSupport
import OTLPWire
import Processors
import Testing

@Suite struct SplitterTests {
    @Test func splitsWithinTheLimitsAndKeepsEveryItem() throws {
        let body = Golden.logsRequest().serializedBytes()
        let items = try OTLPWalker.countItems(signal: .logs, body: body)
        let parts = try Splitter().split(.logs, body, maxBytes: 1 << 20, maxItems: 1)
        #expect(parts.count == items)
        #expect(parts.allSatisfy { $0.items == 1 })
        #expect(try parts.map { try OTLPWalker.countItems(signal: .logs, body: $0.bytes) }.reduce(0, +) == items)
    }
}
