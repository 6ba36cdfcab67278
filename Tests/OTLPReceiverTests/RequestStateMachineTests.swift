import FluxtelConfig
import NIOHTTP1
import OTLPWire
import Testing

@testable import OTLPReceiver

/// One connection's requests, head → body → end, fed by hand.
@Suite struct RequestStateMachineTests {
    static func machine(maxRequestBody: Int = 1024) -> RequestStateMachine {
        var configuration = OTLPReceiverConfiguration()
        configuration.maxRequestBody = maxRequestBody
        return RequestStateMachine(admission: Admission(configuration))
    }

    @Test func anAdmittedRequestIsReadWholeThenIngested() {
        var machine = Self.machine()
        guard case .readBody = machine.head(head("/v1/logs")) else {
            Issue.record("not admitted")
            return
        }
        guard case .append = machine.body(count: 1000), case .append = machine.body(count: 24) else {
            Issue.record("the body up to the limit was not kept")
            return
        }
        guard case .ingest(let request) = machine.end() else {
            Issue.record("not ingested")
            return
        }
        #expect(request.signal == .logs)
        guard case .idle = machine.state else {
            Issue.record("not idle after the end")
            return
        }
    }

    @Test func aBodyPastTheLimitIsRefusedOnceAndTheRestIgnored() {
        var machine = Self.machine()
        _ = machine.head(protobufHead(HTTPRequestHead(version: .http1_0, method: .POST, uri: "/v1/metrics")))
        _ = machine.body(count: 1000)
        guard case .refuse(let refusal, let signal, let version, let keepAlive) = machine.body(count: 25) else {
            Issue.record("1025 bytes were not refused")
            return
        }
        #expect(refusal.reason == "too_large")
        #expect(refusal.response.status == .payloadTooLarge)
        #expect(signal == .metrics)
        #expect(version == .http1_0)
        #expect(!keepAlive)
        guard case .ignore = machine.body(count: 10), case .ignore = machine.end() else {
            Issue.record("the rest of a refused request was not ignored")
            return
        }
        // the next request on the connection starts afresh
        guard case .readBody = machine.head(head()) else {
            Issue.record("the next request was not admitted")
            return
        }
    }

    @Test func aRefusedHeadIgnoresItsBodyAndKeepsTheConnectionIfAsked() {
        var machine = Self.machine()
        guard case .refuse(let refusal, let signal, _, let keepAlive) = machine.head(head("/v1/logs", method: .PUT))
        else {
            Issue.record("PUT was not refused")
            return
        }
        #expect(refusal.reason == "method_not_allowed")
        #expect(signal == .logs)
        #expect(keepAlive)
        guard case .ignore = machine.body(count: 10), case .ignore = machine.end() else {
            Issue.record("the body of a refused request was not ignored")
            return
        }
    }

    @Test func bodyPartsWithoutAHeadAreIgnored() {
        var machine = Self.machine()
        guard case .ignore = machine.body(count: 1), case .ignore = machine.end() else {
            Issue.record("a body without a head was not ignored")
            return
        }
    }
}

/// A head with a version other than 1.1: the head as given, with a protobuf content type.
func protobufHead(_ given: HTTPRequestHead) -> HTTPRequestHead {
    var head = given
    head.headers.replaceOrAdd(name: "Content-Type", value: "application/x-protobuf")
    return head
}
