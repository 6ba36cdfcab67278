import FluxtelConfig
import Testing

@Suite struct QueueDirectoryConfigTests {
    func errors(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, fileName: "q.yaml", environment: [:])
            return []
        } catch {
            return "\(error)".split(separator: "\n").map(String.init)
        }
    }

    @Test func persistentQueueKeysAreRead() throws {
        let config = try ConfigLoader.load(
            yaml: """
                processors:
                  queue:
                    directory: /var/lib/fluxtel/queue
                    max_bytes: 256MiB
                    sync: interval
                    sync_interval: 250ms
                    full_policy: drop_oldest
                    max_age: 2h
                """, fileName: "q.yaml", environment: [:])
        let queue = config.processors.queue
        #expect(queue.directory == "/var/lib/fluxtel/queue")
        #expect(queue.maxBytes == 256 << 20)
        #expect(queue.sync == .interval)
        #expect(queue.syncInterval == .milliseconds(250))
        #expect(queue.fullPolicy == .dropOldest)
        #expect(queue.maxAge == .seconds(7200))
    }

    @Test func defaultsAreBatchSyncBackpressureAndSixHours() throws {
        let queue = try ConfigLoader.load(
            yaml: "processors:\n  queue:\n    directory: /q\n", fileName: "q.yaml", environment: [:]
        )
        .processors.queue
        #expect(queue.sync == .batch)
        #expect(queue.syncInterval == .seconds(1))
        #expect(queue.fullPolicy == .backpressure)
        #expect(queue.maxAge == .seconds(6 * 3600))
    }

    @Test func badValuesNameFileLineAndColumn() {
        let found = errors(
            """
            processors:
              queue:
                directory: /q
                sync: sometimes
                full_policy: drop_newest
                max_age: 0s
            """)
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("q.yaml:4:11:") && $0.contains("sometimes") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("q.yaml:5:18:") && $0.contains("drop_newest") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("q.yaml:6:14:") }, "\(found)")
    }

    @Test func diskOnlyKeysWithoutADirectoryAreAnError() {
        let found = errors("processors:\n  queue:\n    full_policy: drop_oldest\n")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("q.yaml:3:18:") == true, "\(found)")
        #expect(found.first?.contains("processors.queue.directory") == true, "\(found)")
    }
}
