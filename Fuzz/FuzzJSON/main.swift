// libFuzzer target: the OTLP/JSON decoder on arbitrary bytes, for all three signals. Besides
// "never crash" (depth, size and model budgets bounded), it checks that whatever JSON is accepted
// converts to protobuf the walker accepts — the receiver forwards exactly those bytes — and that
// the JSON error responses are well-formed for any message. The same reader's `JSONValue` tree (the
// Kubernetes client's) must round-trip: what it parses, its encoding parses back to an equal value.
// Build and run: scripts/fuzz json <seconds>.
import OTLPJSON
import OTLPWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let json = Array(UnsafeBufferPointer(start: data, count: size))
    for signal in Signal.allCases {
        do {
            let body = try OTLPJSON.decodeRequest(signal: signal, json: json)
            // The default depth limits agree: what the JSON decoder accepts, the walker accepts.
            do {
                _ = try OTLPWalker.countItems(signal: signal, body: body)
            } catch {
                fatalError("\(signal): JSON accepted, protobuf rejected: \(error)")
            }
        } catch {
            // The error must render (offset, path, reason) and fit in a JSON status message.
            let status = OTLPJSON.encodeStatus(code: 3, message: error.description)
            precondition(status.first == UInt8(ascii: "{") && status.last == UInt8(ascii: "}"))
        }
    }
    if let tree = try? JSONValue.parse(json) {
        guard let again = try? JSONValue.parse(tree.encoded()), again == tree else {
            fatalError("JSONValue: the encoding of an accepted value does not parse back to it")
        }
    }
    return 0
}
