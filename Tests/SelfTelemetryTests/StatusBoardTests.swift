import Foundation
import OTLPWire
import Testing

@testable import SelfTelemetry

/// `GET /status` (issue 16, point 5): valid JSON with the export history per signal, the queue and the
/// receivers, parsed here by Foundation's JSON parser (code nobody here wrote).
@Suite struct StatusBoardTests {
    @Test func rendersTheExportHistoryQueueAndReceivers() throws {
        let board = StatusBoard()
        board.exportSucceeded(.traces, at: 1_000)
        board.exportFailed(.logs, error: "connection refused (127.0.0.1:4318) \"quoted\"\n", at: 2_000)
        board.exportFailed(.logs, error: "HTTP 503", at: 3_000)
        board.setQueue { (123, 16 << 20) }
        board.register(receiver: "filelog") { .init(running: true, counts: [("files_tailed", 4)]) }
        board.register(receiver: "prometheus") { .init(running: true, counts: [("targets", 4), ("targets_up", 3)]) }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(board.render())) as? [String: Any])
        let signals = try #require(json["signals"] as? [String: [String: Any]])
        #expect(signals["traces"]?["last_success_unix_nano"] as? Int == 1_000)
        #expect(signals["traces"]?["consecutive_failures"] as? Int == 0)
        #expect(signals["logs"]?["last_error"] as? String == "HTTP 503")
        #expect(signals["logs"]?["last_error_unix_nano"] as? Int == 3_000)
        #expect(signals["logs"]?["consecutive_failures"] as? Int == 2)
        #expect(signals["metrics"]?["last_success_unix_nano"] is NSNull)
        let queue = try #require(json["queue"] as? [String: Int])
        #expect(queue == ["bytes": 123, "capacity_bytes": 16 << 20])
        let receivers = try #require(json["receivers"] as? [String: [String: Any]])
        #expect(receivers["filelog"]?["files_tailed"] as? Int == 4)
        #expect(receivers["prometheus"]?["targets_up"] as? Int == 3)
        #expect(receivers["filelog"]?["running"] as? Bool == true)
        #expect(json["export_disabled"] is NSNull)

        board.exportSucceeded(.logs, at: 4_000)
        #expect(board.export(.logs).consecutiveFailures == 0)
        #expect(board.export(.logs).lastError == "HTTP 503", "the last error stays, with its time")
    }

    @Test func escapesEveryString() throws {
        let board = StatusBoard()
        board.exportFailed(.metrics, error: "bad \u{1}\t\\ \"end\"", at: 1)
        board.exportDisabled("fluxtel.yaml:7:15: no endpoint")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(board.render())) as? [String: Any])
        #expect(
            (json["signals"] as? [String: [String: Any]])?["metrics"]?["last_error"] as? String
                == "bad \u{1}\t\\ \"end\"")
        #expect(json["export_disabled"] as? String == "fluxtel.yaml:7:15: no endpoint")
    }
}
