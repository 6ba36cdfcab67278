import NIOHTTP1
import OTLPWire

/// One connection's request in flight, head → body → end, as a value: the handler tells it what NIO
/// read and does what it answers (read on, refuse, ingest, ignore). A refusal decided before the body
/// ended (404, 413, ...) makes it ignore the rest of that request.
struct RequestStateMachine: Sendable {
    enum State: Sendable {
        /// Between requests.
        case idle
        /// Admitted; `received` body bytes so far.
        case reading(Admission.Request, received: Int)
        /// Refused before its end: the rest of the request is ignored.
        case ignoring
    }

    let admission: Admission
    private(set) var state: State = .idle

    init(admission: Admission) { self.admission = admission }

    enum HeadAction {
        case readBody
        /// Answer with the refusal, counted under `signal`; keep the connection if the client asked to.
        case refuse(Refusal, signal: Signal, version: HTTPVersion, keepAlive: Bool)
    }

    mutating func head(_ head: HTTPRequestHead) -> HeadAction {
        do {
            state = .reading(try admission.admit(head), received: 0)
            return .readBody
        } catch {
            state = .ignoring
            return .refuse(
                error, signal: admission.signalGuess(head), version: head.version, keepAlive: head.isKeepAlive)
        }
    }

    enum BodyAction {
        /// Keep the bytes.
        case append
        /// Drop them (no request, or one already refused).
        case ignore
        /// The body grew past the limit: answer, then close the connection.
        case refuse(Refusal, signal: Signal, version: HTTPVersion, keepAlive: Bool)
    }

    mutating func body(count: Int) -> BodyAction {
        guard case .reading(let request, let received) = state else { return .ignore }
        do {
            try admission.checkBody(received: received + count, request)
        } catch {
            state = .ignoring
            return .refuse(error, signal: request.signal, version: request.head.version, keepAlive: false)
        }
        state = .reading(request, received: received + count)
        return .append
    }

    enum EndAction {
        /// The whole body was read: decode and hand it over.
        case ingest(Admission.Request)
        case ignore
    }

    mutating func end() -> EndAction {
        defer { state = .idle }
        guard case .reading(let request, _) = state else { return .ignore }
        return .ingest(request)
    }
}
