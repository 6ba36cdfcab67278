import Testing

@testable import Kubernetes

@Suite struct WatchEventTests {
    @Test func decodesEveryEventOfARealWatchBody() throws {
        let events = try Fixtures.lines("watch/kustomizations.ndjson").map { line in
            try line.withUnsafeBufferPointer { try WatchEvent(line: $0) }
        }
        #expect(Set(events.map(\.type)) == [.added, .modified, .deleted, .bookmark])
        #expect(events.allSatisfy { !$0.resourceVersion.isEmpty })
        #expect(events.last?.type == .bookmark)
        #expect(events.allSatisfy { $0.error == nil })
    }

    @Test func anErrorEventWith410IsGone() throws {
        let line = try #require(try Fixtures.lines("watch/kustomizations.rewatch-410.ndjson").first)
        let event = try line.withUnsafeBufferPointer { try WatchEvent(line: $0) }
        #expect(event.type == .error)
        guard case .gone(let status) = event.error else {
            Issue.record("not gone: \(String(describing: event.error))")
            return
        }
        #expect(status.reason == "Expired")
        #expect(status.message.hasPrefix("too old resource version"))
    }

    @Test func malformedEventsAreInvalidResponses() {
        for text in [#"{"type":"ADDED"}"#, #"{"type":"NOPE","object":{}}"#, #"{"type":"ADDED","object":[]}"#, "{", ""] {
            #expect(throws: KubernetesError.self) {
                try Array(text.utf8).withUnsafeBufferPointer { try WatchEvent(line: $0) }
            }
        }
    }

    @Test func splitterCutsLinesAcrossChunksAndBoundsThem() throws {
        var splitter = WatchLineSplitter(maxLineBytes: 8)
        var lines: [String] = []
        for chunk in ["{\"a\"", ":1}\n\r\n{}", "\n"] {
            try Array(chunk.utf8).withUnsafeBytes { raw in
                try splitter.feed(raw) { lines.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        #expect(lines == [#"{"a":1}"#, "{}"])
        #expect(splitter.pending == 0)
        #expect(throws: KubernetesError.self) {
            try Array("123456789".utf8).withUnsafeBytes { raw in try splitter.feed(raw) { _ in } }
        }
    }
}
