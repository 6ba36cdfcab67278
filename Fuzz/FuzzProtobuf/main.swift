// libFuzzer target: the protobuf paths the receiver runs on untrusted bodies — the walker
// (validate + count), split, the resource rewriter — and the model decoders, for all three signals.
// Besides "never crash", it checks what the pipeline relies on:
//   - a body the walker accepts splits and rewrites without error, and the parts (and the rewritten
//     body) hold the same number of items;
//   - a decoded model re-encodes stably: encode(decode(encode(m))) == encode(m).
// Build and run: scripts/fuzz protobuf <seconds>.
import OTLPWire
import Processors

let rewriter = ResourceAttributeRewriter(attributes: [("k8s.cluster.name", "fuzz"), ("service.name", "x")])

func roundTrip<M: ProtoMessage>(_: M.Type, _ bytes: [UInt8]) {
    guard let m = try? M(decoding: bytes) else { return }
    let once = m.serializedBytes()
    guard let again = try? M(decoding: once) else { fatalError("\(M.self): our own encoding does not decode") }
    precondition(again.serializedBytes() == once, "\(M.self): re-encoding is not stable")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProtobuf(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    for signal in Signal.allCases {
        guard let items = try? OTLPWalker.countItems(signal: signal, body: body) else { continue }
        do {
            let maxBytes = 32 + size / 3
            let parts = try OTLPWalker.split(signal: signal, body: body, maxBytes: maxBytes, maxItems: 3)
            precondition(parts.reduce(0) { $0 + $1.items } == items, "split changed the item count")
            for part in parts {
                let n = try OTLPWalker.countItems(signal: signal, body: part.bytes)
                precondition(n == part.items, "part count")
            }
            let rewritten = try rewriter.rewrite(body)
            let n = try OTLPWalker.countItems(signal: signal, body: rewritten)
            precondition(n == items, "rewrite changed the item count")
        } catch {
            fatalError("\(signal): accepted by countItems, then \(error)")
        }
    }
    roundTrip(OTLP.ExportTraceServiceRequest.self, body)
    roundTrip(OTLP.ExportLogsServiceRequest.self, body)
    roundTrip(OTLP.ExportMetricsServiceRequest.self, body)
    roundTrip(OTLP.ExportServiceResponse.self, body)
    return 0
}
